"""The scheduler stops keeping a preview warm after an error that retrying will not fix, says
why, and warms it again once an admin switches it on again or changes the connector
(decisions on a fake clock; the refreshes run against the sandbox store over loopback)."""

from __future__ import annotations

from datetime import timedelta

from core.services.activity import ActivityFilter
from core.services.actors import REFRESH_PREVIEWS

AHEAD = timedelta(seconds=300)
BACKOFF = timedelta(minutes=10)


def _due(services):
    return sorted(c.target.entity_type for c in services.jobs.warm_candidates(AHEAD, BACKOFF))


def _run_due(services, admin):
    """Queue the due refreshes and run them as a worker does; their jobs as they ended."""
    queued = services.jobs.warm(AHEAD, BACKOFF, 5, REFRESH_PREVIEWS)
    return [services.jobs.run(admin.org_id, j.id) for j in queued]


def _woo(services, admin):
    (connector,) = [c for c in services.connectors.list(admin) if c.sync_type == "woocommerce"]
    return connector


def test_refused_credentials_stop_warming_every_preview_of_the_connector(
    services, admin, sandbox, clock
):
    services.demo.load(admin, sandbox_url=sandbox.url)
    for entity in ("customers", "orders", "products"):
        services.warming.set_warm_choice(admin, "woocommerce", entity, 15)
    services.warming.set_warm_choice(admin, "odoo", "customers", 15)  # another connector
    services.previews.get_preview_snapshot(admin, "woocommerce", "customers")  # a good one
    woo = _woo(services, admin)
    services.connectors.update(admin, woo.id, credentials={"consumer_key": "ck_wrong_key"})

    clock.now += timedelta(minutes=16)
    ended = _run_due(services, admin)
    assert len(ended) == 4 and {j.started_by for j in ended} == {"scheduler"}
    failed = {j.entity_type for j in ended if j.sync_type == "woocommerce"}
    assert failed == {"customers", "orders", "products"}
    assert all(j.state == "failed" for j in ended if j.sync_type == "woocommerce")

    for entity in ("customers", "orders", "products"):
        choice = services.warming.get_warm_choice(admin, "woocommerce", entity)
        assert choice.on and choice.stopped, entity
        assert choice.stopped_at <= clock.now
        assert "Consumer key is invalid" in choice.stopped_reason
        assert "credentials" in choice.fix()
        assert choice.updated_by == admin.username  # who chose the interval is kept
    assert not services.warming.get_warm_choice(admin, "odoo", "customers").stopped

    clock.now += BACKOFF + timedelta(hours=3)  # long past the back-off: still stopped
    assert _due(services) == ["customers"]  # only Odoo's
    stops, _ = services.activity.list_activity(
        admin, ActivityFilter(action="warm_stop", user="scheduler")
    )
    assert len(stops) == 1  # one stop for the connector, not one per failed refresh
    assert "Consumer key is invalid" in stops[0].error
    assert stops[0].details["entities"] == ["customers", "orders", "products"]

    services.connectors.update(admin, woo.id, credentials={"consumer_key": "ck_sandbox"})
    assert _due(services) == ["customers", "customers", "orders", "products"]
    assert all(j.state == "succeeded" for j in _run_due(services, admin))
    assert not services.warming.get_warm_choice(admin, "woocommerce", "orders").stopped


def test_a_broken_store_answer_stops_that_preview_until_an_admin_switches_it_on_again(
    services, admin, sandbox, clock
):
    services.demo.load(admin, sandbox_url=sandbox.url)
    services.warming.set_warm_choice(admin, "woocommerce", "customers", 15)
    services.warming.set_warm_choice(admin, "woocommerce", "orders", 15)
    clock.now += timedelta(minutes=16)
    queued = services.jobs.warm(AHEAD, BACKOFF, 5, REFRESH_PREVIEWS)
    by_entity = {j.entity_type: j for j in queued}
    sandbox.faults.malformed_page = 1  # the store answers broken JSON: terminal
    try:
        ended = services.jobs.run(admin.org_id, by_entity["customers"].id)
    finally:
        sandbox.faults.reset()
    assert ended.state == "failed"
    assert services.jobs.run(admin.org_id, by_entity["orders"].id).state == "succeeded"

    stopped = services.warming.get_warm_choice(admin, "woocommerce", "customers")
    assert stopped.stopped and stopped.stopped_reason == ended.error
    assert stopped.to_dict()["stoppedReason"] == ended.error
    assert not services.warming.get_warm_choice(admin, "woocommerce", "orders").stopped
    assert _due(services) == []  # orders are fresh; customers are not warmed any more

    clock.now += timedelta(minutes=1)
    services.warming.set_warm_choice(admin, "woocommerce", "customers", 15)  # on again
    assert not services.warming.get_warm_choice(admin, "woocommerce", "customers").stopped
    assert _due(services) == ["customers"]  # at once: no back-off after an admin's fix
    clock.now += timedelta(hours=2)
    assert _due(services) == ["customers", "orders"]


def test_a_refresh_someone_started_does_not_stop_warming(services, admin, sandbox, clock):
    services.demo.load(admin, sandbox_url=sandbox.url)
    services.warming.set_warm_choice(admin, "woocommerce", "customers", 15)
    sandbox.faults.malformed_page = 1
    try:
        job, _ = services.previews.enqueue_refresh(admin, "woocommerce", "customers")
        assert services.jobs.run(admin.org_id, job.id).state == "failed"
    finally:
        sandbox.faults.reset()
    assert not services.warming.get_warm_choice(admin, "woocommerce", "customers").stopped
