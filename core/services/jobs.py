"""Jobs: background work the product owns, run by workers, followed by everyone.

``JobService`` queues jobs (one queued or running job per piece of work: a second request
gets the first job), reads them for the pages, the API and the command line, cancels them,
and runs them: a worker's consumer calls :meth:`JobService.run` with the ids the queue
delivers; without a live worker, :meth:`JobService.run_here` runs one in the caller's
process. Running a job claims it (a conditional update of its row: a lease of
``lease_seconds``, renewed by a heartbeat), calls the handler of its kind
(``core.jobs.JobKinds``) and records how it ended. A worker that dies leaves a running job
whose lease runs out; the workers' scheduler (:meth:`JobService.tick`) sends it again and
another worker takes it over and finishes it.

The scheduler also keeps previews warm: every preview an organization chose to keep warm
(``core.services.warming``) whose newest good snapshot is older than the chosen interval or
expires within ``WARM_AHEAD_SECONDS`` is refreshed by a job of the actor "scheduler"
(bounded per organization, backing off after a failure).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.db.clock import utcnow
from core.db.jobs import ACTIVE_STATES, JobRows, JobSweep, NewJob, WorkerRows
from core.db.models import Job
from core.db.tenancy import system_session, tenant_session
from core.errors import (
    InternalError,
    NotFoundError,
    PermissionDenied,
    RefreshInterrupted,
    SyncPreviewError,
)
from core.jobs import JobCancelled, JobContext, JobKinds, JobOutcome, JobTarget
from core.jobs.queue import JobQueue
from core.services.accounts import AccountService, job_identity
from core.services.actors import CANCEL_JOBS, VIEW, Actor, Permission, authorize
from core.services.heartbeat import Heartbeat

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: Progress is written to the job row at most this often (and at every change of phase).
PROGRESS_EVERY = 0.5
#: A cancel request is read from the job row at most this often.
CANCEL_POLL = 0.5
SCHEDULER = "scheduler"


@dataclass(frozen=True)
class JobView:
    """A job as the pages, the API and the command line show it."""

    id: int
    kind: str
    state: str  # queued | running | succeeded | failed | cancelled
    phase: str | None
    fraction: float
    detail: Mapping[str, Any] | None
    started_by: str | None
    connector_id: int | None
    sync_type: str | None
    entity_type: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    cancel_requested: bool
    cancelled_by: str | None
    error: str | None
    result: Mapping[str, Any] | None = field(default=None)
    payload: Mapping[str, Any] | None = field(default=None)  # what the handler is given

    @property
    def active(self) -> bool:
        """True while queued or running."""
        return self.state in ACTIVE_STATES

    def duration_seconds(self, now: datetime) -> float | None:
        """Seconds it ran (so far, when running); None before it started."""
        if self.started_at is None:
            return None
        end = self.finished_at or now
        return max(0.0, (end - self.started_at).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        """The job in the JSON API's words (camelCase)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "phase": self.phase,
            "progress": round(self.fraction, 4),
            "detail": dict(self.detail) if self.detail else None,
            "startedBy": self.started_by,
            "connectorId": self.connector_id,
            "syncType": self.sync_type,
            "entityType": self.entity_type,
            "createdAt": self.created_at.isoformat(),
            "startedAt": self.started_at.isoformat() if self.started_at else None,
            "finishedAt": self.finished_at.isoformat() if self.finished_at else None,
            "attempts": self.attempts,
            "cancelRequested": self.cancel_requested,
            "cancelledBy": self.cancelled_by,
            "error": self.error,
            "result": dict(self.result) if self.result else None,
        }

    @classmethod
    def of(cls, row: Job) -> JobView:
        return cls(
            id=row.id,
            kind=row.kind,
            state=row.state,
            phase=row.phase,
            fraction=float(row.fraction or 0.0),
            detail=row.detail,
            started_by=row.started_by,
            connector_id=row.connector_id,
            sync_type=row.sync_type,
            entity_type=row.entity_type,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            attempts=row.attempts,
            cancel_requested=bool(row.cancel_requested),
            cancelled_by=row.cancelled_by,
            error=row.error,
            result=row.result,
            payload=row.payload,
        )


@dataclass(frozen=True)
class Ran:
    """A job this process ran: how it ended, and what its handler returned."""

    job: JobView
    outcome: JobOutcome | None
    raised: SyncPreviewError | None = None


@dataclass(frozen=True)
class WarmCandidate:
    """A preview the scheduler may refresh (see ``JobService.tick``)."""

    org_id: int
    target: JobTarget


