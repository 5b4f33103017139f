"""The preview use cases against a real database and a real sandbox store."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from core.delta import to_canonical
from core.envelope import preview_data
from core.errors import ConnectorError, InvalidRequest, NotFoundError, PermissionDenied
from core.services.activity import ActivityFilter
from core.services.actors import Operator
from core.services.demo import local_copy


def _expected_counts(sandbox, sync_type: str, entity_type: str) -> dict[str, int]:
    """Counts computed independently: the raw sandbox records vs the demo's local copy."""
    from core.connectors import ConnectorConfig, build_connector

    creds = (
        {"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"}
        if sync_type == "woocommerce"
        else {"database": "sandbox", "username": "admin", "password": "admin"}
    )
    conn = build_connector(ConnectorConfig(sync_type, sandbox.url, creds, {}))
    try:
        external = {
            str(r["external_id"]): r
            for page in conn.iter_pages(entity_type)
            for r in (to_canonical(sync_type, entity_type, raw) for raw in page)
        }
    finally:
        conn.close()
    local = {r["external_id"]: r for r in local_copy(entity_type, list(external.values()))}
    return {
        "new": len(external.keys() - local.keys()),
        "deleted": len(local.keys() - external.keys()),
        "updated": sum(1 for k in external.keys() & local.keys() if external[k] != local[k]),
        "unchanged": sum(1 for k in external.keys() & local.keys() if external[k] == local[k]),
    }


@pytest.mark.parametrize("sync_type", ["woocommerce", "odoo"])
@pytest.mark.parametrize("entity_type", ["customers", "products", "orders"])
def test_preview_counts_match_an_independent_count(
    services, demo_org, sandbox, sync_type, entity_type
):
    snap = services.previews.get_preview_snapshot(demo_org, sync_type, entity_type)
    expected = _expected_counts(sandbox, sync_type, entity_type)
    assert snap.counts == expected
    assert snap.counts["new"] > 0 and snap.counts["updated"] > 0 and snap.counts["deleted"] > 0
    assert snap.cache_hit is False
    data = preview_data(snap)
    assert data["delta"]["updated"]["count"] == expected["updated"]
    first = data["delta"]["updated"]["records"][0]
    assert first["changes"] and {"field", "old", "new"} <= first["changes"][0].keys()


def test_cache_hit_does_not_touch_the_store_and_expires(services, demo_org, sandbox, clock):
    org = demo_org
    first = services.previews.get_preview_snapshot(org, "woocommerce", "customers")
    sandbox.faults.rate_500 = 1.0  # any request to the store would now fail
    again = services.previews.get_preview_snapshot(org, "woocommerce", "customers")
    assert again.cache_hit and again.snapshot_id == first.snapshot_id
    assert again.counts == first.counts
    sandbox.faults.reset()
    clock.advance(3600 + 1)  # past PREVIEW_TTL_SECONDS
    later = services.previews.get_preview_snapshot(org, "woocommerce", "customers")
    assert not later.cache_hit and later.snapshot_id != first.snapshot_id
    assert later.computed_at == clock.now and later.expires_at == clock.now + timedelta(hours=1)


def test_force_refresh_recomputes_and_sees_a_store_change(services, demo_org, sandbox):
    org = demo_org
    before = services.previews.get_preview_snapshot(org, "woocommerce", "products")
    sandbox.store.add("products", name="Brand new product", sku="NEW-1", regular_price="5.00")
    cached = services.previews.get_preview_snapshot(org, "woocommerce", "products")
    assert cached.counts == before.counts  # cached: the change is not seen yet
    fresh = services.previews.get_preview_snapshot(
        org, "woocommerce", "products", force_refresh=True
    )
    assert fresh.counts["new"] == before.counts["new"] + 1
    assert fresh.previous_counts == before.counts
    page = services.previews.page_records(org, fresh.snapshot_id, "new", search="new-1")
    assert page.total == 1 and page.records[0]["name"] == "Brand new product"


def test_invalidation_is_selective(services, demo_org):
    org = demo_org
    for sync, ent in (
        ("woocommerce", "customers"),
        ("woocommerce", "orders"),
        ("odoo", "customers"),
    ):
        services.previews.get_preview_snapshot(org, sync, ent)
    assert services.previews.invalidate_preview_cache(org, "woocommerce", "customers") == 1
    assert not services.previews.get_preview_snapshot(org, "woocommerce", "customers").cache_hit
    assert services.previews.get_preview_snapshot(org, "woocommerce", "orders").cache_hit
    assert services.previews.invalidate_preview_cache(org, "woocommerce") == 2
    assert services.previews.get_preview_snapshot(org, "odoo", "customers").cache_hit
    assert services.previews.invalidate_preview_cache(org) == 1
    with pytest.raises(
        InvalidRequest, match="Invalid sync_type. Must be one of: woocommerce, odoo"
    ):
        services.previews.invalidate_preview_cache(org, "shopify")


