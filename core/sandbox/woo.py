"""WooCommerce REST API v3 emulation: routes, listings, paging headers and error bodies.

A request goes through WordPress's steps in WordPress's order: authentication
(``woo_auth``: a bad signature or secret is a 401 before anything else), route matching
(404 ``rest_no_route``), parameter validation (``woo_params``: 400 ``rest_invalid_param``),
the permission check (401 ``woocommerce_rest_cannot_view`` when nobody authenticated), then
the listing itself, with ``X-WP-Total``, ``X-WP-TotalPages`` and a ``Link`` header that keeps
the request's query.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from core.sandbox import data, woo_params
from core.sandbox.store import Store
from core.sandbox.wire import Request, Response, json_response
from core.sandbox.woo_auth import WooAuth, error
from core.sandbox.woo_render import PREFIX, VERSION, WooRender, wp_title

if TYPE_CHECKING:
    from core.sandbox.server import SandboxServer

COLLECTIONS = ("customers", "products", "orders")
_ITEM_ERRORS = {
    "customers": ("woocommerce_rest_invalid_id", "Invalid resource ID."),
    "products": ("woocommerce_rest_product_invalid_id", "Invalid ID."),
    "orders": ("woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
    "variations": ("woocommerce_rest_product_variation_invalid_id", "Invalid ID."),
}
#: WooCommerce's date filters: parameter, the record's field, and whether it means "after".
_DATE_FILTERS = (
    ("after", "date_created", True),
    ("before", "date_created", False),
    ("modified_after", "date_modified", True),
    ("modified_before", "date_modified", False),
)
_ROUTE = re.compile(
    r"^/(?P<coll>customers|products|orders|system_status)"
    r"(?:/(?P<id>\d+)(?:/(?P<sub>variations)(?:/(?P<vid>\d+))?)?)?$"
)
Predicate = Callable[[int], bool]


class WooHandler:
    """Answers requests under /wp-json/ the way WordPress 6 with WooCommerce 9 does."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.auth = WooAuth(server.woo_key, server.woo_secret)

    @property
    def store(self) -> Store:
        """The server's store."""
        return self.server.store

    def home(self) -> str:
        """The WordPress home URL (the profile's, or where the sandbox serves)."""
        return (self.server.profile.woo_home_url or self.server.url).rstrip("/")

    def handle(self, req: Request) -> Response:
        """Route one request under /wp-json/."""
        home = self.home()
        path = req.path.rstrip("/")
        if path == "/wp-json":
            return json_response(
                200,
                {"name": "Sandbox Store", "url": home, "home": home, "namespaces": ["wc/v3"]},
            )
        outcome = self.auth.authenticate(req, home, self.server.tls)
        if outcome.error is not None:
            return outcome.error
        if path == PREFIX:
            return json_response(200, {"namespace": "wc/v3", "routes": _routes()})
        match = _ROUTE.match(path[len(PREFIX) :]) if path.startswith(PREFIX + "/") else None
        if match is None or req.method != "GET":
            return error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            )
        render = WooRender(self.store, home)
        coll, ident, sub, vid = match.group("coll", "id", "sub", "vid")
        if coll == "system_status":
            if ident is not None:
                return error(
                    404,
                    "rest_no_route",
                    "No route was found matching the URL and request method.",
                )
            return self._system_status(req, outcome.user, home)
        if sub is not None and coll != "products":
            return error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            )
        if ident is None:
            return self._list(coll, req, outcome.user, render)
        if sub is None:
            return self._item(coll, int(ident), req, outcome.user, render)
        if vid is None:
            return self._variations(int(ident), req, outcome.user, render)
        return self._variation(int(ident), int(vid), req, outcome.user, render)

    # -- endpoints --------------------------------------------------------------------------
    def _system_status(self, req: Request, user: str | None, home: str) -> Response:
        if user is None:
            return _cannot("view")
        body = {
            "environment": {
                "home_url": home,
                "site_url": home,
                "version": VERSION,
                "wp_version": "6.8.1",
            }
        }
        return json_response(200, _fields(body, req.query.get("_fields")))

    def _item(
        self, coll: str, ident: int, req: Request, user: str | None, render: WooRender
    ) -> Response:
        if user is None:
            return _cannot("view")
        record = self.store.get(coll, ident)
        if record is None or not self.store.attr(coll, ident, "active"):
            code, message = _ITEM_ERRORS[coll]
            return error(404, code, message)
        return json_response(200, _fields(self._render(coll, record, render), req.query))

    def _list(self, coll: str, req: Request, user: str | None, render: WooRender) -> Response:
        params, invalid = woo_params.validate(coll, req.query)
        if invalid is not None:
            return invalid
        if user is None:
            return _cannot("list")
        per_page, start, page = _window(coll, params)
        key, pred = self._filter(coll, params)
        store = self.store
        if self.server.faults.drift:
            ids = store.ids(coll, key, pred)
            before = int(ids[min(start, len(ids) - 1)]) if len(ids) else 1
            store.drift(coll, before, per_page)
        ids = store.ids(coll, key, pred)
        ordered = self._ordered(coll, key, ids, params)
        chosen = _slice(ordered, start, per_page, params["order"] == "desc")
        records = []
        for ident in chosen:
            record = store.get(coll, int(ident))
            if record is not None:
                records.append(_fields(self._render(coll, record, render), req.query))
        response = self._collection(records, len(ordered), per_page, page, req)
        response.page = start // per_page + 1
        return response

    def _variations(
        self, parent_id: int, req: Request, user: str | None, render: WooRender
    ) -> Response:
        params, invalid = woo_params.validate("variations", req.query)
        if invalid is not None:
            return invalid
        if user is None:
            return _cannot("list")
        per_page, start, page = _window("variations", params)
        parent = self.store.get("products", parent_id)
        found: list[dict[str, Any]] = []
        if parent is not None and self.store.attr("products", parent_id, "active"):
            found = [v for v in self.store.variations(parent_id) if _variation_ok(v, params)]
        sort = _SORTS["variations"].get(params["orderby"])
        found.sort(key=lambda v: (sort(v) if sort else 0, v["id"]))
        if params["orderby"] == "include" and params["include"]:
            position = {ident: n for n, ident in enumerate(params["include"])}
            found.sort(key=lambda v: position.get(v["id"], len(position)))
        chosen = _slice(found, start, per_page, params["order"] == "desc")
        records = [_fields(render.variation(v, parent or {}), req.query) for v in chosen]
        return self._collection(records, len(found), per_page, page, req)

    def _variation(
        self, parent_id: int, ident: int, req: Request, user: str | None, render: WooRender
    ) -> Response:
        if user is None:
            return _cannot("view")
        parent = self.store.get("products", parent_id)
        found = self.store.variation(ident)
        if parent is None or found is None or found["parent_id"] != parent_id:
            code, message = _ITEM_ERRORS["variations"]
            return error(404, code, message)
        return json_response(200, _fields(render.variation(found, parent), req.query))

    def _collection(
        self, records: list[dict[str, Any]], total: int, per_page: int, page: int, req: Request
    ) -> Response:
        pages = math.ceil(total / per_page) if total else 0
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages), "Allow": "GET, POST"}
        links = []
        if page > 1:
            links.append(f'<{self._page_url(req, min(page - 1, max(pages, 1)))}>; rel="prev"')
        if pages > page:
            links.append(f'<{self._page_url(req, page + 1)}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return json_response(200, records, **headers)

    def _page_url(self, req: Request, page: int) -> str:
        """The request's own URL (on the home URL, every query parameter kept) at `page`."""
        query = {**req.query, "page": str(page)}
        return f"{self.home()}{req.path}?{urlencode(query, quote_via=quote, safe=',:')}"

    def _render(self, coll: str, record: Mapping[str, Any], render: WooRender) -> dict[str, Any]:
        if coll == "customers":
            return render.customer(record)
        if coll == "products":
            return render.product(record)
        return render.order(record)

    # -- filtering and ordering -------------------------------------------------------------
    def _filter(self, coll: str, params: Mapping[str, Any]) -> tuple[str, Predicate | None]:
        """A predicate on ids for the listing's filters, and a key that identifies it."""
        store = self.store
        tests: list[Predicate] = []
        key: list[str] = []

        def add(name: str, test: Predicate) -> None:
            tests.append(test)
            key.append(f"{name}={params[name]!r}")

        if coll == "customers" and params["role"] != "all":
            add("role", lambda i: store.attr(coll, i, "role") == params["role"])
        if coll == "customers" and params["email"]:
            wanted = params["email"].lower()
            add("email", lambda i: _get(store, coll, i, "email").lower() == wanted)
        if coll == "products":
            if params["status"] != "any":
                add("status", lambda i: _get(store, coll, i, "status") == params["status"])
            if params["type"]:
                add("type", lambda i: store.attr(coll, i, "type") == params["type"])
            if params["sku"]:
                add("sku", lambda i: _get(store, coll, i, "sku") == params["sku"])
            if params["parent"]:
                add("parent", lambda i: 0 in params["parent"])
        if coll == "orders":
            wanted_statuses = set(params["status"] if params["status"] != "any" else ("any",))
            if "any" in wanted_statuses:
                wanted_statuses |= set(woo_params.ORDER_STATUSES) - {"checkout-draft"}
            frozen = frozenset(wanted_statuses)
            tests.append(lambda i: store.attr(coll, i, "status") in frozen)
            key.append("status=" + ",".join(sorted(frozen)))
            if params["customer"] is not None:
                add("customer", lambda i: _get(store, coll, i, "customer_id") == params["customer"])
            if params["product"] is not None:
                add(
                    "product",
                    lambda i: any(
                        line["product_id"] == params["product"]
                        for line in _get(store, coll, i, "lines")
                    ),
                )
            if params["parent"]:
                add("parent", lambda i: 0 in params["parent"])
        if coll != "customers":
            for name, field, after in _DATE_FILTERS:
                if params[name]:
                    add(name, _date_test(store, coll, field, _parse_time(params[name]), after))
        if params["search"]:
            needle = params["search"].lower()
            add("search", lambda i: needle in _search_text(store, coll, i))
        if params["include"]:
            included = frozenset(params["include"])
            add("include", lambda i: i in included)
        if params["exclude"]:
            excluded = frozenset(params["exclude"])
            add("exclude", lambda i: i not in excluded)
        if not tests:
            return "", None
        return "&".join(key), lambda i: all(test(i) for test in tests)

    def _ordered(
        self, coll: str, key: str, ids: Sequence[int], params: Mapping[str, Any]
    ) -> Sequence[int]:
        """The filtered ids in ascending order of the listing's `orderby`."""
        orderby = params["orderby"]
        if orderby == "id" or (orderby == "title" and coll == "orders"):
            return ids
        if orderby == "include":
            if not params["include"]:
                return ids
            position = {ident: n for n, ident in enumerate(params["include"])}
            return sorted(ids, key=lambda i: position.get(i, len(position)))
        sort = _SORTS[coll].get(orderby)
        if sort is None:
            return ids
        store = self.store

        def compute() -> list[int]:
            def value(i: int) -> Any:
                record = _cheap(store, coll, i, orderby)
                return sort(record)

            return sorted(ids, key=lambda i: (value(i), i))

        return list(store.memo(("woo-order", coll, key, orderby), (coll,), compute))


# -- helpers ------------------------------------------------------------------------------
def _routes() -> dict[str, Any]:
    names = [
        "customers",
        "customers/(?P<id>[\\d]+)",
        "products",
        "products/(?P<id>[\\d]+)",
        "products/(?P<product_id>[\\d]+)/variations",
        "products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)",
        "orders",
        "orders/(?P<id>[\\d]+)",
        "system_status",
    ]
    return {f"{PREFIX}/{name}": {"namespace": "wc/v3", "methods": ["GET"]} for name in names}


def _cannot(what: str) -> Response:
    message = (
        "Sorry, you cannot list resources."
        if what == "list"
        else ("Sorry, you cannot view this resource.")
    )
    return error(401, "woocommerce_rest_cannot_view", message)


def _window(coll: str, params: Mapping[str, Any]) -> tuple[int, int, int]:
    """(per_page, first index, page number for the Link header)."""
    per_page = int(params["per_page"])
    offset = params["offset"]
    if offset:
        start = abs(int(offset))
        page = math.ceil(start / per_page + 1) if coll == "customers" else int(params["page"])
        return per_page, start, page
    page = int(params["page"])
    return per_page, (page - 1) * per_page, page


def _slice(ordered: Sequence[Any], start: int, per_page: int, descending: bool) -> list[Any]:
    if not descending:
        return list(ordered[start : start + per_page])
    end = len(ordered) - start
    return list(ordered[max(0, end - per_page) : max(0, end)])[::-1]


def _get(store: Store, coll: str, ident: int, name: str) -> Any:
    record = store.get(coll, ident)
    return record.get(name) if record is not None else None


def _cheap(store: Store, coll: str, ident: int, orderby: str) -> Mapping[str, Any]:
    """The fields a sort needs; dates come without generating the whole record."""
    if orderby in ("date", "registered_date"):
        return {"date_created": store.attr(coll, ident, "date_created")}
    if orderby == "modified":
        return {"date_modified": store.attr(coll, ident, "date_modified")}
    return store.get(coll, ident) or {}


def _date_test(store: Store, coll: str, field: str, moment: int, after: bool) -> Predicate:
    if after:
        return lambda i: int(store.attr(coll, i, field)) > moment
    return lambda i: int(store.attr(coll, i, field)) < moment


def _search_text(store: Store, coll: str, ident: int) -> str:
    record = store.get(coll, ident)
    if record is None:
        return ""
    if coll == "customers":
        name = f"{record['first_name']} {record['last_name']}"
        return f"{record['email']} {record['email'].split('@')[0]} {name}".lower()
    if coll == "products":
        return f"{wp_title(record['name'])} {record['name']}".lower()
    buyer = store.get("customers", record["customer_id"] or record.get("buyer_id") or 0) or {}
    names = " ".join(
        str((store.get("products", line["product_id"]) or {}).get("name", ""))
        for line in record["lines"]
    )
    return f"{ident} {buyer.get('email', '')} {buyer.get('first_name', '')} {names}".lower()


def _variation_ok(v: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    if params["status"] != "any" and v["status"] != params["status"]:
        return False
    if params["sku"] and v["sku"] != params["sku"]:
        return False
    if params["include"] and v["id"] not in params["include"]:
        return False
    if params["exclude"] and v["id"] in params["exclude"]:
        return False
    if params["search"] and params["search"].lower() not in str(v["name"]).lower():
        return False
    for name, field, after in _DATE_FILTERS:
        if params[name]:
            moment = _parse_time(params[name])
            value = int(v[field])
            if (after and value <= moment) or (not after and value >= moment):
                return False
    return True


def _name_key(r: Mapping[str, Any]) -> str:
    return f"{r.get('first_name', '')} {r.get('last_name', '')}".lower()


def _title(r: Mapping[str, Any]) -> str:
    return str(r.get("name", "")).lower()


_SORTS: dict[str, dict[str, Callable[[Mapping[str, Any]], Any]]] = {
    "customers": {
        "name": _name_key,
        "registered_date": lambda r: r["date_created"],
    },
    "products": {
        "date": lambda r: r["date_created"],
        "modified": lambda r: r["date_modified"],
        "title": _title,
        "slug": _title,
        "menu_order": lambda r: 0,
        "price": lambda r: data.price_cents(dict(r)),
        "popularity": lambda r: int(r.get("id", 0)) * 7 % 50,
        "rating": lambda r: 0,
    },
    "orders": {
        "date": lambda r: r["date_created"],
        "modified": lambda r: r["date_modified"],
        "slug": lambda r: 0,
    },
    "variations": {
        "date": lambda r: r["date_created"],
        "modified": lambda r: r["date_modified"],
        "title": _title,
        "slug": _title,
        "menu_order": lambda r: 0,
    },
}


def _fields(record: dict[str, Any], query: Mapping[str, str] | str | None) -> dict[str, Any]:
    """WordPress's ``_fields``: keep the named fields (dotted for nested ones)."""
    spec = query.get("_fields") if isinstance(query, Mapping) else query
    if not spec:
        return record
    out: dict[str, Any] = {}
    for name in spec.split(","):
        head, _, rest = name.strip().partition(".")
        if head not in record:
            continue
        if rest and isinstance(record[head], dict):
            if rest in record[head]:
                out.setdefault(head, {})[rest] = record[head][rest]
        else:
            out[head] = record[head]
    return out


def _parse_time(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
