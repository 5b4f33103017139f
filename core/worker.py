"""A worker process: `python -m core worker [--workers N]`.

It runs a Huey consumer (``core.jobs.queue``) whose threads run the jobs the queue delivers
(``JobService.run``), and a scheduler thread that, every ``SCHEDULER_SECONDS``, says the
worker is alive (the CLI and the API run refreshes themselves when no worker is), points the
demo connectors whose sandbox ended with its process at one of its own, sends again the jobs
whose worker died, and queues the refreshes that keep previews warm. Several workers
on several machines share one queue; the job rows decide who runs what.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from core.bootstrap import Services, build_services
from core.config import Settings
from core.services.actors import REFRESH_PREVIEWS

log = logging.getLogger(__name__)

#: A preview whose last refresh failed is not warmed again before this (back-off).
WARM_BACKOFF = timedelta(minutes=10)


def tick(services: Services, worker_id: str, threads: int) -> None:
    """One round of the scheduler (see the module docstring)."""
    settings = services.settings
    jobs = services.jobs
    jobs.announce(worker_id, threads)
    if services.demo.resume():  # the process that ran a demo's sandbox ended
        log.warning("pointed the demo connectors at this worker's sandbox")
    resent = jobs.resend_lost()
    if resent:
        log.warning("sent again %d job(s) whose worker stopped or whose delivery was lost", resent)
    if settings.warm_previews:
        queued = jobs.warm(
            timedelta(seconds=settings.warm_ahead_seconds),
            WARM_BACKOFF,
            settings.warm_per_org,
            REFRESH_PREVIEWS,
        )
        if queued:
            log.info("queued %d refresh(es) to keep previews warm", len(queued))


def _scheduler(services: Services, worker_id: str, threads: int, stop: threading.Event) -> None:
    while True:
        try:
            tick(services, worker_id, threads)
        except Exception:  # the database may be restarting: try again next round
            log.exception("the worker's scheduler failed; trying again")
        if stop.wait(services.settings.scheduler_seconds):
            return


def freeze_startup_objects() -> None:
    """Keep the objects made at start-up (modules, the services, ~170,000 of them) out of the
    garbage collector's reach: they live as long as the process, and each full collection,
    which the records of a few refreshes set off, would walk them all (about a fifth of the
    CPU of refreshing small stores)."""
    gc.collect()
    gc.freeze()


def run_worker(settings: Settings, threads: int) -> int:
    """Run a worker until SIGINT (jobs running are finished) or SIGTERM."""
    services = build_services(settings)
    jobs = services.jobs
    assert jobs.queue is not None
    freeze_startup_objects()
    worker_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    stop = threading.Event()
    scheduler = threading.Thread(
        target=_scheduler, args=(services, worker_id, threads, stop), name="scheduler", daemon=True
    )
    consumer = jobs.queue.consumer(jobs.run, threads=threads)
    scheduler.start()
    print(
        f"Worker {worker_id}: {threads} thread(s) on the {jobs.queue.kind} queue; Ctrl-C stops it.",
        flush=True,
    )
    try:
        consumer.run()
    finally:
        stop.set()
        scheduler.join(timeout=5)
        try:
            jobs.retire(worker_id)
        finally:
            services.close()
    return 0