def test_a_failing_refresh_keeps_the_last_good_snapshot(services, demo_org, sandbox):
    org = demo_org
    good = services.previews.get_preview_snapshot(org, "woocommerce", "customers")
    sandbox.faults.rate_500 = 1.0
    after = services.previews.get_preview_snapshot(
        org, "woocommerce", "customers", force_refresh=True
    )
    assert after.snapshot_id == good.snapshot_id and after.counts == good.counts
    assert after.refresh_error and "WooCommerce" in after.refresh_error
    page = services.previews.page_records(org, good.snapshot_id, "updated")
    assert page.total == good.counts["updated"] and page.records
    failed, _ = services.activity.list_activity(
        org, ActivityFilter(action="refresh", status="failed")
    )
    assert len(failed) == 1 and failed[0].error == after.refresh_error
    # the next successful refresh clears the warning
    sandbox.faults.reset()
    ok = services.previews.get_preview_snapshot(org, "woocommerce", "customers", force_refresh=True)
    assert ok.refresh_error is None


def test_a_failing_first_refresh_raises_and_stores_no_snapshot(services, demo_org, sandbox):
    sandbox.faults.rate_500 = 1.0
    with pytest.raises(ConnectorError):
        services.previews.get_preview_snapshot(demo_org, "odoo", "orders")
    assert services.previews.latest(demo_org, "odoo", "orders") is None


