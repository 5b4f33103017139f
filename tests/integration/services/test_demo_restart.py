"""The demo keeps working after the app restarts: its connectors find a sandbox by themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.bootstrap import Services
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.jobs import JobCancelled
from core.services.actors import UserContext
from core.worker import tick
from tests.integration.services.conftest import make_services


def test_demo_survives_a_restart(db_url: str, tmp_path: Path) -> None:
    first = make_services(db_url, tmp_path, rate_limit="100/minute")
    try:
        admin = first.accounts.create_organization(
            "Demo Co",
            admin_username="dora",
            admin_name="Dora",
            admin_email="d@demo.io",
            admin_password="password123",
        )
        first.demo.load(admin)  # no URL: sandbox started in-process
        views = first.connectors.list(admin)
        assert {v.sync_type for v in views} == {"woocommerce", "odoo"}
        assert all(v.options.get("sandbox") for v in views)
        before = {
            (s, e): first.previews.get_preview_snapshot(admin, s, e).counts
            for s in ("woocommerce", "odoo")
            for e in ("customers", "orders")
        }
    finally:
        first.close()  # the process ends: its sandbox stops

    second = make_services(db_url, tmp_path, rate_limit="100/minute")
    try:
        for (sync_type, entity), counts in before.items():
            fresh = second.previews.get_preview_snapshot(
                admin, sync_type, entity, force_refresh=True
            )
            assert fresh.refresh_error is None
            assert fresh.counts == counts  # same deterministic data, found again
        assert second.connectors.test(admin, views[0].id).startswith("Connected to")
    finally:
        second.close()


def _new_org(services: Services) -> UserContext:
    return services.accounts.create_organization(
        "Demo Co",
        admin_username="dora",
        admin_name="Dora",
        admin_email="d@demo.io",
        admin_password="password123",
    )


def test_a_demo_load_stopped_halfway_shows_nothing_and_completes_when_run_again(
    db_url: str, tmp_path: Path
) -> None:
    """As when its worker is killed: the local records written so far stay, but no demo
    connector exists (its preview would show every record as new); loading again (another
    worker taking the job over) completes it, once."""
    services = make_services(db_url, tmp_path, rate_limit="100/minute")
    try:
        admin = _new_org(services)
        steps: list[int] = []

        def killed_after_two_entities() -> None:
            steps.append(1)
            if len(steps) > 2:
                raise JobCancelled("The worker stopped.")

        with pytest.raises(JobCancelled):
            services.demo.load(admin, check=killed_after_two_entities)
        assert services.connectors.list(admin) == []
        with tenant_session(services.sessions, admin.org_id) as s:
            assert LocalRecords(s).count("woocommerce", "customers") > 0
            assert LocalRecords(s).count("odoo", "customers") == 0

        loaded = services.demo.load(admin)
        assert set(loaded) == {"woocommerce", "odoo"}
        assert {c.name for c in services.connectors.list(admin)} == {
            "Demo WooCommerce store",
            "Demo Odoo",
        }
        for sync_type in ("woocommerce", "odoo"):
            counts = services.previews.get_preview_snapshot(admin, sync_type, "customers").counts
            assert counts["updated"] and counts["deleted"], counts
            assert counts["new"] < counts["unchanged"] / 10, counts  # not "all new"
        events, _ = services.activity.list_activity(admin, limit=50)
        assert [e.action for e in events].count("demo_loaded") == 1
    finally:
        services.close()


def test_a_worker_points_the_demo_at_its_sandbox_when_the_one_serving_it_ended(
    db_url: str, tmp_path: Path
) -> None:
    """The sandbox ran in a worker that stopped, and no process started since: the next
    round of another worker's scheduler points the demo connectors at its own sandbox."""
    first = make_services(db_url, tmp_path, rate_limit="100/minute")
    second = make_services(db_url, tmp_path, rate_limit="100/minute")  # a worker running
    try:
        admin = _new_org(first)
        first.demo.load(admin)
        served_by_first = {c.base_url for c in first.connectors.list(admin)}
        first.close()  # the process that served the sandbox ends
        tick(second, "worker-2", 1)
        moved = {c.base_url for c in second.connectors.list(admin)}
        assert moved and moved.isdisjoint(served_by_first)
        fresh = second.previews.get_preview_snapshot(admin, "odoo", "products", force_refresh=True)
        assert fresh.refresh_error is None and fresh.counts["updated"]
    finally:
        second.close()
