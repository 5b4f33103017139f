"""Jobs and workers in SQL.

``JobRows`` reads and writes the jobs of the session's organization (a tenant session: the
tenancy filter applies). Claiming a job, renewing its lease and finishing it are single
conditional UPDATEs, so two workers can never both run one job. ``JobSweep`` and
``WorkerRows`` serve the workers, which act for every organization: they read only ids and
timestamps across organizations (``cross_org``) and then work on each job in a tenant session
of its organization.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db.models import Job, PreviewCache, WarmChoice, WorkerBeat

ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class NewJob:
    """What a job is asked to do, and by whom."""

    kind: str
    active_key: str
    started_by: str | None
    actor_kind: str
    actor_ref: str | None
    connector_id: int | None = None
    sync_type: str | None = None
    entity_type: str | None = None
    payload: dict[str, Any] | None = None


class JobRows:
    """The job rows of the session organization."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_or_active(self, new: NewJob, now: datetime) -> tuple[Job, bool]:
        """Queue ``new``, or find the queued or running job with its ``active_key``;
        the job and whether it was created."""
        for _ in range(3):
            existing = self.active(new.active_key)
            if existing is not None:
                return existing, False
            job = Job(
                kind=new.kind,
                active_key=new.active_key,
                connector_id=new.connector_id,
                sync_type=new.sync_type,
                entity_type=new.entity_type,
                payload=new.payload,
                state="queued",
                fraction=0.0,
                started_by=new.started_by,
                actor_kind=new.actor_kind,
                actor_ref=new.actor_ref,
                cancel_requested=False,
                attempts=0,
                created_at=now,
            )
            try:
                with self.session.begin_nested():
                    self.session.add(job)
            except IntegrityError:  # someone queued the same work in between: take theirs
                continue
            return job, True
        raise RuntimeError("could not queue a job nor find the active one")  # pragma: no cover

    def get(self, job_id: int) -> Job | None:
        """The job with this id (None when it is not this organization's)."""
        return self.session.scalar(select(Job).where(Job.id == job_id))

    def active(self, active_key: str) -> Job | None:
        """The queued or running job doing ``active_key``'s work."""
        return self.session.scalar(select(Job).where(Job.active_key == active_key))

    def recent(self, limit: int = 50, *, kind: str | None = None) -> list[Job]:
        """The newest jobs first."""
        stmt = select(Job).order_by(Job.id.desc()).limit(limit)
        if kind is not None:
            stmt = stmt.where(Job.kind == kind)
        return list(self.session.scalars(stmt))

    def claim(self, job_id: int, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Start (or take over) the job for ``holder``: only when it is queued, or running
        with a lease that ran out (its worker died). False when someone else has it or it
        ended."""
        result = self.session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.state.in_(ACTIVE_STATES),
                (Job.lease_until.is_(None)) | (Job.lease_until < now),
            )
            .values(
                state="running",
                lease_holder=holder,
                lease_until=now + ttl,
                attempts=Job.attempts + 1,
                started_at=func.coalesce(Job.started_at, now),
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def renew(self, job_id: int, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Extend ``holder``'s lease; False when the job is no longer theirs."""
        result = self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_holder == holder, Job.state == "running")
            .values(lease_until=now + ttl)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def progress(
        self, job_id: int, holder: str, phase: str, fraction: float, detail: dict[str, Any] | None
    ) -> None:
        """Where ``holder``'s run of the job is."""
        self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_holder == holder, Job.state == "running")
            .values(phase=phase, fraction=fraction, detail=detail)
            .execution_options(synchronize_session=False)
        )

    def cancel_requested(self, job_id: int) -> bool:
        """True when someone asked to cancel the job."""
        return bool(self.session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))

    def finish(
        self,
        job_id: int,
        holder: str,
        state: str,
        now: datetime,
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> bool:
        """End ``holder``'s run of the job in ``state``; False when it was not theirs."""
        values: dict[str, Any] = {
            "state": state,
            "active_key": None,
            "lease_holder": None,
            "lease_until": None,
            "finished_at": now,
            "error": error,
            "result": result,
        }
        if state == "succeeded":
            values.update(phase="done", fraction=1.0)
        done = self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_holder == holder, Job.state == "running")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def cancel(self, job_id: int, by: str | None, now: datetime) -> Job | None:
        """Cancel a queued job at once; ask a running one to stop (it does between pages).
        The job as it is then (None when there is no such job)."""
        self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == "queued")
            .values(
                state="cancelled",
                active_key=None,
                finished_at=now,
                cancel_requested=True,
                cancelled_by=by,
            )
            .execution_options(synchronize_session=False)
        )
        self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == "running", Job.cancel_requested.is_(False))
            .values(cancel_requested=True, cancelled_by=by)
            .execution_options(synchronize_session=False)
        )
        self.session.expire_all()
        return self.get(job_id)


@dataclass(frozen=True)
class JobRef:
    """A job's organization and id (what the queue delivers)."""

    org_id: int
    job_id: int


@dataclass(frozen=True)
class StalePreview:
    """A preview computed (or tried) at least once: when its newest good snapshot was
    computed and expires (None: there is none), and when its newest attempt failed if it
    did."""

    org_id: int
    connector_id: int
    sync_type: str
    entity_type: str
    expires_at: datetime | None
    last_failed_at: datetime | None
    computed_at: datetime | None = None


