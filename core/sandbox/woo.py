"""WooCommerce REST API v3 emulation: auth checks, listings, headers and error bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from core.sandbox import data
from core.sandbox.store import Store
from core.sandbox.wire import Request, Response, json_response

if TYPE_CHECKING:
    from core.sandbox.server import SandboxServer

PREFIX = "/wp-json/wc/v3"
VERSION = "9.8.5"
STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "trash",
)


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    """WordPress REST error body: {"code", "message", "data": {"status"}}."""
    return json_response(
        status, {"code": code, "message": message, "data": {"status": status, **extra}}
    )


class WooHandler:
    """Answers requests under /wp-json/ the way WooCommerce 9 does."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self._nonces: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        """The server's store."""
        return self.server.store

    def handle(self, req: Request) -> Response:
        """Route one request under /wp-json/."""
        path = req.path.rstrip("/")
        if path == "/wp-json":
            return json_response(
                200,
                {
                    "name": "Sandbox Store",
                    "url": f"http://{req.host}",
                    "namespaces": ["wp/v2", "wc/v3"],
                },
            )
        if path == PREFIX:
            return json_response(
                200,
                {
                    "namespace": "wc/v3",
                    "routes": {
                        f"{PREFIX}/{e}": {"methods": ["GET"]}
                        for e in ("customers", "products", "orders", "system_status")
                    },
                },
            )
        if not path.startswith(PREFIX + "/"):
            return self._no_route()
        parts = path[len(PREFIX) + 1 :].split("/")
        if (
            req.method != "GET"
            or parts[0] not in ("customers", "products", "orders", "system_status")
            or len(parts) > 2
        ):
            return self._no_route()
        denied = self._authenticate(req)
        if denied is not None:
            return denied
        if parts[0] == "system_status":
            return json_response(
                200,
                _fields(
                    {
                        "environment": {
                            "home_url": f"http://{req.host}",
                            "site_url": f"http://{req.host}",
                            "version": VERSION,
                            "wp_version": "6.8.1",
                        }
                    },
                    req.query.get("_fields"),
                ),
            )
        if len(parts) == 2:
            return self._one(parts[0], parts[1], req)
        return self._list(parts[0], req)

    # -- auth -----------------------------------------------------------------------------
    def _authenticate(self, req: Request) -> Response | None:
        key, secret = self.server.woo_key, self.server.woo_secret
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user, password = "", ""
            return self._check_key_secret(user, password)
        if "consumer_key" in req.query:
            return self._check_key_secret(
                req.query["consumer_key"], req.query.get("consumer_secret", "")
            )
        if "oauth_consumer_key" in req.query:
            return self._check_oauth(req, key, secret)
        return error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    def _check_key_secret(self, user: str, password: str) -> Response | None:
        if not hmac.compare_digest(user, self.server.woo_key):
            return error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not hmac.compare_digest(password, self.server.woo_secret):
            return error(
                401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."
            )
        return None

    def _check_oauth(self, req: Request, key: str, secret: str) -> Response | None:
        params = dict(req.query)
        for name in (
            "oauth_consumer_key",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
        ):
            if name not in params:
                return error(
                    401,
                    "woocommerce_rest_authentication_missing_parameter",
                    f"Missing OAuth parameter {name}",
                )
        if not hmac.compare_digest(params["oauth_consumer_key"], key):
            return error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        method = params["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return error(
                401,
                "woocommerce_rest_authentication_error",
                "Invalid signature - signature method is invalid.",
            )
        signature = params.pop("oauth_signature").replace(" ", "+")
        base_uri = quote(f"http://{req.host}{req.path}", safe="")
        pairs = []
        for name in sorted(params):
            pair = f"{_rfc3986(name)}={_rfc3986(params[name])}"
            pairs.append(_rfc3986(pair))
        to_sign = f"{req.method}&{base_uri}&{'%26'.join(pairs)}"
        digest = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
        expected = base64.b64encode(
            hmac.new(f"{secret}&".encode(), to_sign.encode(), digest).digest()
        ).decode()
        if not hmac.compare_digest(expected, signature):
            return error(
                401,
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
            )
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            stamp = 0
        if abs(time.time() - stamp) > 15 * 60:
            return error(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        nonce = (key, str(stamp), params["oauth_nonce"])
        with self._lock:
            if nonce in self._nonces:
                return error(
                    401,
                    "woocommerce_rest_authentication_error",
                    "Invalid nonce - nonce has already been used.",
                )
            if len(self._nonces) > 200_000:
                self._nonces.clear()
            self._nonces.add(nonce)
        return None

    # -- resources ------------------------------------------------------------------------
    def _no_route(self) -> Response:
        return error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )

    def _one(self, entity: str, raw_id: str, req: Request) -> Response:
        ident = int(raw_id) if raw_id.isdigit() else 0
        record = self.store.get(entity, ident)
        if record is None or record.get("active") is False:
            return error(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
        return json_response(
            200, _fields(self.render(entity, record, req.host), req.query.get("_fields"))
        )

    def _list(self, entity: str, req: Request) -> Response:
        q = req.query
        try:
            per_page = int(q.get("per_page", "10"))
            page = int(q.get("page", "1"))
            offset = int(q["offset"]) if "offset" in q else None
        except ValueError:
            return error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): per_page, page",
                params={"per_page": "per_page is not of type integer."},
            )
        if not 1 <= per_page <= 100:
            return error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): per_page",
                params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
            )
        key, pred = self._filter(entity, q)
        start = offset if offset is not None else (page - 1) * per_page
        if self.server.faults.drift:
            ids = self.store.ids(entity, key, pred)
            before = int(ids[min(start, len(ids) - 1)]) if len(ids) else 1
            self.store.drift(entity, before, per_page)
        ids = self.store.ids(entity, key, pred)
        total = len(ids)
        chosen = ids[start : start + per_page]
        if q.get("order", "desc" if entity != "customers" else "asc") == "desc":
            end = total - start
            chosen = ids[max(0, end - per_page) : max(0, end)][::-1]
        records = []
        for ident in chosen:
            record = self.store.get(entity, int(ident))
            if record is not None:
                records.append(_fields(self.render(entity, record, req.host), q.get("_fields")))
        pages = math.ceil(total / per_page) if total else 0
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages), "Allow": "GET, POST"}
        base = f"http://{req.host}{req.path}"
        links = []
        if page > 1 and offset is None:
            links.append(f'<{base}?page={page - 1}>; rel="prev"')
        if page < pages and offset is None:
            links.append(f'<{base}?page={page + 1}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        response = json_response(200, records, **headers)
        response.page = start // per_page + 1
        return response

    def _filter(self, entity: str, q: Mapping[str, str]) -> tuple[str, Any]:
        conditions: list[Any] = []
        key = []
        store = self.store
        if entity == "customers":
            role = q.get("role", "customer")
            if role != "all":
                conditions.append(lambda i: store.attr("customers", i, "role") == role)
                key.append(f"role={role}")
        if entity == "orders":
            wanted = set(q.get("status", "any").split(","))
            if "any" in wanted:
                wanted |= set(STATUSES) - {"trash", "checkout-draft"}
            conditions.append(lambda i: store.attr("orders", i, "status") in wanted)
            key.append("status=" + ",".join(sorted(wanted)))
        if entity != "customers" and "modified_after" in q:
            cutoff = _parse_time(q["modified_after"])
            conditions.append(lambda i: store.attr(entity, i, "date_modified") > cutoff)
            key.append(f"modified_after={cutoff}")
        if not conditions:
            return "", None
        return "&".join(key), lambda i: all(c(i) for c in conditions)

    def render(self, entity: str, r: Mapping[str, Any], host: str) -> dict[str, Any]:
        """A record in WooCommerce's wire shape."""
        if entity == "customers":
            return self._customer(r, host)
        if entity == "products":
            return self._product(r, host)
        return self._order(r, host)

    def _customer(self, r: Mapping[str, Any], host: str) -> dict[str, Any]:
        address = {
            k: r[k]
            for k in (
                "first_name",
                "last_name",
                "company",
                "address_1",
                "address_2",
                "city",
                "postcode",
                "country",
                "state",
            )
        }
        return {
            "id": r["id"],
            "date_created": data.iso(r["date_created"]),
            "date_created_gmt": data.iso(r["date_created"]),
            "date_modified": data.iso(r["date_modified"]),
            "date_modified_gmt": data.iso(r["date_modified"]),
            "email": r["email"],
            "first_name": r["first_name"],
            "last_name": r["last_name"],
            "role": r["role"],
            "username": r["email"].split("@")[0],
            "billing": {**address, "email": r["email"], "phone": r["phone"]},
            "shipping": {**address, "phone": ""},
            "is_paying_customer": r["id"] % 3 != 0,
            "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g",
            "meta_data": [],
            "_links": {"self": [{"href": f"http://{host}{PREFIX}/customers/{r['id']}"}]},
        }

    def _product(self, r: Mapping[str, Any], host: str) -> dict[str, Any]:
        sale = r["sale_cents"]
        price = sale if sale is not None else r["regular_cents"]
        slug = r["name"].lower().replace(" ", "-")
        stock = r["stock_quantity"]
        return {
            "id": r["id"],
            "name": r["name"],
            "slug": slug,
            "permalink": f"http://{host}/product/{slug}/",
            "date_created": data.iso(r["date_created"]),
            "date_created_gmt": data.iso(r["date_created"]),
            "date_modified": data.iso(r["date_modified"]),
            "date_modified_gmt": data.iso(r["date_modified"]),
            "type": r["type"],
            "status": r["status"],
            "featured": False,
            "catalog_visibility": "visible",
            "description": "",
            "short_description": "",
            "sku": r["sku"],
            "price": data.money(price),
            "regular_price": data.money(r["regular_cents"]),
            "sale_price": data.money(sale),
            "on_sale": sale is not None,
            "purchasable": True,
            "total_sales": 0,
            "virtual": False,
            "downloadable": False,
            "tax_status": "taxable",
            "manage_stock": stock is not None,
            "stock_quantity": stock,
            "stock_status": "outofstock" if stock == 0 else "instock",
            "categories": [],
            "tags": [],
            "images": [],
            "meta_data": [],
            "_links": {"self": [{"href": f"http://{host}{PREFIX}/products/{r['id']}"}]},
        }

    def _order(self, r: Mapping[str, Any], host: str) -> dict[str, Any]:
        seed = self.store.seed
        buyer = data.customer(seed, r["customer_id"])
        country = data.COUNTRY_BY_CODE[buyer["country"]]
        currency = r.get("currency") or country[3]
        address = {
            k: buyer[k]
            for k in (
                "first_name",
                "last_name",
                "company",
                "address_1",
                "address_2",
                "city",
                "state",
                "postcode",
                "country",
            )
        }
        items = []
        for line in r["lines"]:
            product = self.store.get("products", line["product_id"]) or data.product(
                seed, line["product_id"]
            )
            total = data.money(line["total_cents"])
            items.append(
                {
                    "id": line["id"],
                    "name": product["name"],
                    "product_id": line["product_id"],
                    "variation_id": 0,
                    "quantity": line["quantity"],
                    "tax_class": "",
                    "subtotal": total,
                    "subtotal_tax": "0.00",
                    "total": total,
                    "total_tax": "0.00",
                    "taxes": [],
                    "meta_data": [],
                    "sku": product["sku"],
                    "price": line["total_cents"] / 100 / line["quantity"],
                    "parent_name": None,
                }
            )
        cents = sum(int(line["total_cents"]) for line in r["lines"]) + r["shipping_cents"]
        created = data.iso(r["date_created"])
        return {
            "id": r["id"],
            "parent_id": 0,
            "status": r["status"],
            "currency": currency,
            "version": VERSION,
            "prices_include_tax": False,
            "date_created": created,
            "date_modified": data.iso(r["date_modified"]),
            "discount_total": "0.00",
            "discount_tax": "0.00",
            "shipping_total": data.money(r["shipping_cents"]),
            "shipping_tax": "0.00",
            "cart_tax": "0.00",
            "total": data.money(cents),
            "total_tax": "0.00",
            "customer_id": r["customer_id"],
            "order_key": f"wc_order_{r['id']:010d}",
            "billing": {**address, "email": buyer["email"], "phone": buyer["phone"]},
            "shipping": {**address, "phone": ""},
            "payment_method": "bacs",
            "payment_method_title": "Direct bank transfer",
            "transaction_id": "",
            "created_via": "checkout",
            "date_created_gmt": created,
            "date_modified_gmt": data.iso(r["date_modified"]),
            "date_paid_gmt": created if r["status"] in ("processing", "completed") else None,
            "number": str(r["id"]),
            "meta_data": [],
            "line_items": items,
            "shipping_lines": [],
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": [],
            "_links": {"self": [{"href": f"http://{host}{PREFIX}/orders/{r['id']}"}]},
        }


def _fields(record: dict[str, Any], spec: str | None) -> dict[str, Any]:
    if not spec:
        return record
    out: dict[str, Any] = {}
    for name in spec.split(","):
        name = name.strip()
        head, _, rest = name.partition(".")
        if head not in record:
            continue
        if rest and isinstance(record[head], dict):
            if rest in record[head]:
                out.setdefault(head, {})[rest] = record[head][rest]
        else:
            out[head] = record[head]
    return out


def _rfc3986(text: str) -> str:
    return quote(text, safe="-_.~")


def _parse_time(text: str) -> int:
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