class JobService:
    """Queue, read, cancel and run jobs; see the module docstring."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        accounts: AccountService,
        kinds: JobKinds,
        queue: JobQueue | None,
        *,
        lease_seconds: float = 15.0,
        worker_seen_seconds: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self.sessions = sessions
        self.accounts = accounts
        self.kinds = kinds
        self.queue = queue
        self.lease = timedelta(seconds=lease_seconds)
        self.worker_seen = timedelta(seconds=worker_seen_seconds)
        self.clock: Clock = clock or utcnow

    # --- asking and reading ----------------------------------------------------------------

    def enqueue(
        self,
        actor: Actor,
        kind: str,
        target: JobTarget,
        *,
        permission: Permission,
        payload: Mapping[str, Any] | None = None,
        send: bool = True,
    ) -> tuple[JobView, bool]:
        """Queue a job of ``kind`` on ``target`` for ``actor`` (who needs ``permission``), or
        find the queued or running one doing the same; the job and whether it is new.
        ``send=False`` leaves it for the caller to run (``run_here``)."""
        authorize(actor, permission)
        self.kinds.handler(kind)  # an unknown kind is a bug of the caller: KeyError now
        who, ref = job_identity(actor)
        new = NewJob(
            kind=kind,
            active_key=target.key(kind),
            started_by=actor.log_name,
            actor_kind=who,
            actor_ref=ref,
            connector_id=target.connector_id,
            sync_type=target.sync_type,
            entity_type=target.entity_type,
            payload=dict(payload) if payload else None,
        )
        with tenant_session(self.sessions, actor.org_id) as s:
            row, created = JobRows(s).add_or_active(new, self.clock())
            s.flush()
            view = JobView.of(row)
        if created and send and self.queue is not None:
            self.queue.send(actor.org_id, view.id)
        return view, created

    def get(self, actor: Actor, job_id: int) -> JobView:
        """One job of the actor's organization; NotFoundError when there is none."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            row = JobRows(s).get(job_id)
            if row is None:
                raise NotFoundError(f"There is no job {job_id} in this organization.")
            return JobView.of(row)

    def recent(self, actor: Actor, limit: int = 50, *, kind: str | None = None) -> list[JobView]:
        """The organization's newest jobs first."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            return [JobView.of(r) for r in JobRows(s).recent(max(1, min(limit, 500)), kind=kind)]

    def active(self, actor: Actor, kind: str, target: JobTarget) -> JobView | None:
        """The queued or running job of ``kind`` on ``target``, if any."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            row = JobRows(s).active(target.key(kind))
            return JobView.of(row) if row is not None else None

    def cancel(self, actor: Actor, job_id: int) -> JobView:
        """Cancel a job: a queued one at once, a running one between two units of its work.
        Editors and admins may cancel any job; anyone the job they started."""
        job = self.get(actor, job_id)
        if job.started_by != actor.log_name or actor.log_name is None:
            try:
                authorize(actor, CANCEL_JOBS)
            except PermissionDenied:
                raise PermissionDenied(
                    f"Only {job.started_by or 'whoever started it'}, an editor or an admin "
                    "may cancel this job."
                ) from None
        with tenant_session(self.sessions, actor.org_id) as s:
            row = JobRows(s).cancel(job_id, actor.log_name, self.clock())
            assert row is not None
            return JobView.of(row)

    def wait(
        self,
        actor: Actor,
        job_id: int,
        timeout: float,
        *,
        on_change: Callable[[JobView], None] | None = None,
        poll: float = 0.2,
    ) -> JobView:
        """The job once it ended, or as it is after ``timeout`` seconds."""
        until = time.monotonic() + timeout
        seen: tuple[Any, ...] | None = None
        while True:
            job = self.get(actor, job_id)
            now_seen = (job.state, job.phase, round(job.fraction, 2))
            if on_change is not None and now_seen != seen:
                on_change(job)
            seen = now_seen
            if not job.active or time.monotonic() >= until:
                return job
            time.sleep(min(poll, max(0.0, until - time.monotonic())))

    def workers_alive(self) -> int:
        """How many worker processes were seen alive lately."""
        with system_session(self.sessions) as s:
            return len(WorkerRows(s).alive(self.clock() - self.worker_seen))

    # --- running ---------------------------------------------------------------------------

    def run(self, org_id: int, job_id: int) -> JobView | None:
        """Run a job the queue delivered (a worker's entry point); None when someone else
        has it or it already ended."""
        ran = self._execute(org_id, job_id)
        return ran.job if ran is not None else None

    def run_here(self, actor: Actor, job_id: int) -> Ran | None:
        """Run one of the actor's organization's jobs in this process (no worker alive), as
        ``actor`` (who asked for it); None when someone else has it or it already ended."""
        authorize(actor, VIEW)
        return self._execute(actor.org_id, job_id, actor)

    def _execute(self, org_id: int, job_id: int, actor: Actor | None = None) -> Ran | None:
        holder = uuid.uuid4().hex
        with tenant_session(self.sessions, org_id) as s:
            rows = JobRows(s)
            row = rows.get(job_id)
            if row is None or row.state not in ACTIVE_STATES:
                return None
            abandoned = (row.started_by, row.started_at) if row.state == "running" else None
            # what the claim does not change, read before it
            kind, payload = row.kind, dict(row.payload or {})
            target = JobTarget(row.connector_id, row.sync_type, row.entity_type)
            actor_kind, actor_ref = row.actor_kind, row.actor_ref
            cancelled_early = row.cancel_requested
            if not rows.claim(job_id, holder, self.clock(), self.lease):
                return None
        if abandoned is not None:
            log.warning(
                "job %s (org %s) was abandoned by its worker; running it again", job_id, org_id
            )

        def finish(state: str, error: str | None = None, result: Any = None) -> JobView:
            with tenant_session(self.sessions, org_id) as s:
                JobRows(s).finish(job_id, holder, state, self.clock(), error=error, result=result)
                s.expire_all()
                row = JobRows(s).get(job_id)
                assert row is not None
                return JobView.of(row)

        if cancelled_early:
            return Ran(finish("cancelled"), None)
        try:
            if actor is None:  # a worker: the actor is made again from the job row
                actor = self.accounts.job_actor(org_id, actor_kind, actor_ref)
            handler = self.kinds.handler(kind)
        except SyncPreviewError as err:
            return Ran(finish("failed", str(err)), None, err)
        except KeyError as err:
            return Ran(finish("failed", _sentence(err)), None)

        def renew() -> bool:
            with tenant_session(self.sessions, org_id) as s:
                return JobRows(s).renew(job_id, holder, self.clock(), self.lease)

        reporter = _Reporter(self.sessions, org_id, job_id, holder)
        with Heartbeat(renew, ttl=self.lease.total_seconds(), what="The job") as beat:

            def check() -> None:
                beat.check()
                if reporter.cancelled():
                    raise JobCancelled("The job was cancelled.")

            ctx = JobContext(
                job_id=job_id,
                kind=kind,
                actor=actor,
                target=target,
                payload=payload,
                progress=reporter.progress,
                cancelled=reporter.cancelled,
                check=check,
                abandoned=abandoned,
            )
            try:
                outcome = handler(ctx)
            except JobCancelled as err:
                return Ran(finish("cancelled"), None, err)
            except RefreshInterrupted:  # the lease was lost: the job is someone else's now
                log.warning(
                    "job %s (org %s) lost its lease; left to its new holder", job_id, org_id
                )
                return None
            except SyncPreviewError as err:
                return Ran(finish("failed", str(err)), None, err)
            except Exception:
                reference = uuid.uuid4().hex[:12]
                log.exception(
                    "job %s (org %s) failed unexpectedly, reference %s", job_id, org_id, reference
                )
                return Ran(finish("failed", str(InternalError(f"The {kind} job", reference))), None)
        state = "failed" if outcome.error else "succeeded"
        return Ran(finish(state, outcome.error, dict(outcome.result) or None), outcome)

    # --- the workers' scheduler ------------------------------------------------------------

    def announce(self, worker_id: str, threads: int) -> None:
        """Say that this worker process is alive (every tick)."""
        kind = self.queue.kind if self.queue is not None else "none"
        with system_session(self.sessions) as s:
            WorkerRows(s).beat(
                worker_id, socket.gethostname(), os.getpid(), threads, kind, self.clock()
            )

    def retire(self, worker_id: str) -> None:
        """Forget this worker (it stops)."""
        with system_session(self.sessions) as s:
            WorkerRows(s).gone(worker_id)

    def resend_lost(self) -> int:
        """Send again the jobs whose worker died (lease ran out) or whose delivery was lost;
        how many."""
        if self.queue is None:
            return 0
        now = self.clock()
        with system_session(self.sessions) as s:
            lost = JobSweep(s).lost(now, now - self.lease * 4)
        for ref in lost:
            self.queue.send(ref.org_id, ref.job_id)
        return len(lost)

    def warm_candidates(self, ahead: timedelta, backoff: timedelta) -> list[WarmCandidate]:
        """The previews an organization chose to keep warm (``WarmingService``) that are due:
        never computed, computed longer ago than their interval, or expiring within
        ``ahead`` — and whose last refresh did not fail within ``backoff`` (unless the choice
        was saved or resumed since: an admin fixed something) (the scheduler's choice, without
        side effects)."""
        now = self.clock()
        with system_session(self.sessions) as s:
            sweep = JobSweep(s)
            choices = sweep.warm_choices()
            previews = {(p.org_id, p.connector_id, p.entity_type): p for p in sweep.previews()}
        chosen = []
        for c in choices:
            p = previews.get((c.org_id, c.connector_id, c.entity_type))
            if p is not None:
                failed = p.last_failed_at
                if (
                    failed is not None
                    and failed > now - backoff
                    and (c.since is None or failed > c.since)
                ):
                    continue
                fresh = p.computed_at is not None and p.computed_at > now - timedelta(
                    minutes=c.every_minutes
                )
                lasting = p.expires_at is None or p.expires_at > now + ahead
                if fresh and lasting:
                    continue
            chosen.append(
                WarmCandidate(c.org_id, JobTarget(c.connector_id, c.sync_type, c.entity_type))
            )
        return chosen

    def warm(
        self,
        ahead: timedelta,
        backoff: timedelta,
        per_org: int,
        permission: Permission,
    ) -> list[JobView]:
        """Queue refreshes of the previews ``warm_candidates`` chooses, by the scheduler, at
        most ``per_org`` queued or running at once per organization; the jobs queued."""
        queued: list[JobView] = []
        candidates = self.warm_candidates(ahead, backoff)
        if not candidates:
            return queued
        # one look at the active jobs of every organization: a preview already being
        # refreshed is left alone, and so is an organization without room (every tick, while
        # refreshes run, most are)
        with system_session(self.sessions) as s:
            active = JobSweep(s).active()
        running = {(a.org_id, a.active_key) for a in active}
        busy: dict[int, int] = {}
        for a in active:
            if a.started_by == SCHEDULER:
                busy[a.org_id] = busy.get(a.org_id, 0) + 1
        by_org: dict[int, list[WarmCandidate]] = {}
        for c in candidates:
            if (c.org_id, c.target.key("refresh")) not in running:
                by_org.setdefault(c.org_id, []).append(c)
        for org_id, waiting in by_org.items():
            room = per_org - busy.get(org_id, 0)
            if room <= 0:
                continue
            try:
                actor = self.accounts.scheduler(org_id)
            except NotFoundError:
                continue
            for c in waiting:
                if room <= 0:
                    break
                job, created = self.enqueue(actor, "refresh", c.target, permission=permission)
                if created:
                    queued.append(job)
                    room -= 1
        return queued


