"""The Preview as a business user reads it: numbers with separators, words instead of codes,
money with its currency, order lines as a table, and a warning when too much would change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import pytest

from core.bootstrap import Services
from core.db.clock import utcnow
from core.db.local_records import LocalRecords
from core.db.previews import SnapshotRows
from core.db.tenancy import tenant_session
from core.delta import HASH_VERSION
from core.services.actors import UserContext
from tests.ui.appkit import open_page, texts
from tests.ui.workers import Worker, rerun_until

UPDATED_TAB = {"sp_preview_kind": "updated"}


def _stored_snapshot(services: Services, org_id: int, counts: dict[str, int]) -> None:
    """A newer preview of the demo store's customers with these counts (and no records)."""
    now = utcnow()
    with tenant_session(services.sessions, org_id) as s:
        woo = services.connectors.find(services.accounts.scheduler(org_id), None, "woocommerce")
        SnapshotRows(s).add_ready(
            connector_id=woo.id,
            sync_type="woocommerce",
            entity_type="customers",
            counts=counts,
            duplicates_collapsed=0,
            computed_at=now,
            expires_at=now + timedelta(hours=1),
            hash_version=HASH_VERSION,
            duration_ms=1234,
            created_by="ada",
            records=[],
        )


def test_counts_and_their_changes_have_thousands_separators(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    before = services.previews.latest(admin, "woocommerce", "customers")
    assert before is not None
    same = before.counts["updated"]
    _stored_snapshot(
        services, admin.org_id, {"new": 12_345, "updated": same, "deleted": 0, "unchanged": 2_500}
    )
    at = open_page("preview", "viewer")
    cards = {m.label.split(" ", 1)[1]: m for m in at.metric}
    assert cards["New"].value == "12,345"
    assert cards["New"].delta == f"+{12_345 - before.counts['new']:,}"
    assert cards["Deleted"].delta == f"-{before.counts['deleted']:,}"
    assert cards["Updated"].delta == "0"
    assert cards["Unchanged"].value == "2,500"
    # what the small numbers mean is said in full, not in a label cut to the card's width
    assert "small numbers: change since the previous preview" in texts(at)


def test_a_preview_that_changes_too_much_says_so(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    at = open_page("preview", "viewer")
    assert "Check before you sync" not in texts(at)  # the demo changes 12 % of customers

    admin = ctx("admin")
    _stored_snapshot(
        services, admin.org_id, {"new": 0, "updated": 700, "deleted": 100, "unchanged": 200}
    )
    at = open_page("preview", "viewer")
    warning = next(w.value for w in at.warning if "Check before you sync" in w.value)
    assert "change or delete 80% of the 1,000 customers" in warning
    assert "700 updated, 100 deleted" in warning
    assert "more than the 30%" in warning
    assert "check the connector and the mapping" in warning


def test_the_change_guard_is_a_setting(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANGE_GUARD_PERCENT", "10")
    at = open_page("preview", "viewer")
    warning = next(w.value for w in at.warning if "Check before you sync" in w.value)
    assert "more than the 10%" in warning


def test_orders_read_as_words_money_and_lines(services: Services, worker: Worker) -> None:
    at = open_page("preview", "viewer", session={"sp_preview_kind": "new"})
    at.selectbox(key="preview_entity").set_value("orders").run()
    assert not at.exception
    rerun_until(at, "the worker's preview", lambda a: bool(a.dataframe))
    orders = at.dataframe[0].value
    assert {"Order number", "Status", "Total", "Customer e-mail", "Created", "Order lines"} <= set(
        orders.columns
    )
    assert set(orders["Status"]) <= {
        "Pending payment",
        "Processing",
        "On hold",
        "Completed",
        "Cancelled",
        "Refunded",
        "Failed",
    }
    # a currency sign before the amount: "€919.97", "CA$383.94", "R$87.20"
    assert orders["Total"].str.match(r"^[^\d\s]+[\d,]+\.\d\d$").all(), list(orders["Total"])
    assert orders["Order lines"].str.match(r"^\d+ lines?: .+ × \d+").all()
    assert not orders["Order lines"].str.contains(r"[{}\[\]]").any()  # never raw JSON
    assert pd.api.types.is_datetime64_any_dtype(orders["Created"])


def _odoo(services: Services, ctx: Callable[[str], UserContext]) -> int:
    return next(c.id for c in services.connectors.list(ctx("admin")) if c.sync_type == "odoo")


def test_odoo_states_read_as_odoo_names_them(
    services: Services, ctx: Callable[[str], UserContext], worker: Worker
) -> None:
    at = open_page("preview", "viewer", session=UPDATED_TAB)
    at.selectbox(key="preview_connector").set_value(_odoo(services, ctx))
    at.selectbox(key="preview_entity").set_value("orders").run()
    assert not at.exception
    rerun_until(at, "the worker's preview", lambda a: bool(a.dataframe))
    assert "Sales order" in set(at.dataframe[0].value["Status"])
    diff = at.table[0].value
    status = diff[diff["Field"] == "Status"].iloc[0]
    assert status["After"] == "Sales order"
    assert status["Before"] != status["After"] and "_" not in status["Before"]


def test_changed_order_lines_are_a_table_with_the_changes_marked(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    snap = services.previews.get_preview_snapshot(admin, "odoo", "orders")
    order = snap.records["updated"][0]
    lines = order["after"]["lines"]
    assert len(lines) >= 2
    local = dict(order["before"])
    # locally: the first line has another quantity, the last is missing, one more is there
    local["lines"] = [
        {**lines[0], "quantity": lines[0]["quantity"] + 1},
        *lines[1:-1],
        {"sku": "ZZZ-LOCAL", "quantity": 1, "total": "9.99"},
    ]
    with tenant_session(services.sessions, admin.org_id) as s:
        LocalRecords(s).upsert("odoo", "orders", [local])
    services.previews.get_preview_snapshot(admin, "odoo", "orders", force_refresh=True)

    at = open_page("preview", "viewer", session=UPDATED_TAB)
    at.selectbox(key="preview_connector").set_value(_odoo(services, ctx))
    at.selectbox(key="preview_entity").set_value("orders").run()
    assert not at.exception
    assert at.dataframe[0].value["ID"].iloc[0] == order["external_id"]
    diff = at.table[0].value
    assert "Order lines" in set(diff["Field"])
    assert not diff.astype(str).apply(lambda c: c.str.contains(r"[{}]")).any().any()
    table = at.table[1].value.set_index("SKU")
    assert table.loc[lines[0]["sku"], "Change"] == "✏️ changed"
    assert table.loc[lines[0]["sku"], "Quantity before"] == str(lines[0]["quantity"] + 1)
    assert table.loc[lines[0]["sku"], "Quantity after"] == str(lines[0]["quantity"])
    assert table.loc[lines[-1]["sku"], "Change"] == "➕ added"  # the sync would add it
    assert table.loc["ZZZ-LOCAL", "Change"] == "➖ removed"
    assert "Order lines" in texts(at)
