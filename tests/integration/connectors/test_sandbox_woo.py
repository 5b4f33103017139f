"""The WooCommerce sandbox answers as a real store does (core/sandbox/README.md names the
WooCommerce and WordPress code each rule follows), over real loopback HTTP and HTTPS."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY, Client

from core.sandbox import SandboxServer
from core.sandbox.woo_params import ORDER_STATUSES

from .conftest import WOO_KEY, WOO_SECRET

pytestmark = pytest.mark.timeout(60)
CASES = Path(__file__).resolve().parents[2] / "cases"
API = "/wp-json/wc/v3"


def oauth_get(
    base: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    signed_for: str | None = None,
    secret: str = WOO_SECRET,
) -> requests.Response:
    """GET signed with OAuth 1.0a in the query string (as the official clients sign), the
    signature computed for `signed_for` (default: the address the request goes to)."""
    query = f"?{urlencode(params)}" if params else ""
    client = Client(
        WOO_KEY,
        client_secret=secret,
        signature_method=SIGNATURE_HMAC_SHA256,
        signature_type=SIGNATURE_TYPE_QUERY,
    )
    signed, _, _ = client.sign(f"{signed_for or base}{API}{path}{query}")
    return requests.get(base + str(signed)[len(signed_for or base) :], timeout=10)


def basic(user: str = WOO_KEY, password: str = WOO_SECRET) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# -- authentication ---------------------------------------------------------------------------
def test_basic_auth_and_query_keys_are_ignored_over_plain_http(rw: SandboxServer) -> None:
    cannot = {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": 401},
    }
    over_basic = requests.get(f"{rw.url}{API}/customers", headers=basic(), timeout=10)
    assert (over_basic.status_code, over_basic.json()) == (401, cannot)
    in_query = requests.get(
        f"{rw.url}{API}/customers",
        params={"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET},
        timeout=10,
    )
    assert (in_query.status_code, in_query.json()) == (401, cannot)
    assert oauth_get(rw.url, "/customers").status_code == 200


def test_https_takes_basic_auth_or_query_keys(https: SandboxServer) -> None:
    assert https.url.startswith("https://") and https.ca_file is not None
    verify = str(https.ca_file)
    url = f"{https.url}{API}/customers"
    ok = requests.get(url, headers=basic(), params={"per_page": 5}, verify=verify, timeout=10)
    assert ok.status_code == 200 and len(ok.json()) == 5
    keys: dict[str, Any] = {"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET, "per_page": 5}
    assert requests.get(url, params=keys, verify=verify, timeout=10).status_code == 200
    wrong_secret = requests.get(url, headers=basic(password="cs_wrong"), verify=verify, timeout=10)
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["message"] == "Consumer secret is invalid."
    # an unknown key authenticates nobody: the permission check answers
    unknown = requests.get(url, headers=basic(user="ck_unknown"), verify=verify, timeout=10)
    assert (unknown.status_code, unknown.json()["code"]) == (401, "woocommerce_rest_cannot_view")


def test_plain_http_port_redirects_to_https(https: SandboxServer) -> None:
    assert https.http_url is not None
    moved = requests.get(
        f"{https.http_url}{API}/customers?per_page=2", allow_redirects=False, timeout=10
    )
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{https.url}{API}/customers?per_page=2"


def test_a_server_that_drops_the_authorization_header(https: SandboxServer) -> None:
    https.profile.woo_drops_authorization = True
    url, verify = f"{https.url}{API}/orders", str(https.ca_file)
    dropped = requests.get(url, headers=basic(), verify=verify, timeout=10)
    assert (dropped.status_code, dropped.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    keys = {"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET}
    assert requests.get(url, params=keys, verify=verify, timeout=10).status_code == 200


def test_oauth_is_signed_against_the_home_url_not_the_host(rw: SandboxServer) -> None:
    rw.profile.woo_home_url = "http://shop.example.com"
    refused = oauth_get(rw.url, "/products", {"per_page": 2})
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Invalid signature - provided signature does not match.",
        "data": {"status": 401},
    }
    accepted = oauth_get(rw.url, "/products", {"per_page": 2}, signed_for="http://shop.example.com")
    assert accepted.status_code == 200
    assert accepted.json()[0]["_links"]["self"][0]["href"].startswith("http://shop.example.com/")


def test_oauth_errors(rw: SandboxServer) -> None:
    wrong = oauth_get(rw.url, "/orders", secret="cs_wrong")
    assert wrong.json()["message"] == "Invalid signature - provided signature does not match."
    partial = requests.get(
        f"{rw.url}{API}/orders", params={"oauth_consumer_key": WOO_KEY}, timeout=10
    )
    assert partial.status_code == 401
    assert partial.json()["code"] == "woocommerce_rest_authentication_missing_parameter"
    assert partial.json()["message"] == (
        "Missing OAuth parameters oauth_timestamp, oauth_nonce, oauth_signature, "
        "oauth_signature_method"
    )
    first = oauth_get(rw.url, "/orders")
    replay = requests.get(first.url, timeout=10)
    assert first.status_code == 200 and replay.status_code == 401
    assert replay.json()["message"] == "Invalid nonce - nonce has already been used."


# -- parameters -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "params", "name", "code", "message"),
    [
        (
            "/orders",
            {"order": "up"},
            "order",
            "rest_not_in_enum",
            "order is not one of asc and desc.",
        ),
        (
            "/orders",
            {"orderby": "total"},
            "orderby",
            "rest_not_in_enum",
            "orderby is not one of date, id, include, title, slug, and modified.",
        ),
        (
            "/orders",
            {"status": "completed,shipped"},
            "status",
            "rest_not_in_enum",
            "status[1] is not one of any, trash, "
            + ", ".join(ORDER_STATUSES[:-1])
            + ", and checkout-draft.",
        ),
        (
            "/customers",
            {"page": "0"},
            "page",
            "rest_out_of_bounds",
            "page must be greater than or equal to 1",
        ),
        (
            "/products",
            {"per_page": "500"},
            "per_page",
            "rest_out_of_bounds",
            "per_page must be between 1 (inclusive) and 100 (inclusive)",
        ),
        ("/products", {"page": "two"}, "page", "rest_invalid_type", "page is not of type integer."),
        ("/orders", {"after": "2024-01-01"}, "after", "rest_invalid_date", "Invalid date."),
        (
            "/products",
            {"modified_after": "yesterday"},
            "modified_after",
            "rest_invalid_date",
            "Invalid date.",
        ),
        (
            "/customers",
            {"role": "vip"},
            "role",
            "rest_not_in_enum",
            "role is not one of all, administrator, editor, author, contributor, subscriber, "
            "customer, and shop_manager.",
        ),
    ],
)
def test_invalid_parameters_are_wordpress_400s(
    rw: SandboxServer, path: str, params: dict[str, str], name: str, code: str, message: str
) -> None:
    response = oauth_get(rw.url, path, params)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "code": "rest_invalid_param",
        "message": f"Invalid parameter(s): {name}",
        "data": {
            "status": 400,
            "params": {name: message},
            "details": {name: {"code": code, "message": message, "data": None}},
        },
    }


def test_every_invalid_parameter_is_named_and_validation_precedes_permission(
    rw: SandboxServer,
) -> None:
    both = oauth_get(rw.url, "/orders", {"order": "x", "page": "0"})
    assert both.json()["message"] == "Invalid parameter(s): page, order"
    anonymous = requests.get(f"{rw.url}{API}/orders", params={"order": "x"}, timeout=10)
    assert anonymous.status_code == 400  # WordPress checks parameters before permissions


# -- listings ---------------------------------------------------------------------------------
def _all(base: str, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        response = oauth_get(base, path, {**params, "per_page": 100, "page": page})
        assert response.status_code == 200, response.text
        out.extend(response.json())
        if page >= int(response.headers["X-WP-TotalPages"]):
            return out
        page += 1


def test_after_before_and_orderby_date(rw: SandboxServer) -> None:
    window = {"after": "2023-01-01T00:00:00", "before": "2023-07-01T00:00:00Z"}
    orders = _all(rw.url, "/orders", {**window, "orderby": "date", "order": "asc"})
    created = [o["date_created_gmt"] for o in orders]
    assert orders and created == sorted(created)
    assert all("2023-01-01T00:00:00" < c < "2023-07-01T00:00:00" for c in created)
    everything = _all(rw.url, "/orders", {"orderby": "id", "order": "asc"})
    expected = [
        o["id"] for o in everything if "2023-01-01T00:00:00" < o["date_created_gmt"] < "2023-07-01"
    ]
    assert sorted(o["id"] for o in orders) == expected
    newest_first = oauth_get(rw.url, "/orders", {"per_page": 5}).json()  # default: date, desc
    stamps = [o["date_created_gmt"] for o in newest_first]
    assert stamps == sorted(stamps, reverse=True)


def test_search_customers_and_products(rw: SandboxServer) -> None:
    customer = rw.store.get("customers", 7)
    assert customer is not None
    found = oauth_get(rw.url, "/customers", {"search": customer["email"], "role": "all"}).json()
    assert [c["id"] for c in found] == [7]
    products = _all(rw.url, "/products", {"search": "gift edition"})
    assert products and all("Gift Edition" in p["name"] for p in products)


def test_link_header_keeps_the_query(rw: SandboxServer) -> None:
    response = oauth_get(
        rw.url, "/orders", {"per_page": 20, "page": 2, "status": "completed", "_fields": "id"}
    )
    links = {
        rel.split('"')[1]: url.strip(" <>")
        for url, rel in (part.split(";") for part in response.headers["Link"].split(","))
    }
    for rel, page in (("prev", "1"), ("next", "3")):
        query = parse_qs(urlsplit(links[rel]).query)
        assert query["page"] == [page]
        assert query["per_page"] == ["20"] and query["status"] == ["completed"]
        assert query["_fields"] == ["id"]
    assert links["next"].startswith(f"{rw.url}{API}/orders?")


def test_customers_are_customers_unless_role_all(rw: SandboxServer) -> None:
    customers = _all(rw.url, "/customers", {})
    everyone = _all(rw.url, "/customers", {"role": "all"})
    roles = {c["role"] for c in everyone}
    assert {"customer", "administrator", "shop_manager", "subscriber"} <= roles
    assert {c["role"] for c in customers} == {"customer"}
    staff = [c for c in everyone if c["role"] in ("administrator", "shop_manager")]
    assert staff and len(everyone) == len(customers) + len(staff) + sum(
        1 for c in everyone if c["role"] == "subscriber"
    )
    admins = _all(rw.url, "/customers", {"role": "administrator"})
    assert [c["id"] for c in admins] == [1]


def test_orders_carry_taxes_shipping_refunds_dates_and_notes(rw: SandboxServer) -> None:
    orders = _all(rw.url, "/orders", {"orderby": "id", "order": "asc"})
    by_status: dict[str, list[dict[str, Any]]] = {}
    for order in orders:
        by_status.setdefault(order["status"], []).append(order)
        cents = round(float(order["total"]) * 100)
        parts = sum(round(float(i["total"]) * 100) for i in order["line_items"])
        parts += round(float(order["shipping_total"]) * 100) + round(
            float(order["total_tax"]) * 100
        )
        assert cents == parts
        assert len(order["shipping_lines"]) == 1
    taxed = [o for o in orders if o["tax_lines"]]
    assert taxed and all(float(o["total_tax"]) > 0 for o in taxed)
    assert {o["tax_lines"][0]["label"] for o in taxed} <= {"MwSt.", "TVA", "VAT", "IVA", "GST"}
    assert all(o["date_paid"] and o["date_completed"] for o in by_status["completed"])
    assert all(o["date_paid"] is None and o["date_completed"] is None for o in by_status["pending"])
    refunded = by_status["refunded"][0]
    assert refunded["refunds"] and refunded["refunds"][0]["total"] == f"-{refunded['total']}"
    assert any(o["customer_note"] for o in orders)


def test_guest_orders_have_no_customer_account(rw: SandboxServer) -> None:
    orders = _all(rw.url, "/orders", {"orderby": "id", "order": "asc"})
    guests = [o for o in orders if o["customer_id"] == 0]
    assert guests and all("@" in o["billing"]["email"] for o in guests)
    assert len(_all(rw.url, "/orders", {"customer": 0})) == len(guests)


def test_variable_products_and_their_variations(rw: SandboxServer) -> None:
    variable = _all(rw.url, "/products", {"type": "variable"})
    assert variable
    product = variable[0]
    assert product["variations"] and product["regular_price"] == ""
    first = oauth_get(rw.url, f"/products/{product['id']}/variations", {"per_page": 1})
    assert first.status_code == 200
    assert first.headers["X-WP-Total"] == str(len(product["variations"]))
    assert first.headers["X-WP-TotalPages"] == str(len(product["variations"]))
    everything = _all(rw.url, f"/products/{product['id']}/variations", {})
    assert sorted(v["id"] for v in everything) == sorted(product["variations"])
    assert all(v["sku"] and v["price"] and v["stock_quantity"] is not None for v in everything)
    assert product["price"] == min((v["price"] for v in everything), key=float)
    one = oauth_get(rw.url, f"/products/{product['id']}/variations/{everything[0]['id']}")
    assert one.json()["id"] == everything[0]["id"]
    assert oauth_get(rw.url, f"/products/{product['id']}/variations/1").status_code == 404
    orders = _all(rw.url, "/orders", {"product": product["id"]})
    items = [i for o in orders for i in o["line_items"] if i["product_id"] == product["id"]]
    assert items and all(i["variation_id"] in product["variations"] for i in items)


def test_names_carry_the_html_entities_wordpress_stores(rw: SandboxServer) -> None:
    products = _all(rw.url, "/products", {})
    assert any("&amp;" in p["name"] for p in products)
    assert any("&#8211;" in p["name"] for p in products)
    encoded = next(p for p in products if "&amp;" in p["name"])
    raw = rw.store.get("products", encoded["id"])
    assert raw is not None and encoded["name"] == raw["name"].replace("&", "&amp;")


def test_shapes_hold_every_documented_field(rw: SandboxServer) -> None:
    documented_variations = json.loads((CASES / "woo_variations.json").read_text())
    documented_product = json.loads((CASES / "woo_variable_product.json").read_text())
    documented_order = json.loads((CASES / "woo_orders.json").read_text())[0]
    product = _all(rw.url, "/products", {"type": "variable"})[0]
    variation = oauth_get(rw.url, f"/products/{product['id']}/variations").json()[0]
    order = oauth_get(rw.url, "/orders", {"per_page": 1}).json()[0]
    assert set(documented_product) <= set(product)
    assert set(documented_variations[0]) <= set(variation)
    assert set(documented_order) <= set(order)
    assert set(documented_order["line_items"][0]) <= set(order["line_items"][0])
    assert set(documented_order["shipping_lines"][0]) <= set(order["shipping_lines"][0])


def test_unknown_ids_and_routes(rw: SandboxServer) -> None:
    missing = oauth_get(rw.url, "/products/999999")
    assert (missing.status_code, missing.json()["code"]) == (
        404,
        "woocommerce_rest_product_invalid_id",
    )
    nothing = oauth_get(rw.url, "/coupons")
    assert (nothing.status_code, nothing.json()["code"]) == (404, "rest_no_route")
