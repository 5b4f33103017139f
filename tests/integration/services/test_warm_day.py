"""A simulated day of always-warm previews (two hours, on a fake clock): the scheduler's rounds
every minute, workers that run what it queues, and users who open the previews at random
moments. With warming on, every open finds a preview that has not expired — nothing is
computed while a user waits (the Preview asks ``enqueue_missing``, which queues a computation
only for a missing or expired preview) — and the scheduler never has more than its per-org
bound of refreshes queued or running. With warming off, the same opens do compute."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from core.services.actors import REFRESH_PREVIEWS

ENTITIES = ("customers", "products", "orders")
DAY = timedelta(hours=2)
ROUND = timedelta(minutes=1)  # the scheduler's rounds (SCHEDULER_SECONDS, simulated)
OPENS = 40


def _day(services, admin, clock, *, warm: bool):
    """Run the simulated day; (opens that found a current preview, opens that computed, the
    most scheduled jobs active at once)."""
    settings = services.settings
    ahead = timedelta(seconds=settings.warm_ahead_seconds)
    backoff = timedelta(minutes=10)
    rng = random.Random(16)
    start = clock.now
    opens = sorted((start + DAY * rng.random(), rng.choice(ENTITIES)) for _ in range(OPENS))
    warm_opens = computed = most_active = 0
    while clock.now < start + DAY:
        if warm:
            services.jobs.warm(ahead, backoff, settings.warm_per_org, REFRESH_PREVIEWS)
        active = [j for j in services.jobs.recent(admin, kind="refresh") if j.active]
        scheduled = [j for j in active if j.started_by == "scheduler"]
        most_active = max(most_active, len(scheduled))
        for job in active:  # the workers keep up: what is queued in a round runs in it
            assert services.jobs.run(admin.org_id, job.id).state == "succeeded"
        clock.now += ROUND
        while opens and opens[0][0] < clock.now:
            _, entity = opens.pop(0)
            latest = services.previews.latest(admin, "woocommerce", entity)
            fresh = latest is not None and latest.expires_at > clock.now
            job = services.previews.enqueue_missing(admin, "woocommerce", entity)
            assert (job is None) == fresh  # the Preview computes only a missing/expired one
            if job is None:
                warm_opens += 1
            else:
                computed += 1
                services.jobs.run(admin.org_id, job.id)
    return warm_opens, computed, most_active


@pytest.mark.parametrize("every", [15, 60])
def test_with_always_warm_on_no_open_computes_over_two_hours(
    services, admin, sandbox, clock, every
):
    services.demo.load(admin, sandbox_url=sandbox.url)
    assert services.settings.preview_ttl_seconds == 3600  # the TTL the day runs against
    for entity in ENTITIES:
        services.warming.set_warm_choice(admin, "woocommerce", entity, every)
    warm_opens, computed, most_active = _day(services, admin, clock, warm=True)
    assert (warm_opens, computed) == (OPENS, 0)
    assert 0 < most_active <= services.settings.warm_per_org


def test_with_warming_off_the_same_opens_compute(services, admin, sandbox, clock):
    services.demo.load(admin, sandbox_url=sandbox.url)
    warm_opens, computed, most_active = _day(services, admin, clock, warm=False)
    assert computed >= 3 and warm_opens + computed == OPENS  # a first open, then each expiry
    assert most_active == 0