class _Reporter:
    """Writes a running job's progress to its row (throttled) and reads cancel requests."""

    def __init__(
        self, sessions: sessionmaker[Session], org_id: int, job_id: int, holder: str
    ) -> None:
        self.sessions = sessions
        self.org_id = org_id
        self.job_id = job_id
        self.holder = holder
        self._lock = threading.Lock()
        self._last_write = 0.0
        self._last_phase: str | None = None
        self._last_poll = 0.0
        self._cancelled = False

    def progress(self, phase: str, fraction: float, detail: Mapping[str, Any] | None) -> None:
        now = time.monotonic()
        with self._lock:
            if phase == self._last_phase and now - self._last_write < PROGRESS_EVERY:
                return
            self._last_phase, self._last_write = phase, now
        with tenant_session(self.sessions, self.org_id) as s:
            JobRows(s).progress(
                self.job_id,
                self.holder,
                phase,
                max(0.0, min(1.0, fraction)),
                dict(detail) if detail else None,
            )

    def cancelled(self) -> bool:
        now = time.monotonic()
        if self._cancelled or now - self._last_poll < CANCEL_POLL:
            return self._cancelled
        self._last_poll = now
        with tenant_session(self.sessions, self.org_id) as s:
            self._cancelled = JobRows(s).cancel_requested(self.job_id)
        return self._cancelled


def _sentence(err: BaseException) -> str:
    if isinstance(err, KeyError):
        return f"No worker here knows jobs of kind {err.args[0]!r}."
    return str(err)
