"""The WooCommerce connector against the sandbox over real loopback HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from core.connectors import FetchProgress
from core.errors import AuthError, BadResponse, RateLimited, RemoteNotFound, Unreachable
from core.sandbox import SandboxServer

from .conftest import MakeConnector, fetch_all

pytestmark = pytest.mark.timeout(60)
#: Read every WordPress user (the paging tests count all 1,000 of them).
EVERY_USER = {"customer_roles": "all"}


def test_pages_every_customer_once_in_id_order(sb: SandboxServer, woo: MakeConnector) -> None:
    seen: list[FetchProgress] = []
    records = fetch_all(woo(), "customers", progress=seen.append)
    ids = [r["id"] for r in records]
    customers = [i for i in range(1, 1001) if sb.store.attr("customers", i, "role") == "customer"]
    assert ids == customers and len(customers) < 1000  # subscribers are not customers
    assert set(records[0]) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "billing",
        "date_modified_gmt",
    }
    assert records[0]["billing"]["country"].isupper()
    assert seen[-1].records_done == seen[-1].records_total == len(customers)
    assert seen[-1].pages_done == seen[-1].pages_total
    query = parse_qs(urlsplit(sb.stats.paths[0]).query)
    assert query["per_page"] == ["100"] and query["orderby"] == ["id"]
    assert query["order"] == ["asc"] and query["role"] == ["customer"]
    assert query["oauth_signature_method"] == ["HMAC-SHA256"]


def test_products_and_orders_match_the_store(sb: SandboxServer, woo: MakeConnector) -> None:
    products = fetch_all(woo(), "products")
    assert len(products) == 250 and isinstance(products[0]["price"], str)
    orders = fetch_all(woo(), "orders")
    trash = [i for i in range(1, 1001) if sb.store.attr("orders", i, "status") == "trash"]
    assert trash, "the seeded store has trashed orders"
    assert len(orders) == 1000 - len(trash)
    assert orders[0]["line_items"][0]["sku"]
    with_trash = fetch_all(woo(options={"include_trash": True}), "orders")
    assert len(with_trash) == 1000


def test_remaining_pages_are_fetched_concurrently(sb: SandboxServer, woo: MakeConnector) -> None:
    sb.faults.latency_ms = 100
    started = time.monotonic()
    records = fetch_all(woo(concurrency=5, options=EVERY_USER), "customers")
    elapsed = time.monotonic() - started
    assert len(records) == 1000
    assert sb.stats.max_in_flight >= 4
    assert elapsed < 11 * 0.1 * 0.6  # sequential would take >= 1.1 s


def test_drift_loses_and_repeats_nothing(sb: SandboxServer, woo: MakeConnector) -> None:
    before = set(sb.store.ids("customers"))
    sb.faults.drift = True
    records = fetch_all(woo(concurrency=4, options=EVERY_USER), "customers")
    sb.faults.drift = False
    after = set(sb.store.ids("customers"))
    ids = [r["id"] for r in records]
    assert before - after, "drift deleted records while paging"
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)
    assert (before & after) <= set(ids)


def test_retries_429_and_500(sb: SandboxServer, woo: MakeConnector) -> None:
    sb.faults.rate_429, sb.faults.retry_after = 0.3, 0
    sb.faults.rate_500 = 0.2
    records = fetch_all(woo(options=EVERY_USER), "customers")
    assert [r["id"] for r in records] == list(range(1, 1001))
    assert sb.stats.requests > 12


def test_persistent_429_gives_up_with_rate_limited(sb: SandboxServer, woo: MakeConnector) -> None:
    sb.faults.rate_429, sb.faults.retry_after = 1.0, 0
    with pytest.raises(RateLimited) as err:
        fetch_all(woo(), "customers")
    assert "too many requests" in str(err.value)
    assert sb.stats.requests == 5


def test_wrong_secret_and_wrong_key(sb: SandboxServer, woo: MakeConnector) -> None:
    with pytest.raises(AuthError, match="refused the request's signature"):
        woo(secret="cs_wrong_value").test_connection()
    with pytest.raises(AuthError, match="Consumer key is invalid"):
        woo(key="ck_wrong").test_connection()


def test_wrong_url_and_not_an_api(sb: SandboxServer, woo: MakeConnector) -> None:
    with pytest.raises(Unreachable, match="Could not reach WooCommerce"):
        woo(url="http://127.0.0.1:9", timeout=3).test_connection()
    with pytest.raises(RemoteNotFound, match="No WooCommerce store"):
        woo(url=sb.url + "/shop").test_connection()


def test_test_connection_says_what_it_found(sb: SandboxServer, woo: MakeConnector) -> None:
    message = woo().test_connection()
    assert message == f"Connected to WooCommerce 9.8.5 at {sb.url}: 975 customers."
    every = woo(options=EVERY_USER).test_connection()
    assert every == f"Connected to WooCommerce 9.8.5 at {sb.url}: 1,000 customers."


def test_malformed_page_is_a_bad_response(sb: SandboxServer, woo: MakeConnector) -> None:
    sb.faults.malformed_page = 4
    with pytest.raises(BadResponse, match="page we cannot read"):
        fetch_all(woo(), "customers")


def test_since_uses_modified_after(sb: SandboxServer, woo: MakeConnector) -> None:
    ident = sb.store.add("products", name="Brand New Lamp", regular_price="19.90")
    sb.store.update("products", 3, regular_price="5.00")
    since = datetime.now(UTC) - timedelta(minutes=1)
    changed = fetch_all(woo(), "products", since=since)
    assert {r["id"] for r in changed} == {3, ident}
    assert "modified_after" in parse_qs(urlsplit(sb.stats.paths[-1]).query)
    sb.store.delete("products", ident)


def test_store_mutations_show_up(sb: SandboxServer, woo: MakeConnector) -> None:
    ident = sb.store.add("customers", email="new.person@example.com", country="DE", state="BE")
    sb.store.update("customers", 10, email="changed@example.com")
    sb.store.delete("customers", 11)
    try:
        by_id = {r["id"]: r for r in fetch_all(woo(), "customers")}
        assert by_id[ident]["email"] == "new.person@example.com"
        assert by_id[10]["email"] == "changed@example.com"
        assert 11 not in by_id
    finally:
        sb.store.delete("customers", ident)
