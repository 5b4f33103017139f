"""Benchmark: always-warm previews warmed by a real worker process, against the latency bound.

    python -m bench.warming [--orgs 4] [--size 1000] [--latency-ms 100] [--threads 1,2,4]
                            [--processes 1]

For each thread count: a fresh embedded deployment (SQLite database and queue in a temporary
DATA_DIR); ``--orgs`` organizations, each with a WooCommerce connector to one sandbox store
(``--size`` customers = orders, its products) answering every page after ``--latency-ms``; a
worker (`python -m core worker --workers N`, FETCH_CONCURRENCY=1, scheduler every 0.2 s)
started and seen alive; then every organization chooses to keep its 3 previews warm (every 5
minutes) and the clock runs until every preview is computed. The bound is
requests x latency / threads (every request the sandbox answered: data pages of 100 records,
and the counts and checks a refresh asks for): the time the latency alone costs with the
threads perfectly busy. Beside it, the CPU time the workers used meanwhile (from /proc,
Linux), which a busy machine changes far less than the wall time. The sandbox runs in this
process (its request counter is read); the workers, which do the work, in their own.
``--processes 1,2`` runs each thread count also as
that many worker processes sharing the threads (4 threads = 2 workers x 2 threads): a
worker's threads share one interpreter, so its CPU work (reading pages, diffing, storing)
runs on one core at a time; several workers use several cores.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.bootstrap import build_services
from core.config import load_settings
from core.sandbox import SandboxServer
from core.services.demo import WOO_CREDENTIALS

ENTITIES = ("customers", "products", "orders")
PAGE = 100


def _records(counts: dict[str, int]) -> int:
    """The store's records a preview read (every kind but deleted: those are local only)."""
    return sum(v for k, v in counts.items() if k != "deleted")


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux); 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def warm_run(
    sandbox: SandboxServer, orgs: int, threads: int, latency_ms: float, processes: int = 1
) -> None:
    url = sandbox.url
    data_dir = Path(tempfile.mkdtemp(prefix="bench-warming-"))
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SCHEDULER_SECONDS": "0.2",
        "FETCH_CONCURRENCY": "1",
        "WARM_PREVIEWS": "true",
    }
    for name in ("DATABASE_URL", "QUEUE_URL", "REDIS_URL"):
        env.pop(name, None)
    services = build_services(load_settings(data_dir=data_dir))
    workers: list[subprocess.Popen[bytes]] = []
    try:
        admins = []
        for i in range(orgs):
            admin = services.accounts.create_organization(
                f"Org {i}",
                slug=f"org{i}",
                admin_username=f"admin{i}",
                admin_name=f"Admin {i}",
                admin_email=f"admin{i}@example.com",
                admin_password="bench-password-1",
            )
            services.connectors.add(admin, "woocommerce", "Store", url, WOO_CREDENTIALS)
            admins.append(admin)
        for _ in range(processes):
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "core",
                        "worker",
                        "--workers",
                        str(threads // processes),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        stop = time.monotonic() + 60
        while services.jobs.workers_alive() < processes:
            if any(w.poll() is not None for w in workers) or time.monotonic() > stop:
                raise SystemExit("a worker did not start")
            time.sleep(0.05)

        sandbox.stats.reset()
        cpu_before = sum(_cpu_seconds(w.pid) for w in workers)
        started = time.perf_counter()
        for admin in admins:
            for entity in ENTITIES:
                services.warming.set_warm_choice(admin, "woocommerce", entity, 5)
        pending = {(a, e) for a in range(orgs) for e in ENTITIES}
        pages = 0
        stop = time.monotonic() + 600
        while pending:
            if any(w.poll() is not None for w in workers) or time.monotonic() > stop:
                raise SystemExit(f"a worker stopped or it took too long; {len(pending)} left")
            for a, entity in sorted(pending):
                snap = services.previews.latest(admins[a], "woocommerce", entity)
                if snap is not None:
                    pending.discard((a, entity))
                    pages += max(1, math.ceil(_records(snap.counts) / PAGE))
            time.sleep(0.05)
        took = time.perf_counter() - started
        cpu = sum(_cpu_seconds(w.pid) for w in workers) - cpu_before
        requests = sandbox.stats.requests
        bound = requests * latency_ms / 1000 / threads
        how = f" in {processes} workers" if processes > 1 else ""
        print(
            f"{threads} thread(s){how}: {orgs * len(ENTITIES)} previews ({orgs} orgs x "
            f"{len(ENTITIES)}; {pages} data pages, {requests} requests) warm in {took:.2f} s; "
            f"bound {requests} x {latency_ms:g} ms / {threads} = {bound:.2f} s; "
            f"ratio {took / bound:.2f}; worker CPU {cpu:.2f} s "
            f"({cpu / (orgs * len(ENTITIES)):.3f} s a preview)",
            flush=True,
        )
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
        services.close()


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox, warm every organization's previews with each thread count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=4, help="organizations")
    parser.add_argument("--size", type=int, default=1000, help="customers (= orders) per store")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="latency of each page")
    parser.add_argument("--threads", default="1,2,4", help="worker threads to compare")
    parser.add_argument(
        "--processes", default="1", help="worker processes sharing each thread count to compare"
    )
    args = parser.parse_args(argv)
    with SandboxServer(size=args.size) as sandbox:
        sandbox.faults.latency_ms = args.latency_ms
        print(
            f"Sandbox: {args.size} customers (= orders) per store, {args.latency_ms:g} ms a "
            "request; worker FETCH_CONCURRENCY=1, WARM_PER_ORG default (2)",
            flush=True,
        )
        for threads in (int(t) for t in args.threads.split(",")):
            for processes in (int(p) for p in args.processes.split(",")):
                if processes <= threads and threads % processes == 0:
                    warm_run(sandbox, args.orgs, threads, args.latency_ms, processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
