"""Previews: what a sync from one connector of one entity would change, served from a cache.

A preview belongs to a connector (an organization may have two stores of one source). Every
method takes the connector as ``connector`` (an id, or a name); without it, the default
connector of ``sync_type`` (``core.services.connectors.find_connector``).

``DeltaDetectionService`` is the public face (its method names are a contract). Its parts:

    snapshots.py     the snapshot store: cache reads, paging, storing results and failures
    lease.py         the lease: one computation of a preview at a time across processes
    singleflight.py  taking the lease or waiting for whoever holds it
    pipeline.py      the refresh: fetch -> diff -> store, reporting phases and fractions
    guard.py         the change guard: too large a share of existing records would change
    history.py       the previews computed over time, per connector

See docs/architecture.md for the flow of one refresh.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.db.clock import utcnow
from core.db.vault import Vault
from core.services.actors import EXPIRE_PREVIEWS, REFRESH_PREVIEWS, VIEW, Actor, authorize
from core.services.checks import check_entity_type, check_named, check_sync_type
from core.services.connectors import (
    ConnectorChoice,
    ConnectorFactory,
    ConnectorIdentity,
    find_connector,
)
from core.services.heartbeat import Heartbeat
from core.services.previews.guard import DEFAULT_PERCENT, ChangeWarning, change_warning
from core.services.previews.history import ConnectorHistory, HistoryEntry, PreviewHistory
from core.services.previews.lease import Abandoned, PreviewLease
from core.services.previews.pipeline import (
    PHASE_START,
    Phase,
    PreviewProgress,
    ProgressFn,
    RefreshPipeline,
)
from core.services.previews.singleflight import SingleFlight
from core.services.previews.snapshots import (
    FIRST_PAGE,
    Clock,
    PageWanted,
    PreviewKey,
    PreviewSnapshot,
    RecordPage,
    SnapshotStore,
)
from core.services.ratelimit import RefreshLimiter

__all__ = [
    "ChangeWarning",
    "Clock",
    "ConnectorHistory",
    "DeltaDetectionService",
    "HistoryEntry",
    "Phase",
    "PreviewKey",
    "PreviewProgress",
    "PreviewSnapshot",
    "ProgressFn",
    "RecordPage",
]


def _ignore(_progress: PreviewProgress) -> None:
    return None


class DeltaDetectionService:
    """The previews of every organization: served from cache, computed once at a time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        vault: Vault,
        build_connector: ConnectorFactory,
        limiter: RefreshLimiter,
        *,
        ttl_seconds: int = 3600,
        refresh_deadline_seconds: float = 600.0,
        wait_seconds: float = 120.0,
        lease_seconds: float = 15.0,
        change_guard_percent: float = DEFAULT_PERCENT,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or utcnow
        self.change_guard_percent = change_guard_percent
        self.sessions = sessions
        self.limiter = limiter
        self.snapshots = SnapshotStore(sessions, self.clock, timedelta(seconds=ttl_seconds))
        # short, and kept alive by a heartbeat while the refresh runs (core.services.heartbeat)
        self.lease = PreviewLease(sessions, self.clock, timedelta(seconds=lease_seconds))
        self.pipeline = RefreshPipeline(
            sessions,
            vault,
            build_connector,
            self.snapshots,
            deadline_seconds=refresh_deadline_seconds,
        )
        self.histories = PreviewHistory(sessions, vault)
        self.flight = SingleFlight(
            self.lease, self.snapshots, self.clock, wait_seconds=wait_seconds
        )

    # --- the public contract (docs/api.md) --------------------------------------------------

    def get_preview_snapshot(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        force_refresh: bool = False,
        *,
        connector: ConnectorChoice = None,
        progress: ProgressFn | None = None,
    ) -> PreviewSnapshot:
        """The preview of ``connector`` (an id or a name; the default connector of
        ``sync_type`` when None), from cache while valid; computed when missing, expired or
        forced."""
        check_named(sync_type, entity_type)
        authorize(actor, REFRESH_PREVIEWS if force_refresh else VIEW)
        key = self._key(actor, sync_type, entity_type, connector)
        if not force_refresh:
            cached = self.snapshots.fresh(actor, key)
            if cached is not None:
                return cached
        return self._refresh(actor, key, progress or _ignore)

    def detect_customer_delta(
        self, actor: Actor, sync_type: str | None, *, connector: ConnectorChoice = None
    ) -> PreviewSnapshot:
        """A fresh customers preview."""
        return self.get_preview_snapshot(
            actor, sync_type, "customers", force_refresh=True, connector=connector
        )

    def detect_product_delta(
        self, actor: Actor, sync_type: str | None, *, connector: ConnectorChoice = None
    ) -> PreviewSnapshot:
        """A fresh products preview."""
        return self.get_preview_snapshot(
            actor, sync_type, "products", force_refresh=True, connector=connector
        )

    def detect_order_delta(
        self, actor: Actor, sync_type: str | None, *, connector: ConnectorChoice = None
    ) -> PreviewSnapshot:
        """A fresh orders preview."""
        return self.get_preview_snapshot(
            actor, sync_type, "orders", force_refresh=True, connector=connector
        )

    def invalidate_preview_cache(
        self,
        actor: Actor,
        sync_type: str | None = None,
        entity_type: str | None = None,
        *,
        connector: ConnectorChoice = None,
    ) -> int:
        """Expire cached previews of one connector or one source (one entity of it, or all),
        or of the whole organization; returns how many."""
        if sync_type is not None:
            check_sync_type(sync_type)
        if entity_type is not None:
            check_entity_type(entity_type)
        authorize(actor, EXPIRE_PREVIEWS)
        chosen: ConnectorIdentity | None = None
        if connector is not None:
            chosen = find_connector(self.sessions, actor.org_id, connector, sync_type)
        return self.snapshots.expire(actor, sync_type, entity_type, chosen)

    # --- reading without computing ----------------------------------------------------------

    def latest(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
    ) -> PreviewSnapshot | None:
        """The newest good snapshot even if expired, without computing or logging anything."""
        check_named(sync_type, entity_type)
        authorize(actor, VIEW)
        return self.snapshots.latest(self._key(actor, sync_type, entity_type, connector))

    def preview_key(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        connector: ConnectorChoice = None,
    ) -> PreviewKey:
        """Which preview the actor names: ``connector``'s (the default connector of
        ``sync_type`` when None) of ``entity_type`` (for work that runs a refresh later)."""
        check_named(sync_type, entity_type)
        authorize(actor, VIEW)
        return self._key(actor, sync_type, entity_type, connector)

    def _key(
        self, actor: Actor, sync_type: str | None, entity_type: str, connector: ConnectorChoice
    ) -> PreviewKey:
        chosen = find_connector(self.sessions, actor.org_id, connector, sync_type)
        return PreviewKey(actor.org_id, chosen.id, chosen.sync_type, entity_type)

    def page_records(
        self,
        actor: Actor,
        snapshot_id: int,
        kind: str,
        *,
        search: str = "",
        limit: int = FIRST_PAGE,
        offset: int = 0,
    ) -> RecordPage:
        """A page of one kind of records of a snapshot, optionally searched."""
        authorize(actor, VIEW)
        return self.snapshots.page(
            actor.org_id, snapshot_id, PageWanted.checked(kind, search, limit, offset)
        )

    def change_warning(self, actor: Actor, snapshot: PreviewSnapshot) -> ChangeWarning | None:
        """Whether ``snapshot`` would change or delete more of the existing records than the
        change guard allows (``CHANGE_GUARD_PERCENT``); see guard.py."""
        authorize(actor, VIEW)
        return change_warning(snapshot.entity_type, snapshot.counts, self.change_guard_percent)

    def history(
        self,
        actor: Actor,
        connector_id: int,
        *,
        entity_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ConnectorHistory:
        """The previews computed over time from one connector (newest first): when, by whom,
        how long, the counts or why it failed."""
        if entity_type is not None:
            check_entity_type(entity_type)
        authorize(actor, VIEW)
        return self.histories.of_connector(
            actor.org_id, connector_id, entity_type=entity_type, since=since, until=until
        )

    # --- computing --------------------------------------------------------------------------

    def _refresh(self, actor: Actor, key: PreviewKey, report: ProgressFn) -> PreviewSnapshot:
        def compute(beat: Heartbeat) -> PreviewSnapshot:
            self.limiter.acquire(key.org_id)
            return self.pipeline.run(actor, key, report, beat.check)

        def waiting() -> None:
            report(PreviewProgress("waiting", PHASE_START["waiting"]))

        def abandoned(found: Abandoned) -> str:
            return self.snapshots.record_abandoned(key, found)

        return self.flight.run(
            key, compute, on_wait=waiting, by=actor.log_name, on_abandoned=abandoned
        )
