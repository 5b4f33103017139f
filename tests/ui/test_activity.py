"""The Activity screen: operational figures, chart, filtered and paged log in words, and the
history of each connector's previews."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from core.bootstrap import Services
from core.services.actors import UserContext
from tests.ui.appkit import open_page, texts

HISTORY_TAB = {"activity_tabs": "🕒 Preview history per connector"}


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_shows_figures_chart_and_log(
    role: str, services: Services, ctx: Callable[[str], UserContext]
) -> None:
    at = open_page("activity", role)
    labels = [m.label for m in at.metric]
    assert labels == [
        "Cache hit ratio",
        "Refresh p50",
        "Refresh p95",
        "Failed refreshes",
        "External timeouts",
    ]
    log = at.dataframe[0].value
    _, total = services.activity.list_activity(ctx(role))
    assert len(log) == min(total, 50)
    # (opening a signed-in session is no sign-in: only a password sign-in is a "login" row)
    assert {
        "Refreshed a preview",
        "Loaded the demo data",
        "Set up the organization",
    } <= set(log["What"])
    assert "No refresh in this period yet." not in texts(at)  # the chart is drawn


def test_filters_by_action(services: Services, ctx: Callable[[str], UserContext]) -> None:
    at = open_page("activity", "viewer")
    at.selectbox(key="act_action").set_value("refresh").run()
    assert not at.exception
    log = at.dataframe[0].value
    assert set(log["What"]) == {"Refreshed a preview"}
    snap = services.previews.latest(ctx("viewer"), "woocommerce", "customers")
    assert snap is not None and snap.counts["new"] > 0
    assert list(log["New"]) == [snap.counts["new"]] * len(log)


def test_the_log_reads_as_words_with_empty_cells_empty(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    editor = ctx("editor")
    services.selective.save_selective_config(
        editor, "odoo", "orders", include_new=True, include_updated=False, include_deleted=True
    )
    at = open_page("activity", "viewer")
    log = at.dataframe[0].value
    assert list(log.columns) == [
        "When",
        "Who",
        "What",
        "Source",
        "Connector",
        "Entity",
        "Status",
        "Cache",
        "Duration",
        "New",
        "Updated",
        "Deleted",
        "Error",
        "Details",
    ]
    saved = log[log["What"] == "Saved selective sync"].iloc[0]
    assert (saved["Who"], saved["Source"], saved["Connector"], saved["Entity"]) == (
        "eddie",
        "Odoo",
        "Demo Odoo",
        "Orders",
    )
    assert saved["Details"] == "New: included · Updated: left out · Deleted: included"
    demo = log[log["What"] == "Loaded the demo data"].iloc[0]
    assert "WooCommerce:" in demo["Details"] and "local records" in demo["Details"]
    # nothing reads as "None" or as JSON; numbers a row has not are missing, shown empty
    text = log.drop(columns=["When", "New", "Updated", "Deleted"]).astype(str)
    assert not text.isin(["None", "nan", "<NA>"]).any().any()
    assert not text.apply(lambda c: c.str.contains(r"[{}]")).any().any()
    assert pd.isna(saved["New"])
    assert pd.api.types.is_datetime64_any_dtype(log["When"])


def test_history_per_connector_lists_its_refreshes(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    for entity in ("customers", "products"):
        services.previews.get_preview_snapshot(admin, "woocommerce", entity, force_refresh=True)
    services.previews.get_preview_snapshot(admin, "odoo", "orders", force_refresh=True)
    woo = next(c for c in services.connectors.list(admin) if c.sync_type == "woocommerce")

    at = open_page("activity", "viewer", session=HISTORY_TAB)
    assert not at.exception
    history = at.dataframe[0].value
    expected = services.previews.history(admin, woo.id).entries
    assert len(history) == len(expected) == 3  # the seeded refresh and two more, not Odoo's
    assert list(history["Entity"]) == ["Products", "Customers", "Customers"]
    assert set(history["Status"]) == {"✅ done"}
    assert set(history["By"]) == {"ada"}
    assert list(history["New"]) == [e.counts["new"] for e in expected if e.counts]
    assert "Demo WooCommerce store" in texts(at)

    odoo = next(c for c in services.connectors.list(admin) if c.sync_type == "odoo")
    at.selectbox(key="history_connector").set_value(odoo.id).run()
    assert list(at.dataframe[0].value["Entity"]) == ["Orders"]


def test_filters_by_connector(services: Services, ctx: Callable[[str], UserContext]) -> None:
    admin = ctx("admin")
    odoo = next(c for c in services.connectors.list(admin) if c.sync_type == "odoo")
    services.previews.get_preview_snapshot(admin, None, "orders", connector=odoo.id)
    at = open_page("activity", "viewer")
    at.selectbox(key="act_connector").set_value(odoo.id).run()
    assert not at.exception
    log = at.dataframe[0].value
    assert set(log["Connector"]) == {"Demo Odoo"}
    assert {"Refreshed a preview", "Added a connector"} <= set(log["What"])
