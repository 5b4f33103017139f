"""Previews belong to a connector: two stores of one source, each with its own preview, the
organization's default connector of each source, and settings and choices per connector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError

from core.connectors import ConnectorConfig, build_connector
from core.db import models as m
from core.db.tenancy import tenant_session
from core.delta import to_canonical
from core.errors import InvalidRequest, NotFoundError
from core.sandbox import SandboxServer
from core.services.activity import ActivityFilter
from core.services.demo import WOO_CREDENTIALS, local_copy
from tests.integration.services.conftest import make_services

LIVE = "Acme live shop"
DEMO = "Demo WooCommerce store"


@pytest.fixture
def second_store() -> Iterator[SandboxServer]:
    """Another WooCommerce store: other records (another seed) and fewer of them."""
    server = SandboxServer(size=120, seed=11).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def two_stores(services, demo_org, second_store):
    """The demo organization with a second WooCommerce connector, added after the demo's
    and named so that it comes first by name."""
    services.connectors.add(demo_org, "woocommerce", LIVE, second_store.url, WOO_CREDENTIALS)
    return demo_org


def _woo_customers(store: SandboxServer) -> dict[str, dict]:
    conn = build_connector(ConnectorConfig("woocommerce", store.url, WOO_CREDENTIALS, {}))
    try:
        return {
            str(rec["external_id"]): rec
            for page in conn.iter_pages("customers")
            for rec in (to_canonical("woocommerce", "customers", raw) for raw in page)
        }
    finally:
        conn.close()


def _expected(store: SandboxServer, demo_store: SandboxServer) -> dict[str, int]:
    """``store``'s customers against the local records the demo made from ``demo_store``."""
    external = _woo_customers(store)
    local = {
        r["external_id"]: r
        for r in local_copy("customers", list(_woo_customers(demo_store).values()))
    }
    common = external.keys() & local.keys()
    updated = sum(1 for k in common if external[k] != local[k])
    return {
        "new": len(external.keys() - local.keys()),
        "updated": updated,
        "deleted": len(local.keys() - external.keys()),
        "unchanged": len(common) - updated,
    }


def _connector(services, actor, name: str):
    return next(c for c in services.connectors.list(actor) if c.name == name)


