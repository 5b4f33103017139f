"""Stored previews: snapshots, their records (paged and searched by SQL), the single-flight lock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db.models import PreviewCache, PreviewLock, PreviewRecord
from core.db.scope import current_org
from core.delta import CHANGE_KINDS

KINDS = CHANGE_KINDS
SEARCH_FIELDS = ("email", "name", "sku", "number", "customer_email")
CHUNK = 1_000  # rows per INSERT: bounds the memory of serialized records
ANALYZE_AFTER = 5_000


@dataclass(frozen=True)
class StoredRecord:
    """One record of a snapshot as stored: the canonical record, or before/after + changes."""

    kind: str
    external_id: str
    record: dict[str, Any]
    changes: list[dict[str, Any]] | None


def _search_text(record: Mapping[str, Any]) -> str:
    source = record.get("after", record)
    parts = [str(source.get(f) or "") for f in SEARCH_FIELDS]
    return " ".join(p for p in parts if p).lower()


class PreviewStore:
    """Snapshots of the session organization's previews."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- snapshots -------------------------------------------------------------------------

    def latest(
        self, sync_type: str, entity_type: str, status: str | None = "ready"
    ) -> PreviewCache | None:
        """The newest snapshot of that status (any status when None)."""
        stmt = select(PreviewCache).where(
            PreviewCache.sync_type == sync_type, PreviewCache.entity_type == entity_type
        )
        if status is not None:
            stmt = stmt.where(PreviewCache.status == status)
        return self.session.scalars(stmt.order_by(PreviewCache.id.desc()).limit(1)).first()

    def previous_ready(self, snapshot: PreviewCache) -> PreviewCache | None:
        """The ready snapshot computed before ``snapshot`` (for "change since last time")."""
        stmt = (
            select(PreviewCache)
            .where(
                PreviewCache.sync_type == snapshot.sync_type,
                PreviewCache.entity_type == snapshot.entity_type,
                PreviewCache.status == "ready",
                PreviewCache.id < snapshot.id,
            )
            .order_by(PreviewCache.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def add_ready(
        self,
        *,
        sync_type: str,
        entity_type: str,
        counts: Mapping[str, int],
        duplicates_collapsed: int,
        computed_at: datetime,
        expires_at: datetime,
        hash_version: int,
        duration_ms: int,
        created_by: str | None,
        records: Iterable[StoredRecord],
    ) -> PreviewCache:
        """Store a computed snapshot and its records in the current transaction."""
        snap = PreviewCache(
            org_id=current_org(self.session),
            sync_type=sync_type,
            entity_type=entity_type,
            status="ready",
            counts=dict(counts),
            duplicates_collapsed=duplicates_collapsed,
            computed_at=computed_at,
            expires_at=expires_at,
            hash_version=hash_version,
            duration_ms=duration_ms,
            created_by=created_by,
        )
        self.session.add(snap)
        self.session.flush()
        org_id = snap.org_id
        batch: list[dict[str, Any]] = []
        positions = dict.fromkeys(KINDS, 0)
        for rec in records:
            batch.append(
                {
                    "org_id": org_id,
                    "cache_id": snap.id,
                    "kind": rec.kind,
                    "position": positions[rec.kind],
                    "external_id": rec.external_id,
                    "search_text": _search_text(rec.record),
                    "record": rec.record,
                    "changes": rec.changes,
                }
            )
            positions[rec.kind] += 1
            if len(batch) >= CHUNK:
                self.session.execute(insert(PreviewRecord), batch)
                batch = []
        if batch:
            self.session.execute(insert(PreviewRecord), batch)
        if (
            sum(positions.values()) >= ANALYZE_AFTER
            and self.session.get_bind().dialect.name == "postgresql"
        ):
            # fresh statistics, or the planner guesses "3 rows" and sorts the whole snapshot
            self.session.execute(text("ANALYZE sync_preview_record"))
        return snap

    def add_failed(
        self,
        *,
        sync_type: str,
        entity_type: str,
        at: datetime,
        hash_version: int,
        duration_ms: int,
        error: str,
        created_by: str | None,
    ) -> PreviewCache:
        """Record a failed refresh; the last good snapshot is left as it is."""
        snap = PreviewCache(
            org_id=current_org(self.session),
            sync_type=sync_type,
            entity_type=entity_type,
            status="failed",
            counts={},
            computed_at=at,
            expires_at=None,
            hash_version=hash_version,
            duration_ms=duration_ms,
            error=error,
            created_by=created_by,
        )
        self.session.add(snap)
        self.session.flush()
        return snap

    def invalidate(
        self, now: datetime, sync_type: str | None = None, entity_type: str | None = None
    ) -> int:
        """Expire the matching ready snapshots now (they stay readable as history)."""
        stmt = update(PreviewCache).where(
            PreviewCache.status == "ready", PreviewCache.expires_at > now
        )
        if sync_type:
            stmt = stmt.where(PreviewCache.sync_type == sync_type)
        if entity_type:
            stmt = stmt.where(PreviewCache.entity_type == entity_type)
        result = self.session.execute(
            stmt.values(expires_at=now).execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def prune(
        self, sync_type: str, entity_type: str, keep_ready: int = 2, keep_failed: int = 20
    ) -> None:
        """Delete old snapshots (and their records), keeping the newest few of each status."""
        for status, keep in (("ready", keep_ready), ("failed", keep_failed)):
            old_ids = self.session.scalars(
                select(PreviewCache.id)
                .where(
                    PreviewCache.sync_type == sync_type,
                    PreviewCache.entity_type == entity_type,
                    PreviewCache.status == status,
                )
                .order_by(PreviewCache.id.desc())
                .offset(keep)
            ).all()
            if old_ids:
                self.session.execute(
                    delete(PreviewRecord)
                    .where(PreviewRecord.cache_id.in_(old_ids))
                    .execution_options(synchronize_session=False)
                )
                self.session.execute(
                    delete(PreviewCache)
                    .where(PreviewCache.id.in_(old_ids))
                    .execution_options(synchronize_session=False)
                )

    # --- records ---------------------------------------------------------------------------

    def page(
        self, cache_id: int, kind: str, *, search: str = "", limit: int = 50, offset: int = 0
    ) -> tuple[list[StoredRecord], int | None]:
        """One page of a snapshot's records of ``kind``; the total only when searching."""
        stmt = select(PreviewRecord).where(
            PreviewRecord.cache_id == cache_id, PreviewRecord.kind == kind
        )
        total: int | None = None
        if search.strip():
            term = search.strip().lower()
            for ch in ("\\", "%", "_"):
                term = term.replace(ch, "\\" + ch)
            pattern = f"%{term}%"
            stmt = stmt.where(PreviewRecord.search_text.like(pattern, escape="\\"))
            total = int(self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = self.session.scalars(
            stmt.order_by(PreviewRecord.position).limit(limit).offset(offset)
        ).all()
        return [StoredRecord(r.kind, r.external_id, r.record, r.changes) for r in rows], total

    # --- single-flight lock ----------------------------------------------------------------

    def try_lock(
        self, sync_type: str, entity_type: str, holder: str, now: datetime, lease: timedelta
    ) -> bool:
        """Take the computation lock (in its own committed transaction); False when held."""
        org_id = current_org(self.session)
        self.session.execute(
            delete(PreviewLock)
            .where(
                PreviewLock.sync_type == sync_type,
                PreviewLock.entity_type == entity_type,
                PreviewLock.lease_until < now,
            )
            .execution_options(synchronize_session=False)
        )
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(PreviewLock).values(
                        org_id=org_id,
                        sync_type=sync_type,
                        entity_type=entity_type,
                        holder=holder,
                        acquired_at=now,
                        lease_until=now + lease,
                    )
                )
        except IntegrityError:
            return False
        return True

    def unlock(self, sync_type: str, entity_type: str, holder: str) -> None:
        self.session.execute(
            delete(PreviewLock)
            .where(
                PreviewLock.sync_type == sync_type,
                PreviewLock.entity_type == entity_type,
                PreviewLock.holder == holder,
            )
            .execution_options(synchronize_session=False)
        )

    def lock_held(self, sync_type: str, entity_type: str, now: datetime) -> bool:
        """True while an unexpired computation lock exists."""
        stmt = select(func.count(PreviewLock.id)).where(
            PreviewLock.sync_type == sync_type,
            PreviewLock.entity_type == entity_type,
            PreviewLock.lease_until >= now,
        )
        return bool(self.session.scalar(stmt))