@dataclass(frozen=True)
class ActiveRef:
    """A queued or running job: its organization, the work it does (``active_key``) and
    who started it."""

    org_id: int
    active_key: str
    started_by: str | None


@dataclass(frozen=True)
class WarmRef:
    """A preview an organization chose to keep warm, refreshed every ``every_minutes``;
    ``since``: when the choice was saved or last resumed (failures before it do not back
    off)."""

    org_id: int
    connector_id: int
    sync_type: str
    entity_type: str
    every_minutes: int
    since: datetime | None = None


class JobSweep:
    """Cross-organization reads for the workers' scheduler (ids and times only)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lost(self, now: datetime, queued_before: datetime) -> list[JobRef]:
        """Running jobs whose lease ran out (their worker died), and jobs queued so long ago
        that their delivery was probably lost (a worker died after taking it)."""
        stmt = (
            select(Job.org_id, Job.id)
            .where(
                ((Job.state == "running") & (Job.lease_until < now))
                | ((Job.state == "queued") & (Job.created_at < queued_before))
            )
            .order_by(Job.id)
            .execution_options(cross_org=True)
        )
        return [JobRef(org, job) for org, job in self.session.execute(stmt)]

    def active(self) -> list[ActiveRef]:
        """Every queued or running job of every organization."""
        stmt = (
            select(Job.org_id, Job.active_key, Job.started_by)
            .where(Job.active_key.is_not(None))
            .execution_options(cross_org=True)
        )
        return [ActiveRef(o, k, b) for o, k, b in self.session.execute(stmt) if k is not None]

    def previews(self) -> list[StalePreview]:
        """Every preview computed (or tried) at least once: when its newest good snapshot was
        computed and expires, and when its newest attempt failed if it did."""
        newest = (
            select(
                PreviewCache.org_id,
                PreviewCache.connector_id,
                PreviewCache.entity_type,
                func.max(PreviewCache.id).label("last_id"),
            )
            .group_by(PreviewCache.org_id, PreviewCache.connector_id, PreviewCache.entity_type)
            .execution_options(cross_org=True)
        )
        good = newest.where(PreviewCache.status == "ready")
        last = {(o, c, e): i for o, c, e, i in self.session.execute(newest)}  # newest of any status
        last_good = {(o, c, e): i for o, c, e, i in self.session.execute(good)}
        ids = list(last.values()) + list(last_good.values())
        if not ids:
            return []
        rows = {
            r.id: r
            for r in self.session.execute(
                select(
                    PreviewCache.id,
                    PreviewCache.sync_type,
                    PreviewCache.status,
                    PreviewCache.computed_at,
                    PreviewCache.expires_at,
                )
                .where(PreviewCache.id.in_(ids))
                .execution_options(cross_org=True)
            )
        }
        out = []
        for (org, connector, entity), last_id in last.items():
            newest_row = rows[last_id]
            good_id = last_good.get((org, connector, entity))
            failed_at = newest_row.computed_at if newest_row.status == "failed" else None
            expires_at = computed_at = None
            if good_id is not None:
                expires_at, computed_at = rows[good_id].expires_at, rows[good_id].computed_at
            out.append(
                StalePreview(
                    org,
                    connector,
                    newest_row.sync_type,
                    entity,
                    expires_at,
                    failed_at,
                    computed_at,
                )
            )
        return out

    def warm_choices(self) -> list[WarmRef]:
        """Every preview an organization chose to keep warm (choice on, not stopped after a
        terminal error)."""
        stmt = (
            select(
                WarmChoice.org_id,
                WarmChoice.connector_id,
                WarmChoice.sync_type,
                WarmChoice.entity_type,
                WarmChoice.every_minutes,
                WarmChoice.updated_at,
                WarmChoice.resumed_at,
            )
            .where(WarmChoice.every_minutes.is_not(None), WarmChoice.stopped_at.is_(None))
            .order_by(WarmChoice.org_id, WarmChoice.id)
            .execution_options(cross_org=True)
        )
        return [
            WarmRef(o, c, t, e, m, max(u, r) if r is not None else u)
            for o, c, t, e, m, u, r in self.session.execute(stmt)
            if m is not None
        ]


class WorkerRows:
    """The worker processes seen alive (not an organization's data)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def beat(
        self, worker_id: str, host: str, pid: int, threads: int, queue: str, now: datetime
    ) -> None:
        """Say that ``worker_id`` is alive now."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(WorkerBeat).values(
            id=worker_id,
            host=host[:200],
            pid=pid,
            threads=threads,
            queue=queue,
            started_at=now,
            seen_at=now,
        )
        self.session.execute(
            stmt.on_conflict_do_update(index_elements=[WorkerBeat.id], set_={"seen_at": now})
        )

    def gone(self, worker_id: str) -> None:
        """Forget a worker that stops."""
        self.session.execute(
            delete(WorkerBeat)
            .where(WorkerBeat.id == worker_id)
            .execution_options(synchronize_session=False)
        )

    def alive(self, since: datetime) -> list[WorkerBeat]:
        """The workers seen since ``since``."""
        return list(self.session.scalars(select(WorkerBeat).where(WorkerBeat.seen_at >= since)))
