"""The queue that delivers jobs to workers: Huey, with the storage the deployment has.

``QUEUE_URL`` (or what ``Settings.queue_location`` derives from ``REDIS_URL`` and
``DATABASE_URL``) chooses it:

    sqlite:///path/queue.db        SqliteHuey (the embedded default: DATA_DIR/queue.db)
    postgresql://user@host/db      PostgresHuey (Huey's own storage, on psycopg 3)
    redis://host:6379/0            RedisHuey

The queue carries only ``(org_id, job_id)``: the job row is the truth, so a message that is
lost or delivered twice does no harm (claiming a job is a conditional update, and the
workers' scheduler sends again a job whose delivery was lost). Huey's results, retries and
periodic tasks are not used: retrying and scheduling are decided by the job rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import ConfigError

Runner = Callable[[int, int], object]

#: How long an idle consumer sleeps at most between two looks at the queue (SQLite polls).
MAX_POLL_SECONDS = 1.0


def queue_kind(location: str) -> str:
    """``sqlite``, ``postgresql`` or ``redis``: the kind of a queue URL (never the URL,
    which may carry a password)."""
    scheme = urlsplit(location).scheme.split("+")[0]
    if scheme in ("sqlite", "redis", "rediss", "postgresql", "postgres"):
        return {"rediss": "redis", "postgres": "postgresql"}.get(scheme, scheme)
    raise ConfigError(
        "QUEUE_URL must start with sqlite:///, postgresql:// or redis:// "
        f"(it starts with {scheme or 'nothing'}://)."
    )


def _make_huey(location: str, name: str) -> Any:
    from huey import PostgresHuey, RedisHuey, SqliteHuey

    kind = queue_kind(location)
    if kind == "sqlite":
        path = Path(location.split(":///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False)
    if kind == "redis":
        return RedisHuey(name, url=location, results=False)
    parts = urlsplit(location)
    dsn = parts._replace(scheme="postgresql").geturl()  # no SQLAlchemy driver suffix
    return PostgresHuey(name, dsn=dsn, results=False)


class JobQueue:
    """Sends jobs to the workers, and runs a worker's consumer."""

    def __init__(self, location: str, *, name: str = "syncpreview") -> None:
        self.kind = queue_kind(location)
        self.huey = _make_huey(location, name)
        self._runner: Runner | None = None

        def run_job(org_id: int, job_id: int) -> None:
            if self._runner is not None:
                self._runner(org_id, job_id)

        self._task = self.huey.task(name="run_job")(run_job)

    def send(self, org_id: int, job_id: int) -> None:
        """Put a job on the queue (any worker takes it)."""
        self._task(org_id, job_id)

    def close(self) -> None:
        """Close the queue's connection of this thread (SQLite, PostgreSQL)."""
        self.huey.storage.close()

    def pending(self) -> int:
        """Messages waiting on the queue."""
        return int(self.huey.pending_count())

    def consumer(self, runner: Runner, *, threads: int) -> Any:
        """A Huey consumer whose ``threads`` threads run the jobs delivered (``runner(org_id,
        job_id)``); ``.run()`` blocks until SIGINT (finishing the jobs running) or SIGTERM."""
        self._runner = runner
        return self.huey.create_consumer(
            workers=threads,
            worker_type="thread",
            periodic=False,
            max_delay=MAX_POLL_SECONDS,
        )
