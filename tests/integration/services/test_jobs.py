"""Jobs in the services: one organization's jobs are invisible to another; the workers'
scheduler keeps previews warm (decisions on a fake clock, no sleeping); a job run by the
worker's entry point (``JobService.run``) as a worker's consumer runs it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import InvalidRequest, NotFoundError, PermissionDenied
from core.services.activity import ActivityFilter
from core.services.actors import REFRESH_PREVIEWS
from core.services.warming import HOURLY

ENTITIES = ("customers", "products", "orders")
AHEAD = timedelta(seconds=300)
BACKOFF = timedelta(minutes=10)


def test_another_organization_sees_none_of_its_jobs(services, admin, sandbox):
    services.demo.load(admin, sandbox_url=sandbox.url)
    job, _ = services.previews.enqueue_refresh(admin, "woocommerce", "customers")
    other = services.accounts.create_organization(
        "Other", slug="other", admin_username="olga", admin_name="Olga",
        admin_email="olga@example.com", admin_password="pw-olga-12345",
    )  # fmt: skip
    assert services.jobs.recent(other) == []
    with pytest.raises(NotFoundError):
        services.jobs.get(other, job.id)
    with pytest.raises(NotFoundError):
        services.jobs.cancel(other, job.id)
    assert services.jobs.get(admin, job.id).state == "queued"  # untouched


def test_a_queued_job_is_cancelled_at_once(services, admin, sandbox):
    services.demo.load(admin, sandbox_url=sandbox.url)
    job, _ = services.previews.enqueue_refresh(admin, "woocommerce", "customers")
    cancelled = services.jobs.cancel(admin, job.id)
    assert (cancelled.state, cancelled.cancelled_by) == ("cancelled", admin.username)
    assert services.jobs.run(admin.org_id, job.id) is None  # a late delivery does nothing
    again, created = services.previews.enqueue_refresh(admin, "woocommerce", "customers")
    assert created and again.id != job.id


def _keep_warm(services, admin, entities=ENTITIES, every=HOURLY, sync_type="woocommerce"):
    for entity in entities:
        services.warming.set_warm_choice(admin, sync_type, entity, every)


def test_the_scheduler_refreshes_previews_ahead_of_expiry(services, admin, sandbox, clock):
    services.demo.load(admin, sandbox_url=sandbox.url)
    _keep_warm(services, admin, every=120)  # longer than the hour they last: expiry decides
    for entity in ENTITIES:
        services.previews.get_preview_snapshot(admin, "woocommerce", entity)
    jobs = services.jobs
    assert jobs.warm_candidates(AHEAD, BACKOFF) == []  # all fresh for an hour

    clock.now += timedelta(seconds=3600) - AHEAD - timedelta(seconds=1)
    assert jobs.warm_candidates(AHEAD, BACKOFF) == []  # not yet within AHEAD of expiry
    clock.now += timedelta(seconds=2)
    chosen = jobs.warm_candidates(AHEAD, BACKOFF)
    assert sorted(c.target.entity_type for c in chosen) == ["customers", "orders", "products"]

    queued = jobs.warm(AHEAD, BACKOFF, 2, REFRESH_PREVIEWS)
    assert len(queued) == 2  # at most 2 scheduled jobs of one organization at once
    assert {j.started_by for j in queued} == {"scheduler"}
    assert jobs.warm(AHEAD, BACKOFF, 2, REFRESH_PREVIEWS) == []  # dedupe and the bound

    for job in queued:
        assert jobs.run(admin.org_id, job.id).state == "succeeded"
    third = jobs.warm(AHEAD, BACKOFF, 2, REFRESH_PREVIEWS)
    assert len(third) == 1
    assert jobs.run(admin.org_id, third[0].id).state == "succeeded"
    assert jobs.warm_candidates(AHEAD, BACKOFF) == []  # warm again for an hour

    refreshes, _ = services.activity.list_activity(
        admin, ActivityFilter(action="refresh", user="scheduler")
    )
    assert len(refreshes) == 3  # logged as done by the scheduler


def test_a_failed_scheduled_refresh_backs_off(services, admin, sandbox, clock):
    services.demo.load(admin, sandbox_url=sandbox.url)
    _keep_warm(services, admin, ["customers"])
    services.previews.get_preview_snapshot(admin, "woocommerce", "customers")
    clock.now += timedelta(seconds=3600)
    (job,) = services.jobs.warm(AHEAD, BACKOFF, 2, REFRESH_PREVIEWS)
    sandbox.faults.rate_429, sandbox.faults.retry_after = 1.0, 0  # transient: "too many"
    try:
        ended = services.jobs.run(admin.org_id, job.id)
    finally:
        sandbox.faults.reset()
    assert ended.state == "failed" and "too many requests" in ended.error
    assert services.jobs.warm_candidates(AHEAD, BACKOFF) == []  # backing off
    assert not services.warming.get_warm_choice(admin, "woocommerce", "customers").stopped
    clock.now += BACKOFF + timedelta(seconds=1)
    assert len(services.jobs.warm_candidates(AHEAD, BACKOFF)) == 1


def _entities(candidates):
    return sorted((c.target.sync_type, c.target.entity_type) for c in candidates)


def test_only_previews_chosen_to_be_kept_warm_are_warmed(services, admin, sandbox, clock):
    services.demo.load(admin, sandbox_url=sandbox.url)
    for entity in ENTITIES:
        services.previews.get_preview_snapshot(admin, "woocommerce", entity)
    jobs = services.jobs
    clock.now += timedelta(hours=2)  # every preview expired
    assert jobs.warm_candidates(AHEAD, BACKOFF) == []  # none chosen: none warmed

    _keep_warm(services, admin, ["customers"], every=15)
    _keep_warm(services, admin, ["orders"], every=HOURLY)
    _keep_warm(services, admin, ["products"], sync_type="odoo", every=30)  # never computed
    assert _entities(jobs.warm_candidates(AHEAD, BACKOFF)) == [
        ("odoo", "products"),
        ("woocommerce", "customers"),
        ("woocommerce", "orders"),
    ]
    services.warming.set_warm_choice(admin, "woocommerce", "orders", None)  # turned off
    assert _entities(jobs.warm_candidates(AHEAD, BACKOFF)) == [
        ("odoo", "products"),
        ("woocommerce", "customers"),
    ]


def test_a_preview_is_refreshed_when_older_than_its_interval(services, admin, sandbox, clock):
    services.demo.load(admin, sandbox_url=sandbox.url)
    _keep_warm(services, admin, ["customers"], every=15)
    _keep_warm(services, admin, ["orders"], every=HOURLY)
    for entity in ("customers", "orders"):
        services.previews.get_preview_snapshot(admin, "woocommerce", entity)
    jobs = services.jobs
    clock.now += timedelta(minutes=14)
    assert jobs.warm_candidates(AHEAD, BACKOFF) == []
    clock.now += timedelta(minutes=2)  # the customers are 16 minutes old
    (due,) = jobs.warm(AHEAD, BACKOFF, 2, REFRESH_PREVIEWS)
    assert (due.entity_type, due.started_by) == ("customers", "scheduler")
    assert jobs.run(admin.org_id, due.id).state == "succeeded"
    assert jobs.warm_candidates(AHEAD, BACKOFF) == []  # fresh again
    clock.now += timedelta(minutes=16 + 60 - 32 - 4)  # orders: 56 min old, expire in 4
    assert _entities(jobs.warm_candidates(AHEAD, BACKOFF)) == [
        ("woocommerce", "customers"),
        ("woocommerce", "orders"),
    ]


def test_scheduled_work_never_exceeds_its_per_org_bound(services, admin, sandbox, clock):
    services.demo.load(admin, sandbox_url=sandbox.url)
    _keep_warm(services, admin, every=5)
    _keep_warm(services, admin, sync_type="odoo", every=5)
    jobs = services.jobs
    bound, ran = 2, 0
    for _ in range(24):  # two simulated hours, a scheduler round every five minutes
        jobs.warm(AHEAD, BACKOFF, bound, REFRESH_PREVIEWS)
        active = [j for j in jobs.recent(admin, kind="refresh") if j.active]
        assert len(active) <= bound
        for job in active[:1]:  # the workers are slower than the scheduler
            assert jobs.run(admin.org_id, job.id).state == "succeeded"
            ran += 1
        clock.now += timedelta(minutes=5)
    assert ran == 24


def test_choosing_is_for_admins_and_logged(services, admin, sandbox):
    services.demo.load(admin, sandbox_url=sandbox.url)
    services.accounts.add_user(admin, "ed", "Ed", "ed@acme.io", "a long password 1", "editor")
    editor = services.accounts.user_context(f"{admin.org_id}/ed")
    with pytest.raises(PermissionDenied):
        services.warming.set_warm_choice(editor, "woocommerce", "customers", 15)
    for bad in (4, 0, -1, 7 * 24 * 60 + 1):
        with pytest.raises(InvalidRequest):
            services.warming.set_warm_choice(admin, "woocommerce", "customers", bad)
    assert not services.warming.get_warm_choice(editor, "woocommerce", "customers").on
    chosen = services.warming.set_warm_choice(admin, "woocommerce", "customers", 15)
    assert (chosen.every_minutes, chosen.updated_by, chosen.describe()) == (
        15,
        admin.username,
        "every 15 minutes",
    )
    seen = services.warming.get_warm_choice(editor, "woocommerce", "customers")
    assert seen.every_minutes == 15  # anyone reads it
    assert [c.entity_type for c in services.warming.list_warm_choices(editor)] == ["customers"]
    logged, _ = services.activity.list_activity(admin, ActivityFilter(action="warm"))
    assert len(logged) == 1 and logged[0].user == admin.username

    other = services.accounts.create_organization(
        "Other", slug="other", admin_username="olga", admin_name="Olga",
        admin_email="olga@example.com", admin_password="pw-olga-12345",
    )  # fmt: skip
    assert services.warming.list_warm_choices(other) == []