def test_single_flight_twenty_callers_one_computation(services, demo_org, sandbox):
    sandbox.faults.latency_ms = 150  # make the computation last long enough to overlap
    org = demo_org
    results, errors = [], []
    barrier = threading.Barrier(20)

    def call() -> None:
        barrier.wait()
        try:
            results.append(services.previews.get_preview_snapshot(org, "woocommerce", "customers"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len({r.snapshot_id for r in results}) == 1
    refreshes, _ = services.activity.list_activity(org, ActivityFilter(action="refresh"))
    assert len(refreshes) == 1


def test_roles_are_enforced_by_the_service(services, demo_org):
    viewer_view = services.accounts.add_user(
        demo_org, "vic", "Vic", "vic@acme.io", "password123", "viewer"
    )
    viewer = services.accounts.user_context(viewer_view.username)
    services.previews.get_preview_snapshot(viewer, "woocommerce", "customers")
    with pytest.raises(PermissionDenied, match="You need to be an editor to refresh previews"):
        services.previews.get_preview_snapshot(
            viewer, "woocommerce", "customers", force_refresh=True
        )
    with pytest.raises(PermissionDenied):
        services.selective.save_selective_config(
            viewer,
            "woocommerce",
            "customers",
            include_new=True,
            include_updated=True,
            include_deleted=True,
        )
    with pytest.raises(PermissionDenied):
        services.previews.invalidate_preview_cache(viewer)


def test_every_operation_leaves_an_activity_row(services, demo_org):
    org = demo_org
    services.previews.get_preview_snapshot(org, "odoo", "products")
    services.previews.get_preview_snapshot(org, "odoo", "products")
    services.selective.save_selective_config(
        org,
        "odoo",
        "products",
        include_new=True,
        include_updated=False,
        include_deleted=True,
    )
    services.previews.invalidate_preview_cache(org, "odoo")
    services.accounts.sign_in("ann", "correct horse battery")
    events, _ = services.activity.list_activity(org, limit=100)
    actions = Counter(e.action for e in events)
    assert actions["setup"] == 1 and actions["connector_added"] == 2 and actions["demo_loaded"] == 1
    assert actions["refresh"] == 1 and actions["view"] == 1 and actions["select"] == 1
    assert actions["invalidate"] == 1 and actions["login"] == 1
    refresh = next(e for e in events if e.action == "refresh")
    assert refresh.user == "ann" and refresh.cache_hit is False and refresh.counts["new"] > 0
    view = next(e for e in events if e.action == "view")
    assert view.cache_hit is True
    saved = services.selective.get_selective_config(org, "odoo", "products")
    assert (saved.include_new, saved.include_updated, saved.include_deleted) == (True, False, True)
    assert saved.updated_by == "ann"


def test_other_organizations_see_nothing(services, demo_org):
    other = services.accounts.create_organization(
        "Other",
        admin_username="olga",
        admin_name="Olga",
        admin_email="o@o.io",
        admin_password="password123",
    )
    snap = services.previews.get_preview_snapshot(demo_org, "woocommerce", "customers")

    with pytest.raises(NotFoundError):
        services.previews.page_records(other, snap.snapshot_id, "new")
    with pytest.raises(NotFoundError):  # no connector of their own
        services.previews.get_preview_snapshot(other, "woocommerce", "customers")
    # a user of org B acts in org B: org A's previews, connectors, settings and log are not theirs
    with pytest.raises(NotFoundError, match="No WooCommerce connector is set up"):
        services.previews.latest(other, "woocommerce", "customers")
    woo = next(c for c in services.connectors.list(demo_org) if c.sync_type == "woocommerce")
    for named in (woo.id, woo.name):
        with pytest.raises(NotFoundError, match="There is no connector"):
            services.previews.latest(other, None, "customers", connector=named)
    assert services.activity.list_activity(other, ActivityFilter(action="view"))[1] == 0
    assert services.connectors.list(other) == []
    with pytest.raises(NotFoundError, match="There is no organization"):  # no such org at all
        services.accounts.operator(other.org_id + 1000)
    with pytest.raises(NotFoundError, match="There is no organization"):
        services.accounts.api_actor(other.org_id + 1000, "billing")
    # an actor made by hand (not by AccountService, which checks its organization) may do
    # nothing, whichever service it calls
    for forged in (Operator(other.org_id + 1000), Operator(other.org_id)):
        with pytest.raises(PermissionDenied, match="has not identified"):
            services.previews.get_preview_snapshot(forged, "woocommerce", "customers")
        with pytest.raises(PermissionDenied, match="has not identified"):
            services.previews.invalidate_preview_cache(forged)
        with pytest.raises(PermissionDenied, match="has not identified"):
            services.selective.save_selective_config(
                forged,
                "woocommerce",
                "customers",
                include_new=True,
                include_updated=True,
                include_deleted=True,
            )


class _BuggyConnector:
    """A connector with a bug: its second page raises an error that is not ours."""

    def __init__(self, real) -> None:
        self.real = real

    def test_connection(self) -> str:
        return self.real.test_connection()

    def iter_pages(self, entity_type, *, progress=None, **kw):
        pages = self.real.iter_pages(entity_type, progress=progress, **kw)
        yield next(pages)
        raise KeyError("total")  # e.g. an answer shape the code did not expect

    def close(self) -> None:
        self.real.close()


def test_an_internal_error_carries_a_reference_found_in_the_log_and_activity(
    services, demo_org, caplog
):
    import re

    from core.errors import InternalError

    pipeline = services.previews.pipeline
    real_builder = pipeline.build_connector
    pipeline.build_connector = lambda config, deadline: _BuggyConnector(
        real_builder(config, deadline)
    )
    org = demo_org
    with pytest.raises(InternalError) as failed:
        services.previews.get_preview_snapshot(org, "odoo", "products")
    message = str(failed.value)
    reference = failed.value.reference
    assert re.fullmatch(r"[0-9a-f]{12}", reference)
    assert f"reference {reference}" in message
    assert "previous preview" not in message  # there is none: it must not claim one is kept
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info and "KeyError" in caplog.text
    events, _ = services.activity.list_activity(org, limit=10)
    row = next(e for e in events if e.action == "refresh" and e.status == "failed")
    assert row.error == message and (row.details or {})["reference"] == reference

    # With a good preview, a failing refresh keeps serving it and says why, with the reference.
    pipeline.build_connector = real_builder
    good = services.previews.get_preview_snapshot(org, "odoo", "products")
    pipeline.build_connector = lambda config, deadline: _BuggyConnector(
        real_builder(config, deadline)
    )
    kept = services.previews.get_preview_snapshot(org, "odoo", "products", force_refresh=True)
    assert kept.snapshot_id == good.snapshot_id and kept.counts == good.counts
    assert kept.refresh_error and "internal error (reference " in kept.refresh_error


def test_a_refresh_reports_its_phases_in_order_and_the_ui_words_them(services, demo_org):
    from ui.preview import progress_text

    seen = []
    snap = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "orders", force_refresh=True, progress=seen.append
    )
    phases = [p.phase for p in seen]
    assert phases[0] == "fetching" and phases[-2:] == ["storing", "done"]
    assert phases.index("comparing") > max(i for i, p in enumerate(phases) if p == "fetching")
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    storing = seen[-2]
    assert storing.changes == sum(snap.counts[k] for k in ("new", "updated", "deleted"))
    words = [progress_text(p, "orders") for p in seen]
    assert words[0] == "Fetching orders from Demo WooCommerce store…"
    assert any(w.startswith("Fetching orders: page 1 of ") for w in words)
    assert words[-2:] == [f"Saving {storing.changes:,} changes…", "Preview is up to date."]


def test_a_cache_hit_and_a_refresh_cost_few_statements(services, demo_org):
    """The connector is found in one statement, its cached preview read in three (and the view
    logged in a fifth); a refresh writes its snapshot, log row and clean-up without reading
    it back."""
    from sqlalchemy import event

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    services.previews.get_preview_snapshot(demo_org, "odoo", "customers")
    event.listen(services.engine, "before_cursor_execute", count)
    try:
        services.previews.get_preview_snapshot(demo_org, "odoo", "customers")
        hit = list(statements)
        statements.clear()
        services.previews.get_preview_snapshot(demo_org, "odoo", "customers", force_refresh=True)
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    assert hit == ["SELECT", "SELECT", "SELECT", "SELECT", "INSERT"]
    reads = statements.count("SELECT")
    # the connector, its config, local index and rows, the previous snapshot; and the refresh's
    # job (every refresh is one): is one running, read it to claim it, read it as it ended; and
    # whether a mapping of the organization's own data is in force for the entity
    assert reads <= 10, " ".join(statements)
