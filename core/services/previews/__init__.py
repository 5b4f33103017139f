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

import dataclasses
import time
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.db.clock import utcnow
from core.db.vault import Vault
from core.errors import RefreshInProgress, SyncPreviewError
from core.jobs import JobCancelled, JobContext, JobOutcome, JobTarget
from core.services.actors import (
    EXPIRE_PREVIEWS,
    REFRESH_PREVIEWS,
    VIEW,
    Actor,
    Scheduler,
    authorize,
)
from core.services.checks import check_entity_type, check_named, check_sync_type
from core.services.connectors import (
    ConnectorChoice,
    ConnectorFactory,
    ConnectorIdentity,
    find_connector,
)
from core.services.heartbeat import Heartbeat
from core.services.jobs import JobService, JobView
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
from core.services.previews.singleflight import SINCE_SLACK, TAKING_LONG, SingleFlight
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
from core.services.warming import WarmingService

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
        self.wait_seconds = wait_seconds
        #: set by ``use_jobs``: every refresh is then a job (one lease: the job's)
        self.jobs: JobService | None = None
        self.warming: WarmingService | None = None
        self._listeners: dict[int, ProgressFn] = {}

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

    def cached(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
    ) -> PreviewSnapshot | None:
        """The cached preview while it is valid (logged as a view), else None: never
        computes (the dashboard's pages leave that to a worker)."""
        check_named(sync_type, entity_type)
        authorize(actor, VIEW)
        return self.snapshots.fresh(actor, self._key(actor, sync_type, entity_type, connector))

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

    # --- refreshing in jobs ------------------------------------------------------------------

    def use_jobs(self, jobs: JobService) -> None:
        """Refresh through jobs: register the "refresh" kind, and make every refresh asked
        of this service (a cache miss, ``force_refresh``) a job run in the caller's process
        (or the result of the job a worker already runs)."""
        jobs.kinds.register("refresh", self.refresh_job)
        self.jobs = jobs

    def use_warming(self, warming: WarmingService) -> None:
        """Stop warming a preview whose scheduled refresh fails for good (see
        ``core.services.warming``)."""
        self.warming = warming

    def enqueue_refresh(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
    ) -> tuple[JobView, bool]:
        """Queue a refresh of the preview for a worker (or find the one queued or running);
        the job and whether it is new."""
        check_named(sync_type, entity_type)
        authorize(actor, REFRESH_PREVIEWS)
        if self.jobs is None:
            raise RuntimeError("refreshes in the background need use_jobs() first")
        key = self._key(actor, sync_type, entity_type, connector)
        target = JobTarget(key.connector_id, key.sync_type, key.entity_type)
        running = self.jobs.active(actor, "refresh", target)
        if running is not None:  # joining a refresh costs no fresh computation
            return running, False
        self.limiter.acquire(key.org_id)  # refused now, not later in the worker
        return self.jobs.enqueue(
            actor, "refresh", target, permission=REFRESH_PREVIEWS, payload={"counted": True}
        )

    def enqueue_missing(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
    ) -> JobView | None:
        """Queue the computation of a preview that is missing or expired, for a worker (a
        viewer may: opening a preview computes it), or find the refresh running; None while
        the preview is current."""
        check_named(sync_type, entity_type)
        authorize(actor, VIEW)
        if self.jobs is None:
            raise RuntimeError("refreshes in the background need use_jobs() first")
        key = self._key(actor, sync_type, entity_type, connector)
        latest = self.snapshots.latest(key)
        if latest is not None and latest.expires_at > self.clock():
            return None
        target = JobTarget(key.connector_id, key.sync_type, key.entity_type)
        running = self.jobs.active(actor, "refresh", target)
        if running is not None:
            return running
        self.limiter.acquire(key.org_id)
        job, _ = self.jobs.enqueue(
            actor, "refresh", target, permission=VIEW, payload={"counted": True}
        )
        return job

    def running_refresh(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
    ) -> JobView | None:
        """The refresh of this preview queued or running now (anyone's), if any."""
        if self.jobs is None:
            return None
        key = self.preview_key(actor, sync_type, entity_type, connector)
        target = JobTarget(key.connector_id, key.sync_type, key.entity_type)
        return self.jobs.active(actor, "refresh", target)

    def refresh_job(self, ctx: JobContext) -> JobOutcome:
        """The handler of "refresh" jobs: fetch, diff and store one preview, reporting its
        phases to the job; scheduled ones do not count against the rate limit."""
        t = ctx.target
        assert t.connector_id is not None and t.sync_type and t.entity_type
        key = PreviewKey(ctx.org_id, t.connector_id, t.sync_type, t.entity_type)
        notice = None
        if ctx.abandoned is not None:
            notice = self.snapshots.record_abandoned(key, Abandoned(*ctx.abandoned))
        if not isinstance(ctx.actor, Scheduler) and not ctx.payload.get("counted"):
            self.limiter.acquire(key.org_id)
        listener = self._listeners.get(ctx.job_id)

        def report(p: PreviewProgress) -> None:
            detail = {
                "connector": p.connector,
                "pagesDone": p.pages_done,
                "pagesTotal": p.pages_total,
                "recordsDone": p.records_done,
                "changes": p.changes,
            }
            if p.phase != "done":  # finishing the job writes "done" (one write fewer)
                ctx.progress(p.phase, p.fraction, {k: v for k, v in detail.items() if v})
            if listener is not None:
                listener(p)

        try:
            snapshot = self.pipeline.run(ctx.actor, key, report, ctx.check)
        except (JobCancelled, RefreshInProgress):  # cancelled, or the lease was lost
            raise
        except SyncPreviewError as err:  # failed with no good snapshot to serve
            self._scheduled_refresh_failed(ctx, key, err)
            raise
        if snapshot.refresh_failure is not None:
            self._scheduled_refresh_failed(ctx, key, snapshot.refresh_failure)
        if notice:
            snapshot = dataclasses.replace(snapshot, refresh_notice=notice)
        result = {
            "snapshotId": snapshot.snapshot_id,
            "counts": dict(snapshot.counts),
            "computedAt": snapshot.computed_at.isoformat(),
            **({"notice": notice} if notice else {}),
        }
        return JobOutcome(result=result, error=snapshot.refresh_error, value=snapshot)

    def _scheduled_refresh_failed(
        self, ctx: JobContext, key: PreviewKey, err: SyncPreviewError
    ) -> None:
        """A refresh of the scheduler failed: a terminal error stops the warming."""
        if isinstance(ctx.actor, Scheduler) and self.warming is not None:
            self.warming.stop_after_failure(
                ctx.actor, key.connector_id, key.entity_type, err, self.clock()
            )

    def _refresh_in_job(
        self, jobs: JobService, actor: Actor, key: PreviewKey, report: ProgressFn
    ) -> PreviewSnapshot:
        target = JobTarget(key.connector_id, key.sync_type, key.entity_type)
        since = self.clock() - SINCE_SLACK
        until = time.monotonic() + self.wait_seconds
        told_waiting = False
        while True:
            # the caller was authorized already (a viewer's cache miss computes too)
            job, _created = jobs.enqueue(actor, "refresh", target, permission=VIEW, send=False)
            self._listeners[job.id] = report
            try:
                ran = jobs.run_here(actor, job.id)  # None: someone holds its lease
            finally:
                self._listeners.pop(job.id, None)
            if ran is not None:
                if ran.outcome is not None and ran.outcome.value is not None:
                    snapshot: PreviewSnapshot = ran.outcome.value
                    return snapshot
                if ran.raised is not None:
                    raise ran.raised
                raise SyncPreviewError(ran.job.error or "The refresh failed.")
            if not told_waiting:
                report(PreviewProgress("waiting", PHASE_START["waiting"]))
                told_waiting = True
            # wait a lease's time at most: a holder that died is then taken over
            left = until - time.monotonic()
            ended = jobs.wait(actor, job.id, max(0.0, min(left, self.lease.ttl.total_seconds())))
            if not ended.active:
                theirs = self.snapshots.outcome_since(key, since)
                if theirs is not None:
                    return theirs
                if ended.state == "cancelled":
                    raise JobCancelled(
                        f"The refresh was cancelled by {ended.cancelled_by or 'someone'}."
                    )
            if time.monotonic() >= until:
                raise RefreshInProgress(TAKING_LONG)
            theirs = self.snapshots.outcome_since(key, since)
            if theirs is not None:
                return theirs
            if ended.state == "cancelled":
                raise JobCancelled(
                    f"The refresh was cancelled by {ended.cancelled_by or 'someone'}."
                )
        raise RefreshInProgress(TAKING_LONG)

    # --- computing --------------------------------------------------------------------------

    def _refresh(self, actor: Actor, key: PreviewKey, report: ProgressFn) -> PreviewSnapshot:
        if self.jobs is not None:
            return self._refresh_in_job(self.jobs, actor, key, report)

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
