"""Applying a sync: a previewed snapshot's selected changes written to the local side, in
journaled, resumable, undoable runs.

    planning.py  which snapshot (the newest good one, not expired), which records (the kinds
                 the selective settings include, minus those left out by hand) -> the plan;
                 ``start`` stores the run and its journal
    runner.py    ``execute`` and ``undo`` in batches, one transaction each, with optimistic
                 concurrency (a local record changed since the snapshot is a conflict)
    views.py     what callers get: ApplyPlan, RunView, JournalEntry

The two halves are separate on purpose: ``start`` is quick (checks, the run, its journal)
and returns the run's id; ``execute(actor, run_id, progress=, cancelled=)`` is the long part
that a job handler runs (``progress(phase, fraction)``, ``cancelled()`` between batches).

Where it writes (``targets.py``, one interface): the built-in store (``core.db.local_records``:
our own customers, products and orders tables; its rows are keyed per *source*, not per
connector: two connectors of one source apply to the same local rows) when the preview's
local side was our own tables; the organization's own database table of the mapping the
preview used when an admin switched its write-back on (``core.services.write_back``);
otherwise ``plan`` and ``start`` refuse, and the organization's database is never written.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.db.apply_runs import ApplyRunRows
from core.db.clock import utcnow
from core.db.models import ApplyRun
from core.db.previews import SnapshotRows
from core.db.tenancy import tenant_session
from core.db.vault import Vault
from core.errors import InternalError, InvalidRequest, NotFoundError, SyncPreviewError
from core.jobs import JobCancelled, JobContext, JobOutcome, JobTarget
from core.services.actors import APPLY_SYNC, UNDO_SYNC, VIEW, Actor, authorize
from core.services.apply.planning import (
    Chosen,
    Clock,
    checked_exclude,
    choose,
    create_run,
    plan_of,
)
from core.services.apply.runner import (
    CancelledFn,
    Position,
    ProgressFn,
    apply_batch,
    undo_batch,
)
from core.services.apply.targets import BuiltinTarget, LocalTarget, build_target
from core.services.apply.views import (
    RUNNABLE,
    STATES,
    TARGET_LABEL,
    ApplyPlan,
    JournalEntry,
    JournalPage,
    RunView,
    journal_entry,
    plan_sentence,
    run_view,
)
from core.services.checks import check_entity_type, check_named
from core.services.connectors import ConnectorChoice, find_connector
from core.services.events import ApplyStarted, SyncApplied, SyncUndone, record
from core.services.jobs import JobService, JobView
from core.services.previews.snapshots import ReadFacts
from core.services.write_back import apply_target

__all__ = [
    "STATES",
    "TARGET_LABEL",
    "ApplyPlan",
    "ApplyService",
    "JournalEntry",
    "JournalPage",
    "RunView",
    "plan_sentence",
]

log = logging.getLogger(__name__)

#: Record operations per batch (one transaction each).
BATCH_SIZE = 2_000


def _ignore_progress(_phase: str, _fraction: float) -> None:
    return None


def _never() -> bool:
    return False


class ApplyService:
    """Plan, start, execute and undo apply runs; list them and their journals."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Clock | None = None,
        batch_size: int = BATCH_SIZE,
        vault: Vault | None = None,
    ) -> None:
        self.sessions = sessions
        #: decrypts the organization's database credentials (write-back); None: built-in only
        self.vault = vault
        self.clock: Clock = clock or utcnow
        self.batch_size = max(1, int(batch_size))
        #: set by ``use_jobs``: runs and undos are then executed as jobs
        self.jobs: JobService | None = None

    # --- planning -------------------------------------------------------------------------

    def plan(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
        snapshot_id: int | None = None,
        exclude: Sequence[Any] | None = None,
    ) -> ApplyPlan:
        """What applying the newest preview would do (the confirmation's sentence); nothing
        is written. Refuses a stale snapshot as ``start`` does."""
        check_named(sync_type, entity_type)
        authorize(actor, APPLY_SYNC)
        ids = checked_exclude(exclude)
        chosen_connector = find_connector(self.sessions, actor.org_id, connector, sync_type)
        with tenant_session(self.sessions, actor.org_id) as s:
            chosen = choose(s, chosen_connector, entity_type, snapshot_id, ids, self.clock())
            return self._targeted(s, chosen, plan_of(s, chosen))

    def _targeted(self, s: Session, chosen: Chosen, plan: ApplyPlan) -> ApplyPlan:
        """The plan with where it writes (refused when the preview compared with the
        organization's database and its write-back is off or cannot work)."""
        local = ReadFacts.of(chosen.snapshot).local
        if not local or local.get("kind") != "database":
            return plan
        if self.vault is None:
            raise InvalidRequest("Writing to your database is not set up in this process.")
        target = apply_target(
            s, self.vault, local, plan.sync_type, plan.entity_type, chosen.connector.id
        )
        return replace(plan, target=target.kind, where=target.where)

    def start(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
        snapshot_id: int | None = None,
        exclude: Sequence[Any] | None = None,
    ) -> RunView:
        """Store a run (queued) and its journal for the newest preview, logged; returns it.
        The preview must be the newest and not expired. When a run of that snapshot exists
        and did not finish (it failed, was cancelled or killed), that run is returned to be
        executed again; one that finished is refused."""
        check_named(sync_type, entity_type)
        authorize(actor, APPLY_SYNC)
        ids = checked_exclude(exclude)
        chosen_connector = find_connector(self.sessions, actor.org_id, connector, sync_type)
        now = self.clock()
        with tenant_session(self.sessions, actor.org_id) as s:
            chosen = choose(s, chosen_connector, entity_type, snapshot_id, ids, now)
            existing = ApplyRunRows(s).of_snapshot(chosen.snapshot.id)
            if existing is not None:
                return self._existing(existing)
            plan = plan_of(s, chosen)
            if plan.total == 0:
                raise InvalidRequest(self._nothing_to_apply(chosen, plan))
            plan = self._targeted(s, chosen, plan)
            run = create_run(s, chosen, plan, actor.log_name, now)
            record(
                s,
                ApplyStarted(
                    connector_id=chosen.connector.id,
                    connector=chosen.connector.name,
                    sync_type=plan.sync_type,
                    entity_type=plan.entity_type,
                    run_id=run.id,
                    snapshot_id=plan.snapshot_id,
                    counts=dict(plan.counts),
                    excluded=plan.excluded,
                    target=plan.target_label,
                ),
                by=actor.log_name,
                at=now,
            )
            return run_view(run)

    @staticmethod
    def _existing(run: ApplyRun) -> RunView:
        if run.state in RUNNABLE:
            return run_view(run)  # executed again, it continues where it stopped
        raise InvalidRequest(
            f"This preview was applied already (run {run.id}, {run.state.replace('_', ' ')}); "
            "refresh the preview to apply what changed since."
        )

    @staticmethod
    def _nothing_to_apply(chosen: Chosen, plan: ApplyPlan) -> str:
        left_out = ", ".join(plan.left_out_kinds)
        why = f" (the selective settings leave out: {left_out})" if left_out else ""
        return (
            f"Nothing to apply: the {plan.entity_type} preview of {chosen.connector.name} has "
            f"no selected changes{why}."
        )

    # --- executing ------------------------------------------------------------------------

    def execute(
        self,
        actor: Actor,
        run_id: int,
        *,
        progress: ProgressFn | None = None,
        cancelled: CancelledFn | None = None,
    ) -> RunView:
        """Apply a run's pending operations in batches (one transaction each) until none is
        left, then finish it (logged, and its preview expired so that the next view
        recomputes it). Safe to call again after a crash, a kill or a failure: it continues
        with the next batch. ``progress("applying", fraction)`` after each batch;
        ``cancelled()`` between batches stops it (state ``cancelled``, resumable)."""
        authorize(actor, APPLY_SYNC)
        report = progress or _ignore_progress
        stop = cancelled or _never
        started = time.perf_counter()
        target: LocalTarget | None = None
        try:
            while True:
                if stop():
                    return self._stop(actor, run_id, "cancelled", None)
                with tenant_session(self.sessions, actor.org_id) as s:
                    run = self._claim(s, run_id)
                    if run.state not in RUNNABLE:
                        return run_view(run)
                    if run.state != "running":
                        run.state = "running"
                        run.started_at = run.started_at or self.clock()
                        run.error = None
                    target = target or self._target(s, run)
                    done = apply_batch(s, run, target, self.batch_size, self.clock())
                    view = run_view(run) if done else self._finish(s, run, actor, started)
                report("applying" if done else "done", view.fraction)
                if not done:
                    return view
        except SyncPreviewError as err:
            self._stop(actor, run_id, "failed", str(err))
            raise
        except Exception as exc:
            reference = uuid.uuid4().hex[:8]
            log.exception("apply run %s failed (reference %s)", run_id, reference)
            bug = InternalError("Applying the sync", reference)
            self._stop(actor, run_id, "failed", str(bug))
            raise bug from exc

    def _target(self, s: Session, run: ApplyRun) -> LocalTarget:
        """Where the run writes (for the organization's database: its write-back as it is
        now, refused when it was switched off since)."""
        if run.target != "database":
            return BuiltinTarget(run.sync_type, run.entity_type)
        if self.vault is None:
            raise InvalidRequest("Writing to your database is not set up in this process.")
        return build_target(
            s, self.vault, run.target, run.sync_type, run.entity_type, run.connector_id
        )

    def _claim(self, s: Session, run_id: int) -> ApplyRun:
        run = ApplyRunRows(s).claim(run_id, heartbeat_at=self.clock())
        if run is None:
            raise NotFoundError(f"There is no apply run {run_id} in this organization.")
        return run

    def _finish(self, s: Session, run: ApplyRun, actor: Actor, started: float) -> RunView:
        now = self.clock()
        run.state = "partly_succeeded" if run.conflicts else "succeeded"
        run.finished_at = now
        # the preview showed what is now applied: the next view recomputes it
        SnapshotRows(s).invalidate(now, entity_type=run.entity_type, connector_id=run.connector_id)
        view = run_view(run)
        ms = int((time.perf_counter() - started) * 1000)
        record(s, _applied(run, view, duration_ms=ms), by=run.created_by, at=now)
        return view

    def _stop(self, actor: Actor, run_id: int, state: str, error: str | None) -> RunView:
        """Mark a run stopped (failed or cancelled: it may be executed again), logged."""
        with tenant_session(self.sessions, actor.org_id) as s:
            run = self._claim(s, run_id)
            if run.state not in RUNNABLE:
                return run_view(run)
            run.state, run.error = state, error or "Cancelled; apply again to continue."
            view = run_view(run)
            record(s, _applied(run, view, error=run.error), by=actor.log_name)
            return view

    # --- as jobs (core/jobs): workers execute runs and undos ------------------------------

    def use_jobs(self, jobs: JobService) -> None:
        """Execute runs and undos as jobs: register the "apply" and "undo" kinds."""
        jobs.kinds.register("apply", self.apply_job)
        jobs.kinds.register("undo", self.undo_job)
        self.jobs = jobs

    def enqueue(self, actor: Actor, run_id: int, *, undo: bool = False) -> JobView:
        """Queue the execution (or the undo) of a run for a worker; the pages follow the
        run's row. An undo is marked "undoing" at once."""
        job, _ = self._job(actor, run_id, undo=undo, send=True)
        return job

    def execute_here(self, actor: Actor, run_id: int, *, undo: bool = False) -> RunView:
        """Execute (or undo) a run as a job in this process (no worker alive), and wait."""
        job, _ = self._job(actor, run_id, undo=undo, send=False)
        ran = self._jobs().run_here(actor, job.id)
        if ran is not None and ran.raised is not None:
            raise ran.raised
        return self.run(actor, run_id)

    def apply_job(self, ctx: JobContext) -> JobOutcome:
        """The handler of "apply" jobs: execute the run named by the payload."""
        run = self.execute(
            ctx.actor,
            int(ctx.payload["run_id"]),
            progress=lambda phase, fraction: ctx.progress(phase, fraction, None),
            cancelled=ctx.cancelled,
        )
        return _outcome(run)

    def undo_job(self, ctx: JobContext) -> JobOutcome:
        """The handler of "undo" jobs: undo the run named by the payload (marked "undoing"
        when the job was queued)."""
        run_id = int(ctx.payload["run_id"])
        view = self._continue_undo(
            ctx.actor,
            run_id,
            self.run(ctx.actor, run_id),
            lambda phase, fraction: ctx.progress(phase, fraction, None),
            ctx.cancelled,
        )
        return _outcome(view)

    def _jobs(self) -> JobService:
        if self.jobs is None:
            raise RuntimeError("applying in the background needs use_jobs() first")
        return self.jobs

    def _job(self, actor: Actor, run_id: int, *, undo: bool, send: bool) -> tuple[JobView, bool]:
        jobs = self._jobs()
        view = self._begin_undo(actor, run_id) if undo else self.run(actor, run_id)
        target = JobTarget(view.connector_id, view.sync_type, view.entity_type)
        job, created = jobs.enqueue(
            actor,
            "undo" if undo else "apply",
            target,
            permission=UNDO_SYNC if undo else APPLY_SYNC,
            payload={"run_id": run_id},
            send=send,
        )
        other = (job.payload or {}).get("run_id")
        if not created and other != run_id:  # one apply (or undo) of a preview at a time
            raise InvalidRequest(
                f"Run {other} of this preview is being {'undone' if undo else 'applied'}; "
                "try again when it has finished."
            )
        return job, created

    # --- undo -----------------------------------------------------------------------------

    def undo(
        self,
        actor: Actor,
        run_id: int,
        *,
        progress: ProgressFn | None = None,
        cancelled: CancelledFn | None = None,
    ) -> RunView:
        """Restore the before-image of every record the run wrote that nobody changed since
        (newest first, in batches; resumable like ``execute``); the others are left as they
        are and reported (undo conflicts, with both values). Logged; the preview expires."""
        view = self._begin_undo(actor, run_id)
        return self._continue_undo(actor, run_id, view, progress, cancelled)

    def _begin_undo(self, actor: Actor, run_id: int) -> RunView:
        """Check that the run can be undone and mark it ``undoing``."""
        authorize(actor, UNDO_SYNC)
        with tenant_session(self.sessions, actor.org_id) as s:
            run = self._claim(s, run_id)
            view = run_view(run)
            if run.state == "undone":
                raise InvalidRequest(f"Run {run_id} was undone already.")
            if not view.can_undo:
                raise InvalidRequest(
                    f"Run {run_id} is {run.state.replace('_', ' ')}; it can be undone once it "
                    "has finished."
                    if run.state in ("queued", "running")
                    else f"Run {run_id} wrote nothing; there is nothing to undo."
                )
            run.state = "undoing"
            run.undone_by = actor.log_name
            run.error = None
            return view

    def _continue_undo(
        self,
        actor: Actor,
        run_id: int,
        view: RunView,
        progress: ProgressFn | None,
        cancelled: CancelledFn | None,
    ) -> RunView:
        report = progress or _ignore_progress
        stop = cancelled or _never
        try:
            return self._undo_batches(actor, run_id, view, report, stop)
        except Exception as exc:
            message = str(exc) if isinstance(exc, SyncPreviewError) else None
            if message is None:
                reference = uuid.uuid4().hex[:8]
                log.exception("undo of run %s failed (reference %s)", run_id, reference)
                message = str(InternalError("Undoing the run", reference))
            with tenant_session(self.sessions, actor.org_id) as s:
                self._claim(s, run_id).error = f"The undo stopped: {message} Undo again to go on."
            raise

    def _undo_batches(
        self, actor: Actor, run_id: int, view: RunView, report: ProgressFn, stop: CancelledFn
    ) -> RunView:
        total = max(1, view.counts["created"] + view.counts["updated"] + view.counts["deleted"])
        handled = 0
        target: LocalTarget | None = None
        position = Position()
        while True:
            if stop():
                return self.run(actor, run_id)
            with tenant_session(self.sessions, actor.org_id) as s:
                run = self._claim(s, run_id)
                target = target or self._target(s, run)
                done = undo_batch(s, run, target, self.batch_size, position)
                if not done:
                    now = self.clock()
                    rows = ApplyRunRows(s)
                    run.undo_counts = rows.undo_counts(run.id)
                    run.state, run.undone_at = "undone", now
                    run.undone_by = actor.log_name
                    SnapshotRows(s).invalidate(
                        now, entity_type=run.entity_type, connector_id=run.connector_id
                    )
                    record(
                        s,
                        SyncUndone(
                            connector_id=run.connector_id,
                            connector=run.connector_name,
                            sync_type=run.sync_type,
                            entity_type=run.entity_type,
                            run_id=run.id,
                            counts=dict(run.undo_counts),
                        ),
                        by=actor.log_name,
                        at=now,
                    )
                    view = run_view(run)
            handled += done
            report("undoing" if done else "done", min(1.0, handled / total) if done else 1.0)
            if not done:
                return view

    # --- reading --------------------------------------------------------------------------

    def run(self, actor: Actor, run_id: int) -> RunView:
        """One run (its progress while it runs)."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            row = ApplyRunRows(s).get(run_id)
            if row is None:
                raise NotFoundError(f"There is no apply run {run_id} in this organization.")
            return run_view(row)

    def runs(
        self,
        actor: Actor,
        *,
        connector_id: int | None = None,
        entity_type: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[RunView], int]:
        """Runs, newest first (of one connector and entity when given), and how many."""
        authorize(actor, VIEW)
        if entity_type is not None:
            check_entity_type(entity_type)
        with tenant_session(self.sessions, actor.org_id) as s:
            rows, total = ApplyRunRows(s).listed(
                connector_id=connector_id,
                entity_type=entity_type,
                limit=max(1, min(int(limit), 500)),
                offset=max(0, int(offset)),
            )
            return [run_view(r) for r in rows], total

    def journal(
        self,
        actor: Actor,
        run_id: int,
        *,
        states: Sequence[str] = (),
        search: str = "",
        limit: int = 100,
        offset: int = 0,
    ) -> JournalPage:
        """A page of a run's per-record results (of some states: pending, done, conflict,
        skipped, undo_conflict), searched by external id."""
        authorize(actor, VIEW)
        limit = max(1, min(int(limit), 10_000))
        offset = max(0, int(offset))
        with tenant_session(self.sessions, actor.org_id) as s:
            rows = ApplyRunRows(s)
            if rows.get(run_id) is None:
                raise NotFoundError(f"There is no apply run {run_id} in this organization.")
            found, total = rows.journal(
                run_id, states=states, search=search, limit=limit, offset=offset
            )
            return JournalPage([journal_entry(j, r) for j, r in found], total, offset, limit)


def _applied(
    run: ApplyRun, view: RunView, *, duration_ms: int | None = None, error: str | None = None
) -> SyncApplied:
    """The activity event of a run that finished or stopped (its state and counts)."""
    return SyncApplied(
        connector_id=run.connector_id,
        connector=run.connector_name,
        sync_type=run.sync_type,
        entity_type=run.entity_type,
        run_id=run.id,
        counts=view.counts,
        duration_ms=duration_ms,
        state=run.state,
        error=error,
    )


def _outcome(run: RunView) -> JobOutcome:
    """A job's outcome from the run it left: cancelled, failed (its error) or done."""
    if run.state == "cancelled":
        raise JobCancelled(run.error or "Cancelled.")
    result = {"runId": run.id, "state": run.state, "counts": dict(run.counts)}
    return JobOutcome(result=result, error=run.error if run.state == "failed" else None)
