"""DeltaDetectionService: cached previews, refresh with single-flight and rate limit.

A preview ("snapshot") of one (organization, source, entity) is computed by fetching the
external records, reading the local ones, diffing them with `core.delta`, and storing the
counts and the changed records. It is served from the database until it expires. A failed
refresh is recorded beside the last good snapshot and never replaces it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.connectors import Connector, FetchProgress
from core.db.accounts import OrganizationRepo
from core.db.audit import ActivityStore
from core.db.connector_store import ConnectorSecretConfig, ConnectorStore
from core.db.local_records import LocalRecords
from core.db.models import PreviewCache
from core.db.previews import KINDS, PreviewStore, StoredRecord
from core.db.tenancy import system_session, tenant_session
from core.db.vault import Vault
from core.delta import (
    HASH_VERSION,
    CanonicalFrame,
    DeltaResult,
    DeltaStream,
    LocalIndex,
    RecordError,
    canonical_frame,
    iter_canonical_frames,
)
from core.errors import (
    BadResponse,
    InternalError,
    InvalidRequest,
    NotFoundError,
    RefreshInProgress,
    SyncPreviewError,
)
from core.services.context import UserContext, actor_name, require
from core.services.ratelimit import RefreshLimiter
from core.sources import check_entity_type
from core.sources import check_types as check_types  # the request check, importable here too
from core.sources import get as get_source

log = logging.getLogger(__name__)

FIRST_PAGE = 50
Clock = Callable[[], datetime]
ConnectorBuilder = Callable[[ConnectorSecretConfig, float | None], Connector]


@dataclass(frozen=True)
class PreviewProgress:
    """Where a refresh is: phase, a 0..1 fraction of the whole, and a sentence to show."""

    phase: str  # fetching | reading_local | comparing | storing | done
    fraction: float
    message: str


ProgressFn = Callable[[PreviewProgress], None]


@dataclass(frozen=True)
class PreviewSnapshot:
    """A preview as served: counts, the first page of each kind, cache facts, last failure."""

    snapshot_id: int
    org_id: int
    sync_type: str
    entity_type: str
    counts: dict[str, int]
    computed_at: datetime
    expires_at: datetime
    cache_hit: bool
    duration_ms: int
    duplicates_collapsed: int
    records: dict[str, list[dict[str, Any]]] = field(repr=False)
    previous_counts: dict[str, int] | None = None
    refresh_error: str | None = None
    refresh_failed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The seed's response ``data`` block (ISO-8601 UTC timestamps)."""
        return {
            "syncType": self.sync_type,
            "entityType": self.entity_type,
            "delta": {
                kind: {"count": int(self.counts.get(kind, 0)), "records": self.records[kind]}
                for kind in KINDS
            },
            "computedAt": iso(self.computed_at),
            "expiresAt": iso(self.expires_at),
            "cacheHit": self.cache_hit,
        }


@dataclass(frozen=True)
class RecordPage:
    """One page of one kind of a snapshot's records; ``total`` counts all matches."""

    kind: str
    records: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with a Z, to the second."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _stored(result: DeltaResult) -> Iterator[StoredRecord]:
    for rec in result.new:
        yield StoredRecord("new", str(rec["external_id"]), rec, None)
    for upd in result.updated:
        yield StoredRecord(
            "updated",
            upd.external_id,
            {"external_id": upd.external_id, "before": upd.before, "after": upd.after},
            [c.to_dict() for c in upd.changes],
        )
    for rec in result.deleted:
        yield StoredRecord("deleted", str(rec["external_id"]), rec, None)


def _as_output(rec: StoredRecord) -> dict[str, Any]:
    if rec.kind == "updated":
        return {**rec.record, "changes": rec.changes or []}
    return rec.record


