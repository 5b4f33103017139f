"""Previews of real stores: what a user sees in a preview of a store that holds what real
installations hold (the sandbox's real-world data set), through the services, on a real
database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.bootstrap import Services
from core.envelope import preview_data
from core.sandbox import SandboxServer
from core.services.actors import UserContext


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """The demo organization's store: a real-world one (used by ``demo_org``)."""
    server = SandboxServer(size=200, seed=13, real_world=True).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _default_installation(sandbox: SandboxServer) -> Iterator[None]:
    sandbox.profile.reset()
    yield
    sandbox.profile.reset()


def _connector_id(services: Services, actor: UserContext, sync_type: str) -> int:
    (connector,) = [c for c in services.connectors.list(actor) if c.sync_type == sync_type]
    return connector.id


def _unchanged_id(services: Services, org: UserContext, sync_type: str, entity: str) -> str:
    """A plain record (no variations, no second company, active) that the preview counts as
    unchanged (neither new, updated nor deleted)."""
    snap = services.previews.get_preview_snapshot(org, sync_type, entity, force_refresh=True)
    listed = {
        r["external_id"]
        for kind in ("new", "updated", "deleted")
        for r in services.previews.page_records(org, snap.snapshot_id, kind, limit=1000).records
    }
    plain = [
        i
        for i in range(3, 50)
        if i % 9 != 4 and i % 8 != 3 and i % 11 != 6 and i % 40 != 23 and i % 50 != 17
    ]
    return str(next(i for i in plain if str(i) not in listed))


def test_an_odoo_partner_archived_is_updated_not_deleted(
    services: Services, demo_org: UserContext, sandbox: SandboxServer
) -> None:
    ident = _unchanged_id(services, demo_org, "odoo", "customers")
    sandbox.store.update("customers", int(ident), active=False)
    try:
        snap = services.previews.get_preview_snapshot(
            demo_org, "odoo", "customers", force_refresh=True
        )
        updated = services.previews.page_records(
            demo_org, snap.snapshot_id, "updated", search="", limit=1000
        ).records
        (archived,) = [r for r in updated if r["external_id"] == ident]
        assert archived["changes"] == [{"field": "status", "old": "active", "new": "archived"}]
        deleted = services.previews.page_records(
            demo_org, snap.snapshot_id, "deleted", limit=1000
        ).records
        assert ident not in {r["external_id"] for r in deleted}
    finally:
        sandbox.store.update("customers", int(ident), active=True)


def test_odoo_products_preview_without_inventory(
    services: Services, demo_org: UserContext, sandbox: SandboxServer
) -> None:
    ident = _unchanged_id(services, demo_org, "odoo", "products")
    stock = sandbox.store.attr("products", int(ident), "stock_quantity")
    sandbox.store.update("products", int(ident), stock_quantity=int(stock or 0) + 5)
    try:
        counted = services.previews.get_preview_snapshot(
            demo_org, "odoo", "products", force_refresh=True
        )
        updated = services.previews.page_records(
            demo_org, counted.snapshot_id, "updated", search="", limit=1000
        ).records
        (changed,) = [r for r in updated if r["external_id"] == ident]
        assert [c["field"] for c in changed["changes"]] == ["stock_quantity"]

        sandbox.profile.odoo_inventory = False  # the same Odoo without the Inventory app
        snap = services.previews.get_preview_snapshot(
            demo_org, "odoo", "products", force_refresh=True
        )
        assert snap.refresh_error is None
        assert snap.not_compared == ("stock_quantity",)
        assert any("qty_available" in note for note in snap.notes)
        assert snap.counts["updated"] == counted.counts["updated"] - 1
        assert snap.counts["unchanged"] == counted.counts["unchanged"] + 1
        data = preview_data(snap)
        assert data["notCompared"] == ["stock_quantity"] and data["notes"] == list(snap.notes)
        again = services.previews.get_preview_snapshot(demo_org, "odoo", "products")
        assert again.cache_hit and again.not_compared == ("stock_quantity",)
    finally:
        sandbox.store.update("products", int(ident), stock_quantity=stock)


def test_odoo_orders_preview_of_one_company_says_which(
    services: Services, demo_org: UserContext, sandbox: SandboxServer
) -> None:
    sandbox.profile.odoo_companies = (1,)
    snap = services.previews.get_preview_snapshot(demo_org, "odoo", "orders", force_refresh=True)
    assert snap.refresh_error is None
    assert any(n.startswith("Odoo companies read: Sandbox Store Inc. (id 1)") for n in snap.notes)
    odoo = _connector_id(services, demo_org, "odoo")
    services.connectors.update(demo_org, odoo, options={"companies": "1, 2"})
    sandbox.profile.reset()
    snap = services.previews.get_preview_snapshot(demo_org, "odoo", "orders", force_refresh=True)
    assert any("Sandbox Europe GmbH (id 2)" in n and "1, 2" in n for n in snap.notes)


def test_woocommerce_guests_are_customers_only_when_asked(
    services: Services, demo_org: UserContext
) -> None:
    before = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "customers", force_refresh=True
    )
    woo = _connector_id(services, demo_org, "woocommerce")
    services.connectors.update(demo_org, woo, options={"include_guests": True})
    snap = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "customers", force_refresh=True
    )
    new = services.previews.page_records(demo_org, snap.snapshot_id, "new", limit=1000).records
    guests = [r for r in new if r["external_id"].startswith("guest:")]
    assert guests and snap.counts["new"] == before.counts["new"] + len(guests)
    assert all(r["status"] == "guest" and r["email"] for r in guests)
    assert any("Guest buyers" in note for note in snap.notes)


def test_woocommerce_variations_in_the_products_preview(
    services: Services, demo_org: UserContext
) -> None:
    snap = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "products", force_refresh=True
    )
    variable = [i for i in range(1, 51) if i % 8 == 3]
    total = sum(snap.counts[k] for k in ("new", "updated", "unchanged"))
    assert total > 50  # the 50 products and their variations
    found = services.previews.page_records(demo_org, snap.snapshot_id, "new", limit=1000).records
    found += [
        r["after"]
        for r in services.previews.page_records(
            demo_org, snap.snapshot_id, "updated", limit=1000
        ).records
    ]
    variations = [r for r in found if r.get("type") == "variation"]
    assert variations and all(int(r["parent_id"]) in variable for r in variations)
