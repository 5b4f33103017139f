"""Jobs in the services: one organization's jobs are invisible to another; the workers'
scheduler keeps previews warm (decisions on a fake clock, no sleeping); a job run by the
worker's entry point (``JobService.run``) as a worker's consumer runs it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import NotFoundError
from core.services.activity import ActivityFilter
from core.services.actors import REFRESH_PREVIEWS

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


def test_the_scheduler_refreshes_previews_ahead_of_expiry(services, admin, sandbox, clock):
    services.demo.load(admin, sandbox_url=sandbox.url)
    for entity in ("customers", "products", "orders"):
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
    services.previews.get_preview_snapshot(admin, "woocommerce", "customers")
    clock.now += timedelta(seconds=3600)
    (job,) = services.jobs.warm(AHEAD, BACKOFF, 2, REFRESH_PREVIEWS)
    sandbox.faults.malformed_page = 1
    try:
        ended = services.jobs.run(admin.org_id, job.id)
    finally:
        sandbox.faults.reset()
    assert ended.state == "failed" and ended.error
    assert services.jobs.warm_candidates(AHEAD, BACKOFF) == []  # backing off
    clock.now += BACKOFF + timedelta(seconds=1)
    assert len(services.jobs.warm_candidates(AHEAD, BACKOFF)) == 1