class DeltaDetectionService:
    """The previews of every organization: served from cache, computed once at a time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        vault: Vault,
        build_connector: ConnectorBuilder,
        limiter: RefreshLimiter,
        *,
        ttl_seconds: int = 3600,
        refresh_deadline_seconds: float = 600.0,
        wait_seconds: float = 120.0,
        clock: Clock | None = None,
    ) -> None:
        from core.db.clock import utcnow

        self.sessions = sessions
        self.vault = vault
        self.build_connector = build_connector
        self.limiter = limiter
        self.ttl = timedelta(seconds=ttl_seconds)
        self.deadline_seconds = refresh_deadline_seconds
        self.wait_seconds = wait_seconds
        self.clock: Clock = clock or utcnow

    # --- the seed's contract -------------------------------------------------------------

    def get_preview_snapshot(
        self,
        org_id: int,
        sync_type: str,
        entity_type: str,
        force_refresh: bool = False,
        *,
        user: UserContext | str | None = None,
        progress: ProgressFn | None = None,
    ) -> PreviewSnapshot:
        """The preview, from cache while valid; computed when missing, expired or forced."""
        check_types(sync_type, entity_type)
        actor = user if isinstance(user, UserContext) else None
        if actor is not None and actor.org_id != org_id:
            raise NotFoundError("There is no such organization for your account.")
        if force_refresh:
            require(actor, "editor", "refresh previews")
        if not force_refresh:
            cached = self._cached(org_id, sync_type, entity_type, user)
            if cached is not None:
                return cached
        return self._refresh(org_id, sync_type, entity_type, user, progress)

    def detect_customer_delta(self, org_id: int, sync_type: str) -> PreviewSnapshot:
        """A fresh customers preview."""
        return self.get_preview_snapshot(org_id, sync_type, "customers", force_refresh=True)

    def detect_product_delta(self, org_id: int, sync_type: str) -> PreviewSnapshot:
        """A fresh products preview."""
        return self.get_preview_snapshot(org_id, sync_type, "products", force_refresh=True)

    def detect_order_delta(self, org_id: int, sync_type: str) -> PreviewSnapshot:
        """A fresh orders preview."""
        return self.get_preview_snapshot(org_id, sync_type, "orders", force_refresh=True)

    def invalidate_preview_cache(
        self,
        org_id: int,
        sync_type: str | None = None,
        entity_type: str | None = None,
        *,
        user: UserContext | str | None = None,
    ) -> int:
        """Expire cached previews of one entity, one source or the whole org; returns how many."""
        if sync_type is not None:
            get_source(sync_type)
        if entity_type is not None:
            check_entity_type(entity_type)
        with tenant_session(self.sessions, org_id) as s:
            n = PreviewStore(s).invalidate(self.clock(), sync_type, entity_type)
            ActivityStore(s).add(
                "invalidate",
                user=actor_name(user),
                sync_type=sync_type,
                entity_type=entity_type,
                details={"snapshots": n},
            )
        return n

    # --- reading -------------------------------------------------------------------------

    def latest(self, org_id: int, sync_type: str, entity_type: str) -> PreviewSnapshot | None:
        """The newest good snapshot even if expired, without computing or logging anything."""
        check_types(sync_type, entity_type)
        with tenant_session(self.sessions, org_id) as s:
            snap = PreviewStore(s).latest(sync_type, entity_type)
            return None if snap is None else self._snapshot(s, snap, cache_hit=True)

    def page_records(
        self,
        org_id: int,
        snapshot_id: int,
        kind: str,
        *,
        search: str = "",
        limit: int = FIRST_PAGE,
        offset: int = 0,
    ) -> RecordPage:
        """A page of one kind of records of a snapshot, optionally searched."""
        if kind not in KINDS:
            raise InvalidRequest(f"Invalid kind. Must be one of: {', '.join(KINDS)}")
        limit = max(1, min(int(limit), 1000))
        offset = max(0, int(offset))
        with tenant_session(self.sessions, org_id) as s:
            snap = s.get(PreviewCache, snapshot_id)
            if snap is None or snap.org_id != org_id:
                raise NotFoundError("That preview no longer exists; open the preview again.")
            rows, total = PreviewStore(s).page(
                snapshot_id, kind, search=search, limit=limit, offset=offset
            )
            if total is None:
                total = int(snap.counts.get(kind, 0))
        return RecordPage(kind, [_as_output(r) for r in rows], total, offset, limit)

    def is_running(self, org_id: int, sync_type: str, entity_type: str) -> bool:
        """True while some process computes this preview."""
        with tenant_session(self.sessions, org_id) as s:
            return PreviewStore(s).lock_held(sync_type, entity_type, self.clock())

    # --- internals -----------------------------------------------------------------------

    def _check_organization(self, org_id: int) -> None:
        """NotFoundError unless the organization exists."""
        with system_session(self.sessions) as s:
            OrganizationRepo(s).get(org_id)

    def _snapshot(self, s: Session, snap: PreviewCache, *, cache_hit: bool) -> PreviewSnapshot:
        store = PreviewStore(s)
        records = {
            k: [_as_output(r) for r in store.page(snap.id, k, limit=FIRST_PAGE)[0]] for k in KINDS
        }
        previous = store.previous_ready(snap)
        failed = store.latest(snap.sync_type, snap.entity_type, status="failed")
        failed_after = failed is not None and failed.id > snap.id
        assert snap.expires_at is not None
        return PreviewSnapshot(
            snapshot_id=snap.id,
            org_id=snap.org_id,
            sync_type=snap.sync_type,
            entity_type=snap.entity_type,
            counts={k: int(v) for k, v in snap.counts.items()},
            computed_at=snap.computed_at,
            expires_at=snap.expires_at,
            cache_hit=cache_hit,
            duration_ms=snap.duration_ms,
            duplicates_collapsed=snap.duplicates_collapsed,
            records=records,
            previous_counts=None
            if previous is None
            else {k: int(v) for k, v in previous.counts.items()},
            refresh_error=failed.error if failed_after and failed else None,
            refresh_failed_at=failed.computed_at if failed_after and failed else None,
        )

    def _cached(
        self, org_id: int, sync_type: str, entity_type: str, user: UserContext | str | None
    ) -> PreviewSnapshot | None:
        with tenant_session(self.sessions, org_id) as s:
            snap = PreviewStore(s).latest(sync_type, entity_type)
            if snap is None or snap.hash_version != HASH_VERSION:
                return None
            assert snap.expires_at is not None
            if snap.expires_at <= self.clock():
                return None
            result = self._snapshot(s, snap, cache_hit=True)
            ActivityStore(s).add(
                "view",
                user=actor_name(user),
                sync_type=sync_type,
                entity_type=entity_type,
                counts=result.counts,
                cache_hit=True,
                duration_ms=0,
            )
            return result

    def _refresh(
        self,
        org_id: int,
        sync_type: str,
        entity_type: str,
        user: UserContext | str | None,
        progress: ProgressFn | None,
        attempts: int = 3,
    ) -> PreviewSnapshot:
        holder = uuid.uuid4().hex
        started = self.clock()
        lease = timedelta(seconds=self.deadline_seconds + 60)
        with tenant_session(self.sessions, org_id) as s:
            got = PreviewStore(s).try_lock(sync_type, entity_type, holder, started, lease)
        if not got:
            if not self.is_running(org_id, sync_type, entity_type):
                self._check_organization(org_id)  # no lock row could be written
            return self._wait_for_other(
                org_id, sync_type, entity_type, started, user, progress, attempts
            )
        try:
            self.limiter.acquire(org_id)
            return self._compute(org_id, sync_type, entity_type, user, progress)
        finally:
            with tenant_session(self.sessions, org_id) as s:
                PreviewStore(s).unlock(sync_type, entity_type, holder)

    def _wait_for_other(
        self,
        org_id: int,
        sync_type: str,
        entity_type: str,
        started: datetime,
        user: UserContext | str | None,
        progress: ProgressFn | None,
        attempts: int,
    ) -> PreviewSnapshot:
        """Another caller computes this preview: wait for its result instead of computing."""
        if progress:
            progress(PreviewProgress("waiting", 0.0, "Another refresh of this preview is running…"))
        until = time.monotonic() + self.wait_seconds
        while time.monotonic() < until:
            time.sleep(0.1)
            if self.is_running(org_id, sync_type, entity_type):
                continue
            with tenant_session(self.sessions, org_id) as s:
                store = PreviewStore(s)
                snap = store.latest(sync_type, entity_type, status=None)
                if snap is not None and snap.computed_at >= started - timedelta(seconds=1):
                    if snap.status == "failed":
                        good = store.latest(sync_type, entity_type)
                        if good is None:
                            raise SyncPreviewError(snap.error or "The refresh failed.")
                        return self._snapshot(s, good, cache_hit=True)
                    return self._snapshot(s, snap, cache_hit=True)
            # the other computation ended without a result: compute ourselves
            if attempts > 1:
                return self._refresh(org_id, sync_type, entity_type, user, progress, attempts - 1)
            break
        raise RefreshInProgress(
            "This preview is being refreshed by someone else and it is taking long. "
            "Try again in a minute."
        )

    def _compute(
        self,
        org_id: int,
        sync_type: str,
        entity_type: str,
        user: UserContext | str | None,
        progress: ProgressFn | None,
    ) -> PreviewSnapshot:
        report = progress or (lambda _p: None)
        t0 = time.monotonic()
        try:
            with tenant_session(self.sessions, org_id) as s:
                config = ConnectorStore(s, self.vault).first_of_type(sync_type)
            deadline = t0 + self.deadline_seconds
            connector = self.build_connector(config, deadline)
            # The local side is indexed while the external pages are on their way; the pages
            # are diffed as they come, keeping only what changed (DESIGN §2.5).
            stream = DeltaStream(entity_type)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-read") as pool:
                local_job = pool.submit(self._local_index, stream, org_id, sync_type, entity_type)
                try:
                    report(
                        PreviewProgress(
                            "fetching", 0.0, f"Fetching {entity_type} from {config.name}…"
                        )
                    )

                    def on_page(p: FetchProgress) -> None:
                        total = p.pages_total or 0
                        frac = 0.8 * (p.pages_done / total) if total else 0.0
                        of = f" of {total}" if total else ""
                        report(
                            PreviewProgress(
                                "fetching",
                                min(frac, 0.8),
                                f"Fetching {entity_type}: page {p.pages_done}{of} "
                                f"({p.records_done:,} records)",
                            )
                        )

                    pages = connector.iter_pages(entity_type, progress=on_page)
                    for chunk in iter_canonical_frames(sync_type, entity_type, pages):
                        stream.add_external(chunk)
                        if not stream.has_local and local_job.done():
                            stream.use_local(local_job.result())
                finally:
                    connector.close()
                if not stream.has_local:
                    if not local_job.done():
                        report(
                            PreviewProgress("reading_local", 0.82, f"Reading local {entity_type}…")
                        )
                    stream.use_local(local_job.result())
            report(PreviewProgress("comparing", 0.88, "Comparing records…"))
            result = stream.finish(
                self._local_rows(org_id, sync_type, entity_type, stream.local_ids_needed())
            )
        except RecordError as err:  # a record the engine cannot read: the source's or ours
            failure = (InvalidRequest if err.local else BadResponse)(str(err))
            return self._record_failure(org_id, sync_type, entity_type, user, failure, t0)
        except SyncPreviewError as err:
            return self._record_failure(org_id, sync_type, entity_type, user, err, t0)
        except Exception:  # a bug or an unexpected library error: keep the good data
            reference = uuid.uuid4().hex[:12]
            log.exception(
                "preview refresh failed unexpectedly (%s/%s, org %s), reference %s",
                sync_type,
                entity_type,
                org_id,
                reference,
            )
            internal = InternalError("The refresh", reference)
            return self._record_failure(org_id, sync_type, entity_type, user, internal, t0)

        report(
            PreviewProgress(
                "storing",
                0.92,
                f"Saving {sum(result.counts.values()) - result.counts['unchanged']:,} changes…",
            )
        )
        now = self.clock()
        duration_ms = int((time.monotonic() - t0) * 1000)
        with tenant_session(self.sessions, org_id) as s:
            store = PreviewStore(s)
            snap = store.add_ready(
                sync_type=sync_type,
                entity_type=entity_type,
                counts=result.counts,
                duplicates_collapsed=result.duplicates_collapsed,
                computed_at=now,
                expires_at=now + self.ttl,
                hash_version=HASH_VERSION,
                duration_ms=duration_ms,
                created_by=actor_name(user),
                records=_stored(result),
            )
            ActivityStore(s).add(
                "refresh",
                user=actor_name(user),
                sync_type=sync_type,
                entity_type=entity_type,
                counts=result.counts,
                cache_hit=False,
                duration_ms=duration_ms,
                details={"duplicates_collapsed": result.duplicates_collapsed},
                at=now,
            )
            store.prune(sync_type, entity_type)
            out = self._snapshot(s, snap, cache_hit=False)
        report(PreviewProgress("done", 1.0, "Preview is up to date."))
        return out

    def _local_index(
        self, stream: DeltaStream, org_id: int, sync_type: str, entity_type: str
    ) -> LocalIndex:
        """Key and fingerprint of the organization's local records of this source."""
        with tenant_session(self.sessions, org_id) as s:
            raw = LocalRecords(s).iter_frames(sync_type, entity_type)
            return stream.index_local(canonical_frame("local", entity_type, f) for f in raw)

    def _local_rows(
        self, org_id: int, sync_type: str, entity_type: str, ids: list[str]
    ) -> CanonicalFrame:
        """The local records with these external ids, canonical and columnar."""
        with tenant_session(self.sessions, org_id) as s:
            raw = LocalRecords(s).load_frame(sync_type, entity_type, ids=ids)
        return canonical_frame("local", entity_type, raw)

    def _record_failure(
        self,
        org_id: int,
        sync_type: str,
        entity_type: str,
        user: UserContext | str | None,
        err: SyncPreviewError,
        t0: float,
    ) -> PreviewSnapshot:
        """Log the failure beside the last good snapshot; return that, or raise if none."""
        now = self.clock()
        duration_ms = int((time.monotonic() - t0) * 1000)
        message = str(err)
        details: dict[str, Any] = {"error_type": type(err).__name__}
        if isinstance(err, InternalError):
            details["reference"] = err.reference
        with tenant_session(self.sessions, org_id) as s:
            PreviewStore(s).add_failed(
                sync_type=sync_type,
                entity_type=entity_type,
                at=now,
                hash_version=HASH_VERSION,
                duration_ms=duration_ms,
                error=message,
                created_by=actor_name(user),
            )
            ActivityStore(s).add(
                "refresh",
                user=actor_name(user),
                sync_type=sync_type,
                entity_type=entity_type,
                cache_hit=False,
                duration_ms=duration_ms,
                status="failed",
                error=message,
                details=details,
                at=now,
            )
        with tenant_session(self.sessions, org_id) as s:
            good = PreviewStore(s).latest(sync_type, entity_type)
            if good is not None:
                return self._snapshot(s, good, cache_hit=True)
        raise err
