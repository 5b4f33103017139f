"""The snapshot store: stored previews as they are served (cache reads, paging), and storing
what a refresh computed or why it failed, each with its activity event in one transaction.

A *snapshot* is one stored preview of one connector's one entity: the counts, the changed
records, when it was computed and until when it is served from the cache. A failed refresh is
stored beside the last good snapshot and never replaces it. Each connector has its own
snapshots, so two stores of one source never share (or overwrite) a preview. A failure that
cannot be stored because our database does not answer is kept in memory and stored with the
next write of that organization's previews, once the database answers again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.db.connector_store import ConnectorIdentity
from core.db.leases import Abandoned
from core.db.models import PreviewCache
from core.db.previews import KINDS, SnapshotRows, StoredRecord
from core.db.tenancy import tenant_session
from core.delta import HASH_VERSION, DeltaResult
from core.errors import InternalError, InvalidRequest, NotFoundError, StoreError, SyncPreviewError
from core.services.actors import Actor
from core.services.events import (
    PreviewRefreshed,
    PreviewsExpired,
    PreviewViewed,
    RefreshAbandoned,
    RefreshFailed,
    record,
)

log = logging.getLogger(__name__)

#: Records of each kind that come with a served snapshot (more: ``page``).
FIRST_PAGE = 50
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class PreviewKey:
    """Which preview: one entity of one connector of one organization (``sync_type`` is the
    connector's source)."""

    org_id: int
    connector_id: int
    sync_type: str
    entity_type: str


@dataclass(frozen=True)
class PreviewSnapshot:
    """A preview as served: counts, the first page of each kind, cache facts, last failure."""

    snapshot_id: int
    org_id: int
    connector_id: int
    connector_name: str
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
    #: fields this preview did not compare (the source does not have them), and what its
    #: connector said of the read ("Odoo companies read: …")
    not_compared: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: Said once, by the refresh that gave this snapshot: it replaced an abandoned refresh.
    refresh_notice: str | None = None
    #: Where the local side came from, when not our own tables as they are: ``kind``
    #: ("database" or "file"), ``match`` ("id" or "natural"), ``key`` (the natural key's
    #: field), ``compared`` (fields), ``ambiguous`` (count) with ``ambiguous_records``
    #: (key, reason, store ids, local rows), ``without_key`` (local rows that cannot match).
    local: dict[str, Any] | None = None
    #: The error of the refresh that just failed and returned this snapshot (not stored):
    #: whoever ran it decides from it whether to try again (``err.transient``).
    refresh_failure: SyncPreviewError | None = field(default=None, repr=False, compare=False)

    @property
    def ambiguous(self) -> int:
        """How many keys could not be matched (natural-key matching only)."""
        return int((self.local or {}).get("ambiguous", 0))


@dataclass(frozen=True)
class ReadFacts:
    """What a refresh read beside the records: fields not compared, the connector's notes,
    and where the local side came from (``local``: kind, how records matched, the fields
    compared, the ambiguous keys listed apart)."""

    not_compared: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    local: dict[str, Any] | None = None

    def stored(self) -> dict[str, Any] | None:
        """The snapshot's ``scope`` column (None when there is nothing to say)."""
        if not self.not_compared and not self.notes and not self.local:
            return None
        out: dict[str, Any] = {"not_compared": list(self.not_compared), "notes": list(self.notes)}
        if self.local:
            out["local"] = self.local
        return out

    @classmethod
    def of(cls, row: PreviewCache) -> ReadFacts:
        """What a stored snapshot says it read."""
        scope = row.scope or {}
        local = scope.get("local")
        return cls(
            tuple(str(f) for f in scope.get("not_compared") or ()),
            tuple(str(n) for n in scope.get("notes") or ()),
            dict(local) if isinstance(local, dict) else None,
        )


@dataclass(frozen=True)
class _Failure:
    """A failed refresh as the snapshot store records it (a failed row and its event)."""

    key: PreviewKey
    by: str | None
    at: datetime
    duration_ms: int
    message: str
    error_type: str
    reference: str | None = None


@dataclass(frozen=True)
class PageWanted:
    """Which page of a snapshot's records: one kind, matching ``search``, from ``offset``."""

    kind: str
    search: str
    limit: int
    offset: int

    @classmethod
    def checked(cls, kind: str, search: str, limit: int, offset: int) -> PageWanted:
        """A known kind, at most 1,000 records, from a non-negative offset."""
        if kind not in KINDS:
            raise InvalidRequest(f"Invalid kind. Must be one of: {', '.join(KINDS)}")
        return cls(kind, search, max(1, min(int(limit), 1000)), max(0, int(offset)))


@dataclass(frozen=True)
class RecordPage:
    """One page of one kind of a snapshot's records; ``total`` counts all matches."""

    kind: str
    records: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


def stored_records(result: DeltaResult) -> Iterator[StoredRecord]:
    """A diff's new, updated and deleted records as the rows of a snapshot."""
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


def _counts(row: PreviewCache) -> dict[str, int]:
    return {k: int(v) for k, v in row.counts.items()}


def _served(
    ready: Sequence[PreviewCache],
    pages: dict[str, list[StoredRecord]],
    *,
    cache_hit: bool,
    failed: PreviewCache | None = None,
) -> PreviewSnapshot:
    """The snapshot ``ready[0]`` as served; ``ready[1]``, when there, is the one before it."""
    snap = ready[0]
    assert snap.expires_at is not None
    facts = ReadFacts.of(snap)
    return PreviewSnapshot(
        snapshot_id=snap.id,
        org_id=snap.org_id,
        connector_id=snap.connector_id,
        connector_name=snap.connector.name,
        sync_type=snap.sync_type,
        entity_type=snap.entity_type,
        counts=_counts(snap),
        computed_at=snap.computed_at,
        expires_at=snap.expires_at,
        cache_hit=cache_hit,
        duration_ms=snap.duration_ms,
        duplicates_collapsed=snap.duplicates_collapsed,
        records={k: [_as_output(r) for r in pages[k]] for k in KINDS},
        previous_counts=_counts(ready[1]) if len(ready) > 1 else None,
        refresh_error=failed.error if failed else None,
        refresh_failed_at=failed.computed_at if failed else None,
        not_compared=facts.not_compared,
        notes=facts.notes,
        local=facts.local,
    )


def _failed_row(
    s: Session, key: PreviewKey, at: datetime, duration_ms: int, error: str, by: str | None
) -> PreviewCache:
    """A failed refresh's row beside the good snapshots of its preview."""
    return SnapshotRows(s).add_failed(
        connector_id=key.connector_id,
        sync_type=key.sync_type,
        entity_type=key.entity_type,
        at=at,
        hash_version=HASH_VERSION,
        duration_ms=duration_ms,
        error=error,
        created_by=by,
    )


def _write_failure(s: Session, failure: _Failure) -> None:
    """The failed row beside the good snapshots, and its activity event."""
    key = failure.key
    failed = _failed_row(s, key, failure.at, failure.duration_ms, failure.message, failure.by)
    event = RefreshFailed(
        connector_id=key.connector_id,
        connector=failed.connector.name,
        sync_type=key.sync_type,
        entity_type=key.entity_type,
        duration_ms=failure.duration_ms,
        error=failure.message,
        error_type=failure.error_type,
        reference=failure.reference,
    )
    record(s, event, by=failure.by, at=failure.at)


def abandoned_message(abandoned: Abandoned) -> str:
    """What users read about a refresh that stopped without finishing."""
    who = f" by {abandoned.started_by}" if abandoned.started_by else ""
    return (
        f"A refresh started{who} at {abandoned.started_at:%Y-%m-%d %H:%M:%S} UTC stopped "
        "without finishing (its process ended or lost our database); it was started again."
    )


def _read(rows: SnapshotRows, ready: Sequence[PreviewCache], *, cache_hit: bool) -> PreviewSnapshot:
    """The snapshot ``ready[0]`` as served, read from the database."""
    return _served(
        ready,
        rows.first_pages(ready[0].id, FIRST_PAGE),
        cache_hit=cache_hit,
        failed=rows.failed_after(ready[0]),
    )


class SnapshotStore:
    """Reads and writes the snapshots of every organization's previews."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, ttl: timedelta) -> None:
        self.sessions = sessions
        self.clock = clock
        self.ttl = ttl
        self._pending: list[_Failure] = []
        self._pending_lock = threading.Lock()

    @contextmanager
    def _writing(self, org_id: int) -> Iterator[Session]:
        """A transaction of ``org_id`` that first stores its failures kept while our
        database did not answer."""
        with self._pending_lock:
            pending = [f for f in self._pending if f.key.org_id == org_id]
        with tenant_session(self.sessions, org_id) as s:
            for failure in pending:
                _write_failure(s, failure)
            yield s
        if pending:
            with self._pending_lock:
                self._pending = [f for f in self._pending if f not in pending]
            log.info("stored %d refresh failure(s) kept while the database was down", len(pending))

    @property
    def pending_failures(self) -> int:
        """How many failed refreshes wait for our database to answer again."""
        with self._pending_lock:
            return len(self._pending)

    # --- reading ----------------------------------------------------------------------------

    def fresh(self, actor: Actor, key: PreviewKey) -> PreviewSnapshot | None:
        """The cached preview while it is valid (logged as a view), else None."""
        with self._writing(key.org_id) as s:
            rows = SnapshotRows(s)
            ready = rows.newest_ready(key.connector_id, key.entity_type)
            if not ready or ready[0].hash_version != HASH_VERSION:
                return None
            assert ready[0].expires_at is not None
            if ready[0].expires_at <= self.clock():
                return None
            snap = _read(rows, ready, cache_hit=True)
            event = PreviewViewed(
                connector_id=key.connector_id,
                connector=snap.connector_name,
                sync_type=key.sync_type,
                entity_type=key.entity_type,
                counts=snap.counts,
            )
            record(s, event, by=actor.log_name)
            return snap

    def latest(self, key: PreviewKey) -> PreviewSnapshot | None:
        """The newest good snapshot even if expired, without computing or logging anything."""
        with tenant_session(self.sessions, key.org_id) as s:
            rows = SnapshotRows(s)
            ready = rows.newest_ready(key.connector_id, key.entity_type)
            return _read(rows, ready, cache_hit=True) if ready else None

    def outcome_since(self, key: PreviewKey, since: datetime) -> PreviewSnapshot | None:
        """What a refresh that ended after ``since`` left: its snapshot, or the last good one
        beside its failure; None when no refresh ended since. Raises the failure's message
        when there is no good snapshot at all."""
        with tenant_session(self.sessions, key.org_id) as s:
            rows = SnapshotRows(s)
            last = rows.latest(key.connector_id, key.entity_type, status=None)
            if last is None or last.computed_at < since:
                return None
            ready = rows.newest_ready(key.connector_id, key.entity_type)
            if not ready:
                raise SyncPreviewError(last.error or "The refresh failed.")
            return _read(rows, ready, cache_hit=True)

    def page(self, org_id: int, snapshot_id: int, want: PageWanted) -> RecordPage:
        """A page of one kind of records of a snapshot, optionally searched."""
        kind, search, limit, offset = want.kind, want.search, want.limit, want.offset
        with tenant_session(self.sessions, org_id) as s:
            snap = s.get(PreviewCache, snapshot_id)
            if snap is None or snap.org_id != org_id:
                raise NotFoundError("That preview no longer exists; open the preview again.")
            found, total = SnapshotRows(s).page(
                snapshot_id, kind, search=search, limit=limit, offset=offset
            )
            if total is None:
                total = int(snap.counts.get(kind, 0))
        return RecordPage(kind, [_as_output(r) for r in found], total, offset, limit)

    # --- writing ----------------------------------------------------------------------------

    def store_ready(
        self,
        actor: Actor,
        key: PreviewKey,
        result: DeltaResult,
        duration_ms: int,
        notes: tuple[str, ...] = (),
        local: dict[str, Any] | None = None,
    ) -> PreviewSnapshot:
        """Store what a refresh computed, log it and drop old snapshots; served as computed
        (the first page of each kind is kept from the result, not read back). ``notes``: what
        the connector said of its read."""
        now = self.clock()
        first: dict[str, list[StoredRecord]] = {k: [] for k in KINDS}

        def keeping_first_pages(records: Iterable[StoredRecord]) -> Iterator[StoredRecord]:
            for rec in records:
                if len(first[rec.kind]) < FIRST_PAGE:
                    first[rec.kind].append(rec)
                yield rec

        with self._writing(key.org_id) as s:
            rows = SnapshotRows(s)
            before = rows.newest_ready(key.connector_id, key.entity_type, n=1)
            snap = rows.add_ready(
                connector_id=key.connector_id,
                sync_type=key.sync_type,
                entity_type=key.entity_type,
                counts=result.counts,
                duplicates_collapsed=result.duplicates_collapsed,
                computed_at=now,
                expires_at=now + self.ttl,
                hash_version=HASH_VERSION,
                duration_ms=duration_ms,
                created_by=actor.log_name,
                records=keeping_first_pages(stored_records(result)),
                scope=ReadFacts(result.not_compared, notes, local).stored(),
            )
            served = _served([snap, *before], first, cache_hit=False)
            event = PreviewRefreshed(
                connector_id=key.connector_id,
                connector=served.connector_name,
                sync_type=key.sync_type,
                entity_type=key.entity_type,
                counts=result.counts
                | ({"ambiguous": int(local.get("ambiguous", 0))} if local else {}),
                duration_ms=duration_ms,
                duplicates_collapsed=result.duplicates_collapsed,
            )
            record(s, event, by=actor.log_name, at=now)
            rows.prune(key.connector_id, key.entity_type)
            return served

    def store_failed(
        self, actor: Actor, key: PreviewKey, err: SyncPreviewError, duration_ms: int
    ) -> PreviewSnapshot:
        """Record a failed refresh beside the last good snapshot and return that one (which
        then says why the refresh failed); raise ``err`` when there is none. When our
        database does not answer, the failure is kept and stored once it does; ``err`` is
        raised."""
        failure = _Failure(
            key,
            actor.log_name,
            self.clock(),
            duration_ms,
            str(err),
            type(err).__name__,
            err.reference if isinstance(err, InternalError) else None,
        )
        try:
            with self._writing(key.org_id) as s:
                _write_failure(s, failure)
                rows = SnapshotRows(s)
                ready = rows.newest_ready(key.connector_id, key.entity_type)
                good = _read(rows, ready, cache_hit=True) if ready else None
        except StoreError as store_err:
            if not store_err.transient:
                raise
            with self._pending_lock:
                self._pending.append(failure)
            log.warning(
                "refresh of %s/%s (org %s, connector %s) failed (%s) while our database did not "
                "answer; the failure is stored once it answers again",
                key.sync_type,
                key.entity_type,
                key.org_id,
                key.connector_id,
                failure.error_type,
            )
            raise err from None
        if good is None:
            raise err
        return good

    def record_abandoned(self, key: PreviewKey, abandoned: Abandoned) -> str:
        """Record that a refresh stopped without finishing (a failed row and event, in the
        name of whoever started it); returns the notice the next result carries."""
        message = abandoned_message(abandoned)
        now = self.clock()
        with self._writing(key.org_id) as s:
            failed = _failed_row(s, key, now, 0, message, abandoned.started_by)
            event = RefreshAbandoned(
                connector_id=key.connector_id,
                connector=failed.connector.name,
                sync_type=key.sync_type,
                entity_type=key.entity_type,
                error=message,
                started_at=abandoned.started_at.isoformat(),
            )
            record(s, event, by=abandoned.started_by, at=now)
        return message

    def expire(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str | None,
        connector: ConnectorIdentity | None = None,
    ) -> int:
        """Expire the actor's organization's cached previews of one connector or source,
        one entity, or all; returns how many."""
        with self._writing(actor.org_id) as s:
            n = SnapshotRows(s).invalidate(
                self.clock(), sync_type, entity_type, connector.id if connector else None
            )
            event = PreviewsExpired(
                sync_type,
                entity_type,
                n,
                connector_id=connector.id if connector else None,
                connector=connector.name if connector else None,
            )
            record(s, event, by=actor.log_name)
        return n
