"""Mainstream third-party clients authenticate, page and read every entity from the sandbox
over real loopback HTTP(S): the official `woocommerce` client, `odoorpc`, Odoo's own
`odoo-client-lib` (XML-RPC, JSON-RPC and JSON-2) and plain `xmlrpc.client`."""

from __future__ import annotations

import gc
import warnings
import xmlrpc.client
from collections.abc import Callable, Iterator
from typing import Any

import odoolib
import odoorpc
import pytest
from odoolib.tools import AuthenticationError
from woocommerce import API

from core.sandbox import SandboxServer

from .conftest import ODOO_KEY, ODOO_PASSWORD, WOO_KEY, WOO_SECRET

pytestmark = pytest.mark.timeout(120)
DB = "sandbox"
MODELS = ("res.partner", "product.template", "product.product", "sale.order", "sale.order.line")


# -- WooCommerce ------------------------------------------------------------------------------
def _every_page(api: API, endpoint: str, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    page, pages = 1, 1
    while page <= pages:
        response = api.get(endpoint, params={**params, "per_page": 50, "page": page})
        assert response.status_code == 200, response.text
        pages = int(response.headers["X-WP-TotalPages"])
        total = int(response.headers["X-WP-Total"])
        records.extend(response.json())
        page += 1
    assert len(records) == total
    assert len({r["id"] for r in records}) == total
    return records


def _read_the_store(api: API, server: SandboxServer) -> None:
    customers = _every_page(api, "customers", role="all", orderby="id", order="asc")
    assert [c["id"] for c in customers] == list(server.store.ids("customers"))
    products = _every_page(api, "products", orderby="id", order="asc")
    assert len(products) == len(server.store.ids("products"))
    variations = [
        v
        for p in products
        if p["type"] == "variable"
        for v in _every_page(api, f"products/{p['id']}/variations")
    ]
    assert variations and all(v["sku"] and v["price"] for v in variations)
    orders = _every_page(api, "orders", status="any", orderby="date", order="asc")
    stamps = [o["date_created_gmt"] for o in orders]
    assert orders and stamps == sorted(stamps)
    assert {o["status"] for o in orders} >= {"completed", "processing", "refunded"}


def test_official_woocommerce_client_over_http_with_oauth(rw: SandboxServer) -> None:
    api = API(
        url=rw.url, consumer_key=WOO_KEY, consumer_secret=WOO_SECRET, version="wc/v3", timeout=20
    )
    _read_the_store(api, rw)


@pytest.mark.parametrize("query_string_auth", [False, True], ids=["basic", "query-string"])
def test_official_woocommerce_client_over_https(
    https: SandboxServer, query_string_auth: bool
) -> None:
    api = API(
        url=https.url,
        consumer_key=WOO_KEY,
        consumer_secret=WOO_SECRET,
        version="wc/v3",
        timeout=20,
        verify_ssl=str(https.ca_file),
        query_string_auth=query_string_auth,
    )
    _read_the_store(api, https)
    wrong = API(
        url=https.url,
        consumer_key=WOO_KEY,
        consumer_secret="cs_wrong",
        version="wc/v3",
        verify_ssl=str(https.ca_file),
        query_string_auth=query_string_auth,
    ).get("orders")
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "Consumer secret is invalid."


# -- Odoo -------------------------------------------------------------------------------------
@pytest.fixture
def leaky_client() -> Iterator[None]:
    """odoo-client-lib opens an xmlrpc.client.ServerProxy per call and never closes it: its
    sockets are collected here, their ResourceWarning ignored, so no later test sees them."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


LEAKS = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _page_through(
    count: Callable[[], int], search: Callable[[int, int], list[int]], page: int = 40
) -> list[int]:
    total = count()
    ids: list[int] = []
    for offset in range(0, total, page):
        ids.extend(search(offset, page))
    assert len(ids) == total and len(set(ids)) == total
    return ids


def test_odoorpc_logs_in_pages_and_reads_every_model(rw: SandboxServer) -> None:
    odoo = odoorpc.ODOO("127.0.0.1", port=rw.port, timeout=20)
    assert odoo.version == "19.0"
    assert odoo.db.list() == [DB]
    with pytest.raises(odoorpc.error.RPCError):
        odoo.login(DB, "admin", "wrong-password")
    odoo.login(DB, "admin", ODOO_PASSWORD)
    assert odoo.env.uid == 2
    for name in MODELS:
        assert name in odoo.env
        model = odoo.env[name]

        def count(m: Any = model) -> int:
            return int(m.search_count([]))

        def page(offset: int, limit: int, m: Any = model) -> list[int]:
            return list(m.search([], offset=offset, limit=limit, order="id"))

        ids = _page_through(count, page)
        records = model.browse(ids[:30])  # every field fields_get lists, read at once
        assert len(records) == min(30, len(ids))
        assert [r.id for r in records] == ids[:30]
    partner = odoo.env["res.partner"].browse(odoo.env["res.partner"].search([], limit=1))
    assert partner.country_id.code  # a many2one followed to res.country
    order = odoo.env["sale.order"].browse(odoo.env["sale.order"].search([], limit=1))
    assert order.order_line and order.partner_id.email
    assert odoo.env["res.partner"].search_count([("active", "=", False)]) > 0


@LEAKS
@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_odoo_client_lib_pages_and_reads_every_model(
    rw: SandboxServer, protocol: str, leaky_client: None
) -> None:
    secret = ODOO_KEY if protocol == "json2" else ODOO_PASSWORD
    connection = odoolib.get_connection(
        hostname="127.0.0.1",
        port=rw.port,
        protocol=protocol,
        database=DB,
        login="admin",
        password=secret,
    )
    if protocol == "json2":
        assert connection.check_login() is True
        assert connection.get_user_context()["uid"] == 2
    else:
        connection.check_login()
        assert connection.user_id == 2
    for name in MODELS:
        model = connection.get_model(name)

        def search(offset: int, limit: int, m: Any = model) -> list[int]:
            return list(m.search([], offset=offset, limit=limit, order="id asc"))

        def count(m: Any = model) -> int:
            return int(m.search_count([]))

        ids = _page_through(count, search)
        rows = model.read(ids[:25], ["display_name"])
        rows = rows if isinstance(rows, list) else [rows]
        assert [r["id"] for r in rows] == ids[:25] and all(r["display_name"] for r in rows)
        found = model.search_read([["id", "in", ids[:5]]], ["display_name"])
        assert sorted(r["id"] for r in found) == sorted(ids[:5])


@LEAKS
def test_odoo_client_lib_rejects_a_wrong_password(rw: SandboxServer, leaky_client: None) -> None:
    connection = odoolib.get_connection(
        hostname="127.0.0.1",
        port=rw.port,
        protocol="xmlrpc",
        database=DB,
        login="admin",
        password="wrong",
    )
    with pytest.raises(AuthenticationError):
        connection.check_login()


def test_plain_xmlrpc_client_pages_and_reads_every_model(rw: SandboxServer) -> None:
    with (
        xmlrpc.client.ServerProxy(f"{rw.url}/xmlrpc/2/common") as common,
        xmlrpc.client.ServerProxy(f"{rw.url}/xmlrpc/2/object") as models,
    ):
        version: Any = common.version()
        assert version["server_version"] == "19.0"
        uid = common.authenticate(DB, "admin", ODOO_PASSWORD, {})
        for name in MODELS:

            def call(method: str, *args: Any, model: str = name, **kw: Any) -> Any:
                return models.execute_kw(DB, uid, ODOO_PASSWORD, model, method, list(args), kw)

            seen: list[int] = []
            offset, total = 0, call("search_count", [])
            while offset < total:
                page = call("search_read", [], fields=["display_name"], offset=offset, limit=50)
                seen.extend(r["id"] for r in page)
                offset += 50
            assert len(seen) == len(set(seen)) == total
