"""What a real store holds, read right: the connectors against the strict sandbox's real-world
data set and its installation knobs (core/sandbox/README.md), over real loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.connectors import Connector, ConnectorConfig, build_connector, read_scope
from core.connectors.odoo.connector import OdooConnector
from core.connectors.woocommerce.connector import WooCommerceConnector
from core.delta import to_canonical
from core.errors import AuthError, BadResponse, RemoteNotFound
from core.sandbox import SandboxServer, data

from .conftest import ODOO_KEY, ODOO_PASSWORD, WOO_KEY, WOO_SECRET, _server, fetch_all

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def connect() -> Iterator[Any]:
    """Build connectors to any sandbox; closed after the test."""
    made: list[Connector] = []

    def make(
        server: SandboxServer,
        sync_type: str,
        options: dict[str, Any] | None = None,
        url: str | None = None,
        protocol: str = "xmlrpc",
        password: str = ODOO_PASSWORD,
        **limits: Any,
    ) -> Connector:
        if sync_type == "woocommerce":
            creds = {"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET}
            opts = dict(options or {})
        else:
            creds = {"database": "sandbox", "username": "admin", "password": password}
            if protocol == "json2":
                creds["api_key"] = ODOO_KEY
            opts = {"protocol": protocol, **(options or {})}
        connector = build_connector(
            ConnectorConfig(sync_type, url or server.url, creds, opts), **limits
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def ids_where(server: SandboxServer, entity: str, test: Any, archived: bool = False) -> list[int]:
    """The ids of ``entity`` that pass ``test`` (Odoo's archived ones too if ``archived``:
    WooCommerce lists none of them)."""
    return [int(i) for i in server.store.ids(entity, with_archived=archived) if test(int(i))]


# -- Odoo: archived records are an update of their status, never a deletion ------------------


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
def test_odoo_archived_partners_and_products_are_read_with_their_status(
    rw: SandboxServer, connect: Any, protocol: str
) -> None:
    odoo = connect(rw, "odoo", protocol=protocol)
    partners = {r["id"]: r for r in fetch_all(odoo, "customers")}
    archived = [i for i in partners if i % 50 == 17]
    assert archived, "the real-world data set archives every 50th partner"
    for ident in archived:
        assert partners[ident]["active"] is False
        assert to_canonical("odoo", "customers", partners[ident])["status"] == "archived"
    assert to_canonical("odoo", "customers", partners[3])["status"] == "active"
    products = {r["id"]: r for r in fetch_all(odoo, "products")}
    gone = [i for i in products if i % 40 == 23]
    assert gone and all(
        to_canonical("odoo", "products", products[i])["status"] == "archived" for i in gone
    )


# -- Odoo without the Inventory app ----------------------------------------------------------


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
def test_odoo_without_inventory_reads_products_and_says_stock_is_not_available(
    rw: SandboxServer, connect: Any, protocol: str
) -> None:
    rw.profile.odoo_inventory = False
    odoo = connect(rw, "odoo", protocol=protocol)
    products = fetch_all(odoo, "products")
    assert len(products) > 100 and "qty_available" not in products[0]
    scope = read_scope(odoo, "products")
    assert scope.not_available == ("stock_quantity",)
    assert any("qty_available" in note and "not compared" in note for note in scope.notes)
    assert read_scope(odoo, "customers").not_available == ()
    full = connect(rw, "odoo", protocol=protocol)
    rw.profile.odoo_inventory = True
    assert read_scope(full, "products").not_available == ()


# -- Odoo order lines ------------------------------------------------------------------------


def test_odoo_section_and_note_lines_are_left_out_and_delivery_kept(
    rw: SandboxServer, connect: Any
) -> None:
    odoo = connect(rw, "odoo")
    orders = {r["id"]: r for r in fetch_all(odoo, "orders")}
    with_extras = [i for i in orders if i % 4 == 1]
    assert with_extras
    woo = {r["id"]: r for r in fetch_all(connect(rw, "woocommerce"), "orders")}
    for ident in with_extras:
        lines = orders[ident]["lines"]
        assert all(not line.get("display_type") for line in lines)
        canonical = to_canonical("odoo", "orders", orders[ident])["lines"]
        assert all(line["sku"] is not None and line["quantity"] for line in canonical)
        products = [line for line in canonical if line["sku"] != "DELIVERY"]
        assert products == to_canonical("woocommerce", "orders", woo[ident])["lines"]
        shipping = int(rw.store.attr("orders", ident, "shipping_cents"))
        delivery = [line for line in canonical if line["sku"] == "DELIVERY"]
        assert len(delivery) == (1 if shipping else 0)
    notes = read_scope(odoo, "orders").notes
    assert any("section and note lines" in note for note in notes)


# -- multi-company Odoo ----------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
def test_odoo_orders_of_a_user_of_one_company_and_the_companies_read(
    rw: SandboxServer, connect: Any, protocol: str
) -> None:
    rw.profile.odoo_companies = (1,)  # the API user does not belong to company 2
    odoo = connect(rw, "odoo", protocol=protocol)
    orders = fetch_all(odoo, "orders")  # lines with company-2 products: no AccessError
    assert orders and all(order["company_id"][0] == 1 for order in orders)
    skus = {line["default_code"] for order in orders for line in order["lines"]}
    assert False not in skus  # the SKUs of other companies' products come from their names
    notes = read_scope(odoo, "orders").notes
    assert any(n.startswith("Odoo companies read: Sandbox Store Inc. (id 1)") for n in notes)
    assert any("every company of the API user" in n for n in notes)
    partners = fetch_all(odoo, "customers")
    assert all(p["company_id"] in (False, [1, "Sandbox Store Inc."]) for p in partners)


def test_odoo_companies_chosen_for_the_connector(rw: SandboxServer, connect: Any) -> None:
    odoo = connect(rw, "odoo", options={"companies": "2"})
    partners = fetch_all(odoo, "customers")
    companies = {p["company_id"][0] if p["company_id"] else 0 for p in partners}
    assert companies == {0, 2}  # company 2's contacts and those of no company
    (note,) = [n for n in read_scope(odoo, "customers").notes if "companies" in n]
    assert "Sandbox Europe GmbH (id 2)" in note and "chosen for this connector: 2" in note
    assert "customers of no company" in note
    rw.profile.odoo_companies = (1,)
    with pytest.raises(AuthError, match=r"refused the companies chosen for this connector \(2\)"):
        connect(rw, "odoo", options={"companies": "2"}).test_connection()


# -- WooCommerce variable products -----------------------------------------------------------


def test_woocommerce_variations_are_products_of_their_own(rw: SandboxServer, connect: Any) -> None:
    rw.faults.latency_ms = 60
    records = fetch_all(connect(rw, "woocommerce", concurrency=6), "products")
    variable = ids_where(rw, "products", lambda i: data.base_variable(i, True))
    by_id = {r["id"]: r for r in records}
    assert len(by_id) == len(records), "each record once"
    expected = sum(len(rw.store.variations(p)) for p in variable if p in by_id)
    variations = [r for r in records if r.get("type") == "variation"]
    assert len(variations) == expected > 0
    for variation in variations:
        parent = by_id[variation["parent_id"]]
        assert parent["type"] == "variable" and variation["sku"].startswith(parent["sku"])
        canonical = to_canonical("woocommerce", "products", variation)
        assert canonical["parent_id"] == str(parent["id"])
        assert canonical["price"] and canonical["stock_quantity"] is not None
        assert canonical["type"] == "variation"
    assert to_canonical("woocommerce", "products", by_id[variable[0]])["parent_id"] is None
    variation_calls = [p for p in rw.stats.paths if "/variations" in p]
    assert len(variation_calls) == len([p for p in variable if p in by_id])
    assert rw.stats.max_in_flight >= 4, "variations are read concurrently"


# -- WooCommerce customers: roles and guests -------------------------------------------------


def test_woocommerce_customers_are_customers_unless_told(rw: SandboxServer, connect: Any) -> None:
    def role(i: int) -> str:
        return str(rw.store.attr("customers", i, "role"))

    read = {r["id"] for r in fetch_all(connect(rw, "woocommerce"), "customers")}
    assert read == set(ids_where(rw, "customers", lambda i: role(i) == "customer"))
    assert 1 not in read and 2 not in read  # the administrator, a shop manager
    options = {"customer_roles": "customer, subscriber"}
    wider = {r["id"] for r in fetch_all(connect(rw, "woocommerce", options=options), "customers")}
    assert wider == read | set(ids_where(rw, "customers", lambda i: role(i) == "subscriber"))
    everyone = connect(rw, "woocommerce", options={"customer_roles": "all"})
    assert 1 in {r["id"] for r in fetch_all(everyone, "customers")}


def test_woocommerce_guest_buyers_only_when_asked(rw: SandboxServer, connect: Any) -> None:
    plain = fetch_all(connect(rw, "woocommerce"), "customers")
    assert not [r for r in plain if str(r["id"]).startswith("guest:")]
    woo = connect(rw, "woocommerce", options={"include_guests": True})
    records = fetch_all(woo, "customers")
    guests = [r for r in records if str(r["id"]).startswith("guest:")]
    guest_orders = ids_where(
        rw,
        "orders",
        lambda i: data.base_guest(i, True) and rw.store.attr("orders", i, "status") != "trash",
    )
    assert guests and len(guests) <= len(guest_orders)
    emails = {g["email"] for g in guests}
    assert len(emails) == len(guests), "one customer per billing e-mail"
    canonical = to_canonical("woocommerce", "customers", guests[0])
    assert (
        canonical["status"] == "guest" and canonical["external_id"] == f"guest:{guests[0]['email']}"
    )
    assert canonical["name"] and canonical["country"]
    assert any("customer=0" in p for p in rw.stats.paths)
    assert any("Guest buyers" in n for n in read_scope(woo, "customers").notes)


# -- HTML entities ---------------------------------------------------------------------------


def test_woocommerce_entities_read_as_the_names_odoo_has(rw: SandboxServer, connect: Any) -> None:
    woo = {r["id"]: r for r in fetch_all(connect(rw, "woocommerce"), "products")}
    odoo = {r["id"]: r for r in fetch_all(connect(rw, "odoo"), "products")}
    named = [i for i in woo if i % 10 in (7, 9) and woo[i]["type"] == "simple" and i in odoo]
    assert named and any("&amp;" in woo[i]["name"] for i in named)
    assert any("&#8211;" in woo[i]["name"] for i in named)
    for ident in named:
        assert (
            to_canonical("woocommerce", "products", woo[ident])["name"]
            == to_canonical("odoo", "products", odoo[ident])["name"]
        )


# -- misleading errors -----------------------------------------------------------------------


def test_oauth_signature_refused_for_another_home_url_says_so(
    rw: SandboxServer, connect: Any
) -> None:
    rw.profile.woo_home_url = "http://shop.example.com"
    with pytest.raises(AuthError) as refused:
        connect(rw, "woocommerce").test_connection()
    message = str(refused.value)
    assert "signature" in message and "WordPress address" in message and "https://" in message
    assert WOO_SECRET not in message


def test_dropped_authorization_suggests_the_query_string_option(
    https: SandboxServer, connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(https.ca_file))
    https.profile.woo_drops_authorization = True
    with pytest.raises(AuthError, match="Send the keys in the query string") as refused:
        connect(https, "woocommerce").test_connection()
    assert "drops the Authorization header" in str(refused.value)
    fixed = connect(https, "woocommerce", options={"query_string_auth": True})
    assert "customers" in fixed.test_connection()
    assert fetch_all(fixed, "customers")


def test_http_store_that_redirects_to_https_says_it_wants_https(
    https: SandboxServer, connect: Any
) -> None:
    assert https.http_url is not None
    https.stats.reset()
    for sync_type in ("woocommerce", "odoo"):
        with pytest.raises(RemoteNotFound) as moved:
            connect(https, sync_type, url=https.http_url).test_connection()
        assert str(moved.value) == (
            f"{'WooCommerce' if sync_type == 'woocommerce' else 'Odoo'} at {https.http_url} "
            f"wants HTTPS: it redirects every request to https. Change the connector's address "
            f"to {https.url}."
        )
    assert https.stats.requests == 0, "redirects are not followed: nothing went to HTTPS"


# -- found by the sandbox work ---------------------------------------------------------------


def test_odoo_message_with_a_common_word_password_is_intact(connect: Any) -> None:
    server = SandboxServer(size=60, seed=3, real_world=True, odoo_password="admin").start()
    try:
        server.profile.odoo_companies = (1,)
        odoo = connect(server, "odoo", password="admin")
        assert isinstance(odoo, OdooConnector)
        forbidden = ids_where(server, "customers", lambda i: i % 9 == 4)
        with pytest.raises(AuthError) as refused:
            odoo._read("res.partner", forbidden[:1], ["email"])
        message = str(refused.value)
        assert "your friendly administrator" in message and "***istrator" not in message
    finally:
        server.stop()


def test_odoo_json2_application_error_is_shown_not_retried(rw: SandboxServer, connect: Any) -> None:
    odoo = connect(rw, "odoo", protocol="json2")
    assert isinstance(odoo, OdooConnector)
    rw.stats.reset()
    with pytest.raises(BadResponse) as rejected:
        odoo._call("product.product", "search_read", {"fields": ["no_such_field"]})
    assert "Invalid field 'no_such_field' on model 'product.product'" in str(rejected.value)
    assert rw.stats.requests == 1, "an Odoo error of the request is not retried"
    rw.faults.rate_500 = 0.5  # a server in trouble (werkzeug's 500) is still retried
    assert fetch_all(odoo, "customers")


def test_odoo_sparse_variant_ids_are_read_in_concurrent_ranges(connect: Any) -> None:
    server = _server(size=4000, seed=9, real_world=True)
    try:
        server.faults.latency_ms = 40
        odoo = connect(server, "odoo", protocol="json2", concurrency=6)
        server.stats.reset()
        products = fetch_all(odoo, "products")
        ids = [r["id"] for r in products]
        assert ids == sorted(ids) and len(ids) == len(set(ids))
        assert ids[-1] >= data.VARIATION_BASE  # variants' ids start at 100,000,000
        reads = [p for p in server.stats.paths if p.endswith("/search_read")]
        assert len(reads) <= len(products) // 100 + 3, "one read per range of 100 ids"
        assert server.stats.max_in_flight >= 5
    finally:
        server.stop()


def test_a_variable_product_deleted_while_read_takes_its_variations_along(
    rw: SandboxServer, connect: Any
) -> None:
    woo = connect(rw, "woocommerce")
    assert isinstance(woo, WooCommerceConnector)
    parent = next(r for r in fetch_all(woo, "products") if r["type"] == "variable")
    rw.store.delete("products", parent["id"])
    assert woo.variations_now([parent]) == {parent["id"]: []}
