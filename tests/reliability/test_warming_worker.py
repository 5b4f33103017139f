"""A real worker process (`python -m core worker`) keeping previews warm against the sandbox
store over loopback: when the store refuses the connector's keys (401), the scheduler stops
warming the connector's previews and says why, and warms them again once the keys are fixed."""

from __future__ import annotations

from core.services.activity import ActivityFilter
from tests.reliability.test_workers import _setup, _worker
from tests.workers import until


def test_a_worker_stops_warming_when_the_store_refuses_the_keys(sandbox, tmp_path):
    env, services, admin = _setup(sandbox, tmp_path)
    worker = None
    try:
        (woo,) = [c for c in services.connectors.list(admin) if c.sync_type == "woocommerce"]
        services.warming.set_warm_choice(admin, "woocommerce", "orders", 5)  # never computed
        services.connectors.update(admin, woo.id, credentials={"consumer_key": "ck_wrong_key"})
        worker = _worker({**env, "WARM_PREVIEWS": "true"})

        def stopped():  # noqa: ANN202
            choice = services.warming.get_warm_choice(admin, "woocommerce", "orders")
            return choice if choice.stopped else None

        choice = until("the warming to stop", stopped)
        assert "Consumer key is invalid" in choice.stopped_reason, worker.log()
        assert "credentials" in choice.fix()
        failed = [j for j in services.jobs.recent(admin, kind="refresh") if j.state == "failed"]
        assert [j.started_by for j in failed] == ["scheduler"]  # tried once, then stopped
        stops, _ = services.activity.list_activity(
            admin, ActivityFilter(action="warm_stop", user="scheduler")
        )
        assert len(stops) == 1 and "Consumer key is invalid" in stops[0].error
        assert services.previews.latest(admin, "woocommerce", "orders") is None

        services.connectors.update(admin, woo.id, credentials={"consumer_key": "ck_sandbox"})
        warm = until(
            "the preview to be warmed again",
            lambda: services.previews.latest(admin, "woocommerce", "orders"),
        )
        assert warm.counts["new"] + warm.counts["updated"] + warm.counts["unchanged"] > 0
        refreshes, _ = services.activity.list_activity(
            admin, ActivityFilter(action="refresh", user="scheduler")
        )
        assert any(e.status == "ok" and e.entity_type == "orders" for e in refreshes)
        assert not services.warming.get_warm_choice(admin, "woocommerce", "orders").stopped
    finally:
        if worker is not None:
            worker.stop()
        services.close()
