"""The demo keeps working after the app restarts: its connectors find a sandbox by themselves."""

from __future__ import annotations

from pathlib import Path

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
