"""The Odoo connector (XML-RPC and JSON-2) against the sandbox over real loopback HTTP."""

from __future__ import annotations

import xmlrpc.client
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.errors import AuthError, BadResponse, RemoteNotFound
from core.sandbox import SandboxServer

from .conftest import ODOO_PASSWORD, MakeConnector, fetch_all

pytestmark = pytest.mark.timeout(60)


def test_customers_with_state_codes(sb: SandboxServer, odoo: MakeConnector) -> None:
    records = fetch_all(odoo(), "customers")
    assert [r["id"] for r in records] == list(range(1, 1001))
    with_state = [r for r in records if r["state_id"]]
    assert with_state and all(r["state_code"] for r in with_state)
    first = with_state[0]
    assert first["state_id"][1].endswith(f"({first['country_code']})")
    assert all(r["state_code"] is False for r in records if not r["state_id"])


def test_orders_with_lines_and_partner_email(sb: SandboxServer, odoo: MakeConnector) -> None:
    sb.stats.reset()
    records = fetch_all(odoo(), "orders")
    assert len(records) == sum(
        1 for i in range(1, 1001) if sb.store.attr("orders", i, "status") != "trash"
    )
    order = records[0]
    partner = sb.store.get("customers", order["partner_id"][0])
    assert partner is not None and order["partner_email"] == partner["email"]
    assert [line["id"] for line in order["lines"]] == order["order_line"]
    product = sb.store.get("products", order["lines"][0]["product_id"][0])
    assert product is not None and order["lines"][0]["default_code"] == product["sku"]
    assert sb.stats.requests < 80, "lines are read in batches, not one call per order"


def test_archived_are_read_non_customers_are_not(sb: SandboxServer, odoo: MakeConnector) -> None:
    sb.store.update("customers", 5, active=False)
    sb.store.update("customers", 6, customer_rank=0)
    sb.store.update("products", 7, active=False)
    by_id = {r["id"]: r for r in fetch_all(odoo(), "customers")}
    assert 6 not in by_id and len(by_id) == 999
    assert by_id[5]["active"] is False  # archived: read, with its status
    products = {r["id"]: r for r in fetch_all(odoo(), "products")}
    assert products[7]["active"] is False


def test_drift_loses_and_repeats_nothing(sb: SandboxServer, odoo: MakeConnector) -> None:
    before = set(sb.store.ids("customers"))
    sb.faults.drift = True
    ids = [r["id"] for r in fetch_all(odoo(concurrency=4), "customers")]
    sb.faults.drift = False
    after = set(sb.store.ids("customers"))
    assert before - after and after - before
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    assert (before & after) <= set(ids)


def test_since_filters_on_write_date(sb: SandboxServer, odoo: MakeConnector) -> None:
    sb.store.update("customers", 42, phone="+49 30 1234567")
    ident = sb.store.add("customers", first_name="Neu")
    changed = fetch_all(odoo(), "customers", since=datetime.now(UTC) - timedelta(minutes=1))
    assert {r["id"] for r in changed} == {42, ident}


def test_retries_and_malformed_page(sb: SandboxServer, odoo: MakeConnector) -> None:
    sb.faults.rate_429, sb.faults.retry_after, sb.faults.rate_500 = 0.25, 0, 0.2
    assert len(fetch_all(odoo(), "products")) == 250
    sb.faults.reset()
    sb.faults.malformed_page = 3
    with pytest.raises(BadResponse, match="cannot read"):
        fetch_all(odoo(), "customers")


def test_wrong_credentials_database_and_url(sb: SandboxServer, odoo: MakeConnector) -> None:
    bad = odoo(password="wrong-password", api_key="wrong-key")
    with pytest.raises(AuthError, match="refused"):
        bad.test_connection()
    with pytest.raises(RemoteNotFound, match="no database"):
        odoo(database="nope").test_connection()
    with pytest.raises(RemoteNotFound):
        odoo(url=sb.url + "/shop").test_connection()


def test_test_connection_message(sb: SandboxServer, odoo: MakeConnector) -> None:
    assert odoo().test_connection() == (
        f"Connected to Odoo 19.0 at {sb.url} (database sandbox): 1,000 customers."
    )


def test_xmlrpc_client_as_in_odoo_docs(sb: SandboxServer) -> None:
    with (
        xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/common") as common,
        xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object") as models,
    ):
        _odoo_docs_calls(common, models)


def _odoo_docs_calls(common: Any, models: Any) -> None:  # XML-RPC answers are untyped
    assert common.version()["server_version"] == "19.0"
    uid = common.authenticate("sandbox", "admin", ODOO_PASSWORD, {})
    assert uid == 2
    assert common.authenticate("sandbox", "admin", "wrong", {}) is False
    count = models.execute_kw(
        "sandbox", uid, ODOO_PASSWORD, "res.partner", "search_count", [[["customer_rank", ">", 0]]]
    )
    rows = models.execute_kw(
        "sandbox",
        uid,
        ODOO_PASSWORD,
        "res.partner",
        "search_read",
        [[["customer_rank", ">", 0]]],
        {"fields": ["name", "country_id"], "limit": 5},
    )
    assert count == 1000 and len(rows) == 5 and set(rows[0]) == {"id", "name", "country_id"}
    with pytest.raises(xmlrpc.client.Fault, match="Access Denied"):
        models.execute_kw("sandbox", uid, "wrong", "res.partner", "search_count", [[]])