def test_two_stores_of_one_source_each_have_their_own_preview(
    services, two_stores, sandbox, second_store
):
    org = two_stores
    live, demo = _connector(services, org, LIVE), _connector(services, org, DEMO)
    assert demo.is_default and not live.is_default  # the first added, not the first by name

    by_default = services.previews.get_preview_snapshot(org, "woocommerce", "customers")
    assert (by_default.connector_id, by_default.connector_name) == (demo.id, DEMO)
    assert by_default.counts == _expected(sandbox, sandbox)

    of_live = services.previews.get_preview_snapshot(
        org, "woocommerce", "customers", connector=LIVE
    )
    assert (of_live.connector_id, of_live.connector_name) == (live.id, LIVE)
    assert of_live.counts == _expected(second_store, sandbox)
    assert of_live.counts != by_default.counts
    assert of_live.snapshot_id != by_default.snapshot_id

    # by id, and with the source left out (it is the connector's)
    by_id = services.previews.get_preview_snapshot(org, None, "customers", connector=live.id)
    assert by_id.snapshot_id == of_live.snapshot_id and by_id.cache_hit
    assert by_id.sync_type == "woocommerce"
    assert services.previews.get_preview_snapshot(org, "woocommerce", "customers").cache_hit

    # a refresh of one store never touches the other's preview, even when it fails
    second_store.faults.rate_500 = 1.0
    failed = services.previews.get_preview_snapshot(
        org, "woocommerce", "customers", force_refresh=True, connector=LIVE
    )
    assert failed.snapshot_id == of_live.snapshot_id and failed.refresh_error
    second_store.faults.reset()
    # a customer added to the live store (its id exists locally, from the demo store: the
    # local record is no longer "deleted" but "updated")
    second_store.store.add("customers", email="fresh@acme.example", first_name="Fresh")
    fresh = services.previews.get_preview_snapshot(
        org, "woocommerce", "customers", force_refresh=True, connector=LIVE
    )
    assert fresh.counts == _expected(second_store, sandbox) and fresh.refresh_error is None
    assert fresh.counts["deleted"] == of_live.counts["deleted"] - 1
    demo_now = services.previews.latest(org, "woocommerce", "customers")
    assert demo_now is not None
    assert (demo_now.snapshot_id, demo_now.counts, demo_now.computed_at) == (
        by_default.snapshot_id,
        by_default.counts,
        by_default.computed_at,
    )
    assert demo_now.refresh_error is None and demo_now.previous_counts is None

    # records are paged per snapshot
    found = services.previews.page_records(org, fresh.snapshot_id, "updated", search="fresh@")
    assert found.total == 1
    in_demo = services.previews.page_records(org, demo_now.snapshot_id, "updated", search="fresh@")
    assert in_demo.total == 0

    # the activity log names the connector of every refresh and view (and of its addition)
    live_rows, _ = services.activity.list_activity(org, ActivityFilter(connector_id=live.id))
    assert {e.connector for e in live_rows} == {LIVE}
    assert sorted((e.action, e.status) for e in live_rows) == [
        ("connector_added", "ok"),
        ("refresh", "failed"),
        ("refresh", "ok"),
        ("refresh", "ok"),
        ("view", "ok"),
    ]
    demo_rows, _ = services.activity.list_activity(org, ActivityFilter(connector_id=demo.id))
    assert {(e.action, e.connector) for e in demo_rows} >= {("refresh", DEMO), ("view", DEMO)}

    # expiring one connector's previews leaves the other's
    assert services.previews.invalidate_preview_cache(org, connector=LIVE) == 2  # both kept
    assert services.previews.get_preview_snapshot(org, "woocommerce", "customers").cache_hit
    expired, _ = services.activity.list_activity(org, ActivityFilter(action="invalidate"))
    assert (expired[0].connector_id, expired[0].connector) == (live.id, LIVE)


def test_a_connector_is_named_by_id_or_name_and_must_match_the_source(services, two_stores):
    org = two_stores
    odoo = _connector(services, org, "Demo Odoo")
    snap = services.previews.get_preview_snapshot(org, None, "products", connector="Demo Odoo")
    assert (snap.sync_type, snap.connector_id) == ("odoo", odoo.id)
    with pytest.raises(InvalidRequest, match="'Demo Odoo' connects to Odoo, not to WooCommerce"):
        services.previews.get_preview_snapshot(org, "woocommerce", "products", connector=odoo.id)
    with pytest.raises(NotFoundError, match="There is no connector 'Nope' in this organization"):
        services.previews.get_preview_snapshot(org, "woocommerce", "products", connector="Nope")
    with pytest.raises(NotFoundError, match="There is no connector '9999'"):
        services.previews.get_preview_snapshot(org, None, "products", connector=9999)
    with pytest.raises(InvalidRequest, match="Name a source"):
        services.previews.get_preview_snapshot(org, None, "products")
    with pytest.raises(InvalidRequest, match="Invalid sync_type"):
        services.previews.get_preview_snapshot(org, "shopify", "products", connector="Demo Odoo")


