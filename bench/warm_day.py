"""Benchmark: a simulated 2-hour day of users opening previews, with always-warm on and off.

    python -m bench.warm_day [--hours 2] [--opens 60] [--every 15] [--size 1000]
                             [--latency-ms 50] [--list]

One embedded deployment (SQLite, in a temporary DATA_DIR) on a fake clock; one organization
with a WooCommerce connector to a sandbox store (``--size`` customers = orders, its products,
every request answered after ``--latency-ms``). The simulated day: a scheduler round every
simulated minute (``JobService.warm`` with the settings' WARM_AHEAD_SECONDS and WARM_PER_ORG)
whose jobs are run at once, as workers that keep up do; users open one of the three previews
at ``--opens`` random moments (seeded). An open does what the Preview does: it finds a current
preview (``enqueue_missing`` returns None: nothing to wait for) or queues its computation,
which the user waits for — timed here for real against the store. With warming on (every
``--every`` minutes, PREVIEW_TTL_SECONDS from the settings: 1 hour) beside the reference of
warming off: how many opens found a warm preview, how many computed, how long users waited.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.bootstrap import build_services
from core.config import load_settings
from core.sandbox import SandboxServer
from core.services.actors import REFRESH_PREVIEWS
from core.services.demo import WOO_CREDENTIALS

ENTITIES = ("customers", "products", "orders")
ROUND = timedelta(minutes=1)
BACKOFF = timedelta(minutes=10)


class Clock:
    """The simulated day's clock."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def day(
    sandbox: SandboxServer, *, warm_every: int | None, hours: float, opens: int, show: bool
) -> None:
    clock = Clock()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-warm-day-"))
    services = build_services(load_settings(data_dir=data_dir), clock=clock, queue=False)
    try:
        settings = services.settings
        admin = services.accounts.create_organization(
            "Day", slug="day", admin_username="ada", admin_name="Ada",
            admin_email="ada@example.com", admin_password="bench-password-1",
        )  # fmt: skip
        services.connectors.add(admin, "woocommerce", "Store", sandbox.url, WOO_CREDENTIALS)
        if warm_every is not None:
            for entity in ENTITIES:
                services.warming.set_warm_choice(admin, "woocommerce", entity, warm_every)
        ahead = timedelta(seconds=settings.warm_ahead_seconds)
        rng = random.Random(16)
        start, length = clock.now, timedelta(hours=hours)
        todo = sorted((start + length * rng.random(), rng.choice(ENTITIES)) for _ in range(opens))
        found = computed = refreshes = most_active = 0
        waits: list[float] = []
        while clock.now < start + length:
            if warm_every is not None:
                services.jobs.warm(ahead, BACKOFF, settings.warm_per_org, REFRESH_PREVIEWS)
            active = [j for j in services.jobs.recent(admin, kind="refresh") if j.active]
            most_active = max(most_active, len(active))
            for job in active:
                services.jobs.run(admin.org_id, job.id)
                refreshes += 1
            clock.now += ROUND
            while todo and todo[0][0] < clock.now:
                at, entity = todo.pop(0)
                t0 = time.perf_counter()
                wanted = services.previews.enqueue_missing(admin, "woocommerce", entity)
                if wanted is None:
                    found += 1
                    what = "warm"
                else:
                    services.jobs.run(admin.org_id, wanted.id)
                    computed += 1
                    waits.append(time.perf_counter() - t0)
                    what = f"computed while the user waited {waits[-1]:.2f} s"
                if show:
                    print(f"  {(at - start).total_seconds() / 60:6.1f} min  {entity:9s}  {what}")
        label = f"warm every {warm_every} min" if warm_every is not None else "warming off"
        waited = (
            f"users waited {sum(waits):.1f} s in all (longest {max(waits):.2f} s)"
            if waits
            else "no user waited"
        )
        print(
            f"{label:18s}: {opens} opens over {hours:g} h — {found} found a current preview, "
            f"{computed} computed; {waited}; {refreshes} scheduled refreshes, at most "
            f"{most_active} at once (WARM_PER_ORG {settings.warm_per_org})",
            flush=True,
        )
    finally:
        services.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0, help="length of the simulated day")
    parser.add_argument("--opens", type=int, default=60, help="previews opened, at random")
    parser.add_argument("--every", type=int, default=15, help="warming interval (minutes)")
    parser.add_argument("--size", type=int, default=1000, help="customers (= orders) per store")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="latency of each request")
    parser.add_argument("--list", action="store_true", help="print every open")
    args = parser.parse_args(argv)
    with SandboxServer(size=args.size) as sandbox:
        sandbox.faults.latency_ms = args.latency_ms
        print(
            f"Sandbox: {args.size} customers (= orders), {args.latency_ms:g} ms a request; "
            "PREVIEW_TTL_SECONDS 3600; a scheduler round every simulated minute",
            flush=True,
        )
        for every in (args.every, None):
            day(sandbox, warm_every=every, hours=args.hours, opens=args.opens, show=args.list)
    return 0


if __name__ == "__main__":
    sys.exit(main())
