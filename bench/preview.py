"""Preview service benchmark: cache-hit latency and a fresh refresh from the sandbox.

    python -m bench.preview [--changes 100000] [--refresh-n 100000] [--latency-ms 50]

Prints, for SQLite and PostgreSQL: p50/p95 latency of 200 cache hits of a snapshot that
holds --changes changed records; and the time of two fresh refreshes of --refresh-n sandbox
customers at --latency-ms per page against the latency bound (pages x latency /
concurrency), with the process's peak memory growth during each. The first refresh of a
process also pays one-time costs whatever the size (compare with --refresh-n 1000). The
refresh's sandbox runs in its own process so that serving pages does not compete with the app
for the GIL.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from bench.fetch import _free_port, _wait_ready
from core.bootstrap import Services, build_services
from core.config import load_settings
from core.connectors import ConnectorConfig, build_connector
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.delta import to_canonical
from core.sandbox import SandboxServer
from core.services.demo import WOO_CREDENTIALS

PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _services(url: str, data_dir: Path, concurrency: int) -> Services:
    settings = load_settings(
        data_dir=data_dir,
        database_url=url,
        secret_key=Fernet.generate_key().decode(),
        cookie_key="b" * 40,
        rate_limit="1000/minute",
        fetch_concurrency=concurrency,
    )
    return build_services(settings, rate_limit_namespace=f"bench-{uuid.uuid4().hex}")


class PeakRss:
    """Samples this process's memory every 20 ms; reports the growth over the start.

    Two figures: resident memory (RSS) and its anonymous part (RSS minus file-backed pages:
    what the process allocated). They differ by the code of libraries paged in for the first
    time (polars' machine code is ~20 MB of a first refresh), which is shared and evictable.
    """

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.start, self.start_anon = self._read()
        self.peak, self.peak_anon = self.start, self.start_anon
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> tuple[int, int]:
        info = self.proc.memory_info()
        return info.rss, info.rss - info.shared

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, anon = self._read()
            self.peak, self.peak_anon = max(self.peak, rss), max(self.peak_anon, anon)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20

    @property
    def anon_growth_mb(self) -> float:
        return (self.peak_anon - self.start_anon) / 2**20


def cache_hits(url: str, label: str, changes: int, data_dir: Path) -> None:
    with SandboxServer(size=changes, seed=1) as sandbox:
        svc = _services(url, data_dir, 6)
        try:
            ctx = svc.accounts.create_organization(
                "Bench",
                admin_username=f"b{uuid.uuid4().hex[:8]}",
                admin_name="B",
                admin_email="b@b.io",
                admin_password="password123",
            )
            svc.connectors.add(ctx, "woocommerce", "Bench store", sandbox.url, WOO_CREDENTIALS)
            t0 = time.perf_counter()
            snap = svc.previews.get_preview_snapshot(ctx, "woocommerce", "customers")
            build_s = time.perf_counter() - t0
            assert snap.counts["new"] == changes, snap.counts
            times = []
            for _ in range(200):
                t = time.perf_counter()
                hit = svc.previews.get_preview_snapshot(ctx, "woocommerce", "customers")
                times.append((time.perf_counter() - t) * 1000)
                assert hit.cache_hit
            q = statistics.quantiles(times, n=20)
            t = time.perf_counter()
            page = svc.previews.page_records(ctx, snap.snapshot_id, "new", offset=changes - 50)
            last_page_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            found = svc.previews.page_records(ctx, snap.snapshot_id, "new", search="zz")
            search_ms = (time.perf_counter() - t) * 1000
            print(
                f"[{label}] snapshot with {changes:,} changes built in {build_s:.1f} s; "
                f"cache hit p50 {statistics.median(times):.1f} ms, p95 {q[18]:.1f} ms "
                f"(200 calls); last page {last_page_ms:.1f} ms ({len(page.records)} rows); "
                f"search {search_ms:.1f} ms ({found.total} hits)"
            )
        finally:
            svc.close()


def fresh_refresh(n: int, latency_ms: float, concurrency: int, data_dir: Path) -> None:
    """One forced refresh against a sandbox in its own process (as a real store would be)."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core",
            "sandbox",
            "--port",
            str(port),
            "--size",
            str(n),
            "--seed",
            "2",
            "--latency-ms",
            str(latency_ms),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_ready(port, proc)
        url = f"http://127.0.0.1:{port}"
        svc = _services(f"sqlite:///{data_dir / 'refresh.db'}", data_dir, concurrency)
        try:
            ctx = svc.accounts.create_organization(
                "Refresh",
                admin_username="r",
                admin_name="R",
                admin_email="r@r.io",
                admin_password="password123",
            )
            svc.connectors.add(ctx, "woocommerce", "Bench store", url, WOO_CREDENTIALS)
            # local copy = the store, minus 1 %, 5 % changed: a realistic preview
            conn = build_connector(
                ConnectorConfig("woocommerce", url, WOO_CREDENTIALS), concurrency=concurrency
            )
            recs = [
                to_canonical("woocommerce", "customers", r)
                for page in conn.iter_pages("customers")
                for r in page
            ]
            conn.close()
            for i, r in enumerate(recs):
                if i % 20 == 3:
                    r["city"] = "Elsewhere"
            with tenant_session(svc.sessions, ctx.org_id) as s:
                LocalRecords(s).upsert(
                    "woocommerce", "customers", (r for i, r in enumerate(recs) if i % 100 != 5)
                )
            del recs
            pages = -(-n // 100)
            bound = pages * latency_ms / 1000 / concurrency
            # The first refresh of a process also pays one-time costs (polars' thread pool
            # and allocator arenas); the second shows what each further refresh costs.
            for label in ("first", "second"):
                with PeakRss() as rss:
                    t0 = time.perf_counter()
                    snap = svc.previews.get_preview_snapshot(
                        ctx, "woocommerce", "customers", force_refresh=True
                    )
                    took = time.perf_counter() - t0
                print(
                    f"[refresh, {label} in this process] {n:,} customers, {pages:,} pages at "
                    f"{latency_ms:.0f} ms, concurrency {concurrency}: {took:.2f} s; latency "
                    f"bound {bound:.2f} s; ratio {took / bound:.2f}; peak memory growth "
                    f"{rss.growth_mb:.0f} MB RSS, {rss.anon_growth_mb:.0f} MB allocated "
                    f"(RSS less library code paged in); counts {snap.counts}"
                )
        finally:
            svc.close()
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--changes", type=int, default=100_000)
    ap.add_argument("--refresh-n", type=int, default=100_000)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--concurrency", type=int, default=6)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--refresh-only", action="store_true", help="skip the cache-hit part")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        if not args.refresh_only:
            cache_hits(f"sqlite:///{data / 'hits.db'}", "sqlite", args.changes, data)
        if not (args.skip_postgres or args.refresh_only):
            name = f"syncpreview_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                cache_hits(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, "postgres", args.changes, data)
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        fresh_refresh(args.refresh_n, args.latency_ms, args.concurrency, data)


if __name__ == "__main__":
    main()