def test_the_default_connector_is_the_first_added_or_the_one_an_admin_chose(
    services, two_stores, session_factory
):
    org = two_stores
    live, demo = _connector(services, org, LIVE), _connector(services, org, DEMO)
    made = services.connectors.make_default(org, live.id)
    assert made.is_default and not _connector(services, org, DEMO).is_default
    snap = services.previews.get_preview_snapshot(org, "woocommerce", "customers")
    assert snap.connector_id == live.id
    assert services.connectors.find(org, None, "woocommerce").name == LIVE
    events, _ = services.activity.list_activity(org, ActivityFilter(action="connector_default"))
    assert (events[0].connector_id, events[0].connector, events[0].user) == (live.id, LIVE, "ann")

    # the database holds one default per source and organization
    with pytest.raises(IntegrityError), tenant_session(session_factory, org.org_id) as s:
        s.get(m.IntegrationConnector, demo.id).is_default = True
        s.flush()

    # deleting the default makes the next one (the first added) the default
    third = services.connectors.add(org, "woocommerce", "Third shop", "http://127.0.0.1:9", {})
    assert not third.is_default
    services.connectors.delete(org, live.id)
    defaults = [c.name for c in services.connectors.list(org) if c.is_default]
    assert sorted(defaults) == sorted([DEMO, "Demo Odoo"])
    deleted, _ = services.activity.list_activity(org, ActivityFilter(action="connector_deleted"))
    assert deleted[0].details == {"connector": LIVE, "new_default": DEMO}
    assert services.previews.get_preview_snapshot(org, "woocommerce", "customers").connector_id == (
        demo.id
    )
    # its previews and settings went with it
    with tenant_session(session_factory, org.org_id) as s:
        assert s.query(m.PreviewCache).filter_by(connector_id=live.id).count() == 0
    services.connectors.delete(org, demo.id)
    assert _connector(services, org, "Third shop").is_default
    services.connectors.delete(org, third.id)
    with pytest.raises(NotFoundError, match="No WooCommerce connector is set up"):
        services.previews.get_preview_snapshot(org, "woocommerce", "customers")


def test_selective_settings_belong_to_a_connector(services, two_stores):
    org = two_stores
    saved = services.selective.save_selective_config(
        org,
        None,
        "orders",
        connector=LIVE,
        include_new=False,
        include_updated=True,
        include_deleted=True,
    )
    assert (saved.connector_name, saved.sync_type) == (LIVE, "woocommerce")
    live = services.selective.get_selective_config(org, "woocommerce", "orders", connector=LIVE)
    demo = services.selective.get_selective_config(org, "woocommerce", "orders")
    assert (live.include_new, live.include_deleted) == (False, True)
    assert (demo.connector_name, demo.include_new, demo.include_deleted) == (DEMO, True, False)
    assert demo.updated_at is None  # the defaults: nothing saved for the demo store
    events, _ = services.activity.list_activity(org, ActivityFilter(action="select"))
    assert events[0].connector == LIVE and events[0].details["includeNew"] is False


def test_two_connectors_of_one_source_are_refreshed_at_the_same_time(services, two_stores):
    """The single-flight lease is per connector: one store's refresh does not wait for
    the other's."""
    org = two_stores
    keys = [
        services.previews.preview_key(org, "woocommerce", "customers", name)
        for name in (DEMO, LIVE)
    ]
    assert keys[0] != keys[1] and keys[0].connector_id != keys[1].connector_id
    assert services.previews.lease.acquire(keys[0], "a")
    assert services.previews.lease.acquire(keys[1], "b")  # not held by the other's lease
    assert not services.previews.lease.acquire(keys[1], "c")
    for key, holder in zip(keys, "ab", strict=True):
        services.previews.lease.release(key, holder)


def test_a_user_s_connector_choice_is_kept_in_the_database(services, two_stores, db_url, tmp_path):
    org = two_stores
    live = _connector(services, org, LIVE)
    other = services.accounts.add_user(org, "vic", "Vic", "vic@acme.io", "password123", "viewer")
    vic = services.accounts.user_context(other.username)
    assert services.preferences.connector(org) is None
    services.preferences.remember_connector(org, live.id)
    services.preferences.remember_connector(vic, _connector(services, org, DEMO).id)
    services.preferences.remember_connector(org, live.id)  # again: one row, the same value
    another_process = make_services(db_url, tmp_path / "other")
    try:
        assert another_process.preferences.connector(org) == live.id
        assert another_process.preferences.connector(vic) != live.id
    finally:
        another_process.close()
