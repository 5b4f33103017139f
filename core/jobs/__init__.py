"""Background work: the interface of a job's handler, and the registry of kinds.

A job is a row we own (``core.db.models.Job``); the queue (``core.jobs.queue``, Huey) only
delivers its id to a worker. A *kind* of job ("refresh" today, "apply" next) is one handler
registered by name in ``JobKinds``, which ``core.bootstrap`` builds:

    def apply(ctx: JobContext) -> JobOutcome:
        for i, batch in enumerate(batches):
            ctx.check()                       # stops when cancelled or the lease was lost
            ...
            ctx.progress("writing", (i + 1) / len(batches), {"batches": i + 1})
        return JobOutcome(result={"applied": n})

    services.jobs.kinds.register("apply", apply)
    services.jobs.enqueue(actor, "apply", target=..., payload={...})

The handler runs in a worker (or inline when no worker is alive) with the actor who asked
(``ctx.actor``: a user, an API caller, the scheduler), under the job's lease, which a
heartbeat renews. It reports ``progress(phase, fraction, detail)`` (written to the job row;
the pages, API and CLI read it), calls ``check()`` between units of work (cooperative
cancel), and returns a ``JobOutcome``: a result (JSON-able), or an error sentence when the
work failed in a way already recorded (the job ends "failed" with it). Raising an error of
``core.errors`` fails the job with its message; ``JobCancelled`` ends it "cancelled".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import SyncPreviewError

__all__ = ["Handler", "JobCancelled", "JobContext", "JobKinds", "JobOutcome", "JobTarget"]


class JobCancelled(SyncPreviewError):
    """Someone cancelled the job; the handler stops between two units of work."""


@dataclass(frozen=True)
class JobTarget:
    """What a job works on; one queued or running job per target and kind (single flight)."""

    connector_id: int | None = None
    sync_type: str | None = None
    entity_type: str | None = None

    def key(self, kind: str) -> str:
        """The job's ``active_key``: names the work, so that a second request finds it."""
        return f"{kind}:{self.connector_id or '-'}:{self.entity_type or '-'}"


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: the job, who asked, what on, and how to report and stop."""

    job_id: int
    kind: str
    actor: Any  # core.services.actors.Actor (a checked actor of the job's organization)
    target: JobTarget
    payload: Mapping[str, Any]
    progress: Callable[[str, float, Mapping[str, Any] | None], None]
    cancelled: Callable[[], bool]
    check: Callable[[], None]
    abandoned: tuple[str | None, Any] | None = None  # (started_by, started_at) taken over

    @property
    def org_id(self) -> int:
        """The job's organization."""
        return int(self.actor.org_id)


@dataclass(frozen=True)
class JobOutcome:
    """How a handler's work ended: a result, or the sentence of a failure it recorded."""

    result: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    #: what an inline caller gets back (not stored): the refresh's PreviewSnapshot
    value: Any = field(default=None, compare=False)


Handler = Callable[[JobContext], JobOutcome]


class JobKinds:
    """The handlers of the kinds of jobs, by name (built once in ``core.bootstrap``)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        """Run ``handler`` for jobs of ``kind`` (a short name: at most 16 characters)."""
        if not kind or len(kind) > 16:
            raise ValueError(f"a job kind is 1 to 16 characters: {kind!r}")
        self._handlers[kind] = handler

    def handler(self, kind: str) -> Handler:
        """The handler of ``kind``; KeyError when none is registered."""
        return self._handlers[kind]

    def kinds(self) -> list[str]:
        """The registered kinds."""
        return sorted(self._handlers)
