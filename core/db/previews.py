"""Stored previews ("snapshots") and their records, paged and searched by SQL.

A snapshot is of one connector's one entity (``connector_id``, ``entity_type``); its
``sync_type`` is the connector's source, kept for display and filtering."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from core.db.models import PreviewCache, PreviewRecord
from core.db.scope import OrgScope, current_org, org_scope
from core.db.tenancy import ORG_KEY
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


def _insert_records(session: Session, scope: OrgScope, rows: list[dict[str, Any]]) -> None:
    """Insert a chunk of a snapshot's records, each of ``scope``'s organization. A Core
    insert: the ORM's bulk insert spends as much again on bookkeeping per row that these
    plain rows do not need (a third of storing a snapshot of 1,000 records)."""
    for row in rows:
        row[ORG_KEY] = scope.org_id
    session.execute(insert(cast(Table, PreviewRecord.__table__)), rows)


class SnapshotRows:
    """SQL over the session organization's snapshots and their records."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- snapshots -------------------------------------------------------------------------

    def latest(
        self, connector_id: int, entity_type: str, status: str | None = "ready"
    ) -> PreviewCache | None:
        """The newest snapshot of that status (any status when None)."""
        stmt = select(PreviewCache).where(
            PreviewCache.connector_id == connector_id, PreviewCache.entity_type == entity_type
        )
        if status is not None:
            stmt = stmt.where(PreviewCache.status == status)
        return self.session.scalars(stmt.order_by(PreviewCache.id.desc()).limit(1)).first()

    def newest_ready(self, connector_id: int, entity_type: str, n: int = 2) -> list[PreviewCache]:
        """The ``n`` newest ready snapshots, newest first (the served one and the one before)."""
        stmt = (
            select(PreviewCache)
            .where(
                PreviewCache.connector_id == connector_id,
                PreviewCache.entity_type == entity_type,
                PreviewCache.status == "ready",
            )
            .order_by(PreviewCache.id.desc())
            .limit(n)
        )
        return list(self.session.scalars(stmt))

    def failed_after(self, snapshot: PreviewCache) -> PreviewCache | None:
        """The newest failed refresh after ``snapshot`` (its error is shown beside it)."""
        stmt = (
            select(PreviewCache)
            .where(
                PreviewCache.connector_id == snapshot.connector_id,
                PreviewCache.entity_type == snapshot.entity_type,
                PreviewCache.status == "failed",
                PreviewCache.id > snapshot.id,
            )
            .order_by(PreviewCache.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def add_ready(
        self,
        *,
        connector_id: int,
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
        scope: Mapping[str, Any] | None = None,
    ) -> PreviewCache:
        """Store a computed snapshot and its records in the current transaction; ``scope``
        says what the refresh read (``{"not_compared": [...], "notes": [...]}``)."""
        snap = self._add(
            (connector_id, sync_type, entity_type, "ready"),
            (hash_version, duration_ms, created_by),
            counts=dict(counts),
            duplicates_collapsed=duplicates_collapsed,
            computed_at=computed_at,
            expires_at=expires_at,
            scope=dict(scope) if scope else None,
        )
        scope_of_rows = org_scope(self.session)
        batch: list[dict[str, Any]] = []
        positions = dict.fromkeys(KINDS, 0)
        for rec in records:
            batch.append(
                {
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
                _insert_records(self.session, scope_of_rows, batch)
                batch = []
        if batch:
            _insert_records(self.session, scope_of_rows, batch)
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
        connector_id: int,
        sync_type: str,
        entity_type: str,
        at: datetime,
        hash_version: int,
        duration_ms: int,
        error: str,
        created_by: str | None,
    ) -> PreviewCache:
        """Record a failed refresh; the last good snapshot is left as it is."""
        return self._add(
            (connector_id, sync_type, entity_type, "failed"),
            (hash_version, duration_ms, created_by),
            counts={},
            computed_at=at,
            expires_at=None,
            error=error,
        )

    def _add(
        self,
        which: tuple[int, str, str, str],
        how: tuple[int, int, str | None],
        **rest: Any,
    ) -> PreviewCache:
        """A new snapshot row: which (connector, source, entity, status), how (hash version,
        duration, who) and the rest."""
        connector_id, sync_type, entity_type, status = which
        hash_version, duration_ms, created_by = how
        snap = PreviewCache(
            org_id=current_org(self.session),
            connector_id=connector_id,
            sync_type=sync_type,
            entity_type=entity_type,
            status=status,
            hash_version=hash_version,
            duration_ms=duration_ms,
            created_by=created_by,
            **rest,
        )
        self.session.add(snap)
        self.session.flush()
        return snap

    def invalidate(
        self,
        now: datetime,
        sync_type: str | None = None,
        entity_type: str | None = None,
        connector_id: int | None = None,
    ) -> int:
        """Expire the matching ready snapshots now (they stay readable as history)."""
        stmt = update(PreviewCache).where(
            PreviewCache.status == "ready", PreviewCache.expires_at > now
        )
        if connector_id is not None:
            stmt = stmt.where(PreviewCache.connector_id == connector_id)
        if sync_type:
            stmt = stmt.where(PreviewCache.sync_type == sync_type)
        if entity_type:
            stmt = stmt.where(PreviewCache.entity_type == entity_type)
        result = self.session.execute(
            stmt.values(expires_at=now).execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def prune(
        self, connector_id: int, entity_type: str, keep_ready: int = 2, keep_failed: int = 20
    ) -> None:
        """Delete old snapshots, keeping the newest few of each status (one statement; their
        records go with them by the foreign key's ON DELETE CASCADE)."""
        older = [
            PreviewCache.id.in_(
                select(PreviewCache.id)
                .where(
                    PreviewCache.connector_id == connector_id,
                    PreviewCache.entity_type == entity_type,
                    PreviewCache.status == status,
                )
                .order_by(PreviewCache.id.desc())
                .offset(keep)
            )
            for status, keep in (("ready", keep_ready), ("failed", keep_failed))
        ]
        self.session.execute(
            delete(PreviewCache).where(or_(*older)).execution_options(synchronize_session=False)
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

    def first_pages(self, cache_id: int, limit: int) -> dict[str, list[StoredRecord]]:
        """The first ``limit`` records of every kind, in one statement (positions count from 0
        within a kind)."""
        rows = self.session.scalars(
            select(PreviewRecord)
            .where(
                PreviewRecord.cache_id == cache_id,
                PreviewRecord.kind.in_(KINDS),
                PreviewRecord.position < limit,
            )
            .order_by(PreviewRecord.kind, PreviewRecord.position)
        )
        pages: dict[str, list[StoredRecord]] = {kind: [] for kind in KINDS}
        for r in rows:
            pages[r.kind].append(StoredRecord(r.kind, r.external_id, r.record, r.changes))
        return pages
