"""Odoo external API emulation: XML-RPC (/xmlrpc/2/common, /xmlrpc/2/object) and JSON-2.

Models: res.partner (the customers), product.product, sale.order (trashed WooCommerce
orders are not in Odoo), sale.order.line, res.country, res.country.state. Domains are
implicit-AND lists of (field, operator, value) terms; archived records are never listed.
"""

from __future__ import annotations

import bisect
import hmac
import xmlrpc.client
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from core.sandbox import data
from core.sandbox.wire import Request, Response, json_response

if TYPE_CHECKING:
    from core.sandbox.server import SandboxServer

VERSION_INFO = [19, 0, 0, "final", 0, ""]
UID = 2
ENTITY_OF = {"res.partner": "customers", "product.product": "products", "sale.order": "orders"}
STATE_OF = {
    "pending": "draft",
    "checkout-draft": "draft",
    "on-hold": "sent",
    "processing": "sale",
    "completed": "sale",
    "cancelled": "cancel",
    "refunded": "cancel",
    "failed": "cancel",
}
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "ilike": lambda a, b: str(b).lower().strip("%") in str(a or "").lower(),
}


class OdooError(Exception):
    """An error the Odoo server reports (a Fault over XML-RPC, a JSON body over JSON-2)."""

    def __init__(
        self,
        message: str,
        name: str = "odoo.exceptions.UserError",
        status: int = 422,
        fault: int | str = 1,
    ) -> None:
        super().__init__(message)
        self.message, self.name, self.status, self.fault = message, name, status, fault


class OdooHandler:
    """Answers /xmlrpc/2/*, /json/2/* and /web/version like an Odoo 19 server."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    # -- transports -----------------------------------------------------------------------
    def handle_xmlrpc(self, req: Request) -> Response:
        """One XML-RPC call (methodCall in, methodResponse or fault out)."""
        if req.method != "POST":
            return Response(405, b"Method Not Allowed", content_type="text/plain")
        try:
            params, method = xmlrpc.client.loads(req.body, use_datetime=False)
        except Exception:
            return self._xml_fault(1, "Invalid XML-RPC request")
        try:
            if req.path == "/xmlrpc/2/common":
                result = self._common(method or "", params)
                page = None
            elif req.path == "/xmlrpc/2/object":
                result, page = self._object(method or "", params)
            else:
                return Response(404, b"<h1>Not Found</h1>", content_type="text/html")
        except OdooError as exc:
            return self._xml_fault(exc.fault, exc.message)
        body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)
        return Response(200, body.encode(), page=page, content_type="text/xml; charset=utf-8")

    def handle_json2(self, req: Request) -> Response:
        """One JSON-2 call: POST /json/2/<model>/<method> with a bearer API key."""
        parts = req.path.split("/")
        if req.method != "POST" or len(parts) != 5:
            return self._json_error(OdooError("Not Found", "werkzeug.exceptions.NotFound", 404))
        model, method = parts[3], parts[4]
        auth = req.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(key, self.server.odoo_api_key):
            return self._json_error(
                OdooError("Invalid apikey", "werkzeug.exceptions.Unauthorized", 401)
            )
        db = req.headers.get("x-odoo-database")
        if db is not None and db != self.server.odoo_db:
            return self._json_error(
                OdooError(f"Database {db!r} not found.", "werkzeug.exceptions.NotFound", 404)
            )
        try:
            payload = orjson.loads(req.body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError
        except ValueError:
            return self._json_error(
                OdooError(
                    "The request body must be a JSON object.", "werkzeug.exceptions.BadRequest", 400
                )
            )
        try:
            kwargs = {k: v for k, v in payload.items() if k != "context"}
            result, page = self.call(model, method, [], kwargs)
        except OdooError as exc:
            return self._json_error(exc)
        response = json_response(200, result)
        response.page = page
        return response

    def version(self) -> Response:
        """GET /web/version."""
        return json_response(200, {"version_info": VERSION_INFO, "version": "19.0"})

    def _xml_fault(self, code: int | str, message: str) -> Response:
        body = xmlrpc.client.dumps(xmlrpc.client.Fault(code, message), methodresponse=True)  # type: ignore[arg-type]
        return Response(200, body.encode(), content_type="text/xml; charset=utf-8")

    def _json_error(self, exc: OdooError) -> Response:
        return json_response(
            exc.status,
            {
                "name": exc.name,
                "message": exc.message,
                "arguments": [exc.message, exc.status],
                "context": {},
                "debug": "",
            },
        )

    # -- services -------------------------------------------------------------------------
    def _common(self, method: str, params: Sequence[Any]) -> Any:
        if method == "version":
            return {
                "server_version": "19.0",
                "server_version_info": VERSION_INFO,
                "server_serie": "19.0",
                "protocol_version": 1,
            }
        if method in ("authenticate", "login"):
            db, login, password = (list(params) + [None] * 3)[:3]
            self._check_db(db)
            return UID if login == self.server.odoo_user and self._password_ok(password) else False
        raise OdooError(f"Method not found: {method}", fault=1)

    def _object(self, method: str, params: Sequence[Any]) -> tuple[Any, int | None]:
        if method not in ("execute_kw", "execute") or len(params) < 5:
            raise OdooError(f"Method not found: {method}")
        db, uid, password, model, name = params[:5]
        self._check_db(db)
        if uid != UID or not self._password_ok(password):
            raise OdooError("Access Denied", "odoo.exceptions.AccessDenied", 403, fault=3)
        if method == "execute_kw":
            args = list(params[5]) if len(params) > 5 else []
            kwargs = dict(params[6]) if len(params) > 6 else {}
        else:
            args, kwargs = list(params[5:]), {}
        kwargs.pop("context", None)
        return self.call(str(model), str(name), args, kwargs)

    def _check_db(self, db: Any) -> None:
        if db != self.server.odoo_db:
            raise OdooError(
                f'FATAL:  database "{db}" does not exist', "psycopg2.OperationalError", 500, fault=1
            )

    def _password_ok(self, password: Any) -> bool:
        text = str(password or "")
        return any(
            hmac.compare_digest(text, s)
            for s in (self.server.odoo_password, self.server.odoo_api_key)
            if s
        )

    # -- the ORM ----------------------------------------------------------------------------
    def call(
        self, model: str, method: str, args: list[Any], kwargs: Mapping[str, Any]
    ) -> tuple[Any, int | None]:
        """Run one ORM method; return (result, page number of a data page or None)."""
        names = {
            "search_read": ["domain", "fields", "offset", "limit", "order"],
            "search": ["domain", "offset", "limit", "order"],
            "search_count": ["domain", "limit"],
            "read": ["ids", "fields"],
        }
        if method not in names:
            raise OdooError(
                f"The method '{method}' does not exist on the model '{model}'",
                "werkzeug.exceptions.NotFound",
                404,
            )
        kw = dict(zip(names[method], args, strict=False))
        kw.update(kwargs)
        if model in ENTITY_OF:
            return self._entity_call(model, method, kw)
        if model in ("sale.order.line", "res.country.state", "res.country"):
            return self._small_call(model, method, kw), None
        raise OdooError(f"Object {model} doesn't exist", "werkzeug.exceptions.NotFound", 404)

    def _entity_call(
        self, model: str, method: str, kw: Mapping[str, Any]
    ) -> tuple[Any, int | None]:
        entity = ENTITY_OF[model]
        store = self.server.store
        fields = kw.get("fields") or None
        if method == "read":
            wanted = [int(i) for i in kw.get("ids") or []]
            rows = [self.render(model, r) for i in wanted if (r := store.get(entity, i))]
            return [_only(r, fields) for r in rows], None
        low, high, others = _split_domain(kw.get("domain") or [])
        pred, key = self._predicate(model, others)
        if self.server.faults.drift and method in ("search_read", "search"):
            store.drift(entity, low + 1, int(kw.get("limit") or 80))
        ids = store.ids(entity, key, pred)
        start = bisect.bisect_right(ids, low)
        stop = bisect.bisect_right(ids, high) if high is not None else len(ids)
        if method == "search_count":
            return stop - start, None
        offset = int(kw.get("offset") or 0)
        limit = kw.get("limit")
        desc = str(kw.get("order") or "id asc").strip().lower().endswith("desc")
        window = ids[start:stop]
        if desc:
            window = window[::-1]
        chosen = window[offset : offset + int(limit)] if limit else window[offset:]
        page = None
        if limit:
            page = (start + offset) // int(limit) + 1
        if method == "search":
            return [int(i) for i in chosen], page
        rows = []
        for ident in chosen:
            record = store.get(entity, int(ident))
            if record is not None:
                rows.append(_only(self.render(model, record), fields))
        return rows, page

    def _predicate(self, model: str, terms: list[tuple[str, str, Any]]) -> tuple[Any, str]:
        entity = ENTITY_OF[model]
        store = self.server.store
        checks: list[Callable[[int], bool]] = []
        if model == "sale.order":
            checks.append(lambda i: store.attr("orders", i, "status") != "trash")
        for field, op, value in terms:
            if op not in OPS:
                raise OdooError(f"Invalid operator {op!r}", "builtins.ValueError", 422)
            test = OPS[op]
            if field == "active":
                continue  # archived records are hidden anyway
            if field == "customer_rank" and model == "res.partner":

                def rank(i: int, t: Any = test, v: Any = value) -> bool:
                    return bool(t(store.attr(entity, i, "customer_rank"), v))

                checks.append(rank)
            elif field == "write_date":

                def written(i: int, t: Any = test, v: Any = value) -> bool:
                    stamp = data.odoo_datetime(store.attr(entity, i, "date_modified"))
                    return bool(t(stamp, v))

                checks.append(written)
            else:

                def slow(i: int, f: str = field, t: Any = test, v: Any = value) -> bool:
                    record = store.get(entity, i)
                    return record is not None and bool(t(self.render(model, record).get(f), v))

                checks.append(slow)
        if not checks:
            return None, ""
        key = orjson.dumps([model, terms], default=str).decode()
        return (lambda i: all(c(i) for c in checks)), key

    def _small_call(self, model: str, method: str, kw: Mapping[str, Any]) -> Any:
        store = self.server.store
        wanted: list[int] = [int(i) for i in kw.get("ids") or []]
        order_ids: list[int] = []
        for field, op, value in _terms(kw.get("domain") or []):
            values = value if isinstance(value, list | tuple) else [value]
            if field == "id" and op in ("=", "in"):
                wanted = [int(v) for v in values]
            elif field == "order_id" and op in ("=", "in") and model == "sale.order.line":
                order_ids = [int(v) for v in values]
            else:
                raise OdooError(
                    f"The sandbox cannot search {model} by {field} {op}.",
                    "builtins.ValueError",
                    422,
                )
        rows: list[dict[str, Any]] = []
        if model == "sale.order.line":
            for order_id in order_ids or sorted({i // 10 for i in wanted}):
                order = store.get("orders", order_id)
                if order is None:
                    continue
                for line in order["lines"]:
                    if order_ids or line["id"] in wanted:
                        rows.append(self._line(order, line))
        elif model == "res.country.state":
            rows = [
                {
                    "id": i,
                    "code": s[1],
                    "name": s[2],
                    "country_id": [data.COUNTRY_BY_CODE[s[0]][0], data.COUNTRY_BY_CODE[s[0]][2]],
                }
                for i in wanted
                if (s := data.STATES_BY_ID.get(i))
            ]
        else:
            rows = [
                {"id": c[0], "code": c[1], "name": c[2]} for c in data.COUNTRIES if c[0] in wanted
            ]
        if method == "search_count":
            return len(rows)
        if method == "search":
            return [r["id"] for r in rows]
        return [_only(r, kw.get("fields") or None) for r in rows]

    # -- rendering ------------------------------------------------------------------------
    def render(self, model: str, r: Mapping[str, Any]) -> dict[str, Any]:
        """A record in Odoo's wire shape (False for empty values, [id, name] for many2one)."""
        if model == "res.partner":
            return self._partner(r)
        if model == "product.product":
            return self._product(r)
        return self._order(r)

    def _partner(self, r: Mapping[str, Any]) -> dict[str, Any]:
        country = data.COUNTRY_BY_CODE.get(r["country"])
        state_id = data.STATE_IDS.get((r["country"], r["state"]))
        state = data.STATES_BY_ID.get(state_id or 0)
        name = f"{r['first_name']} {r['last_name']}".strip()
        return {
            "id": r["id"],
            "name": name,
            "display_name": name,
            "email": r["email"] or False,
            "phone": r["phone"] or False,
            "street": r["address_1"] or False,
            "street2": r["address_2"] or False,
            "city": r["city"] or False,
            "zip": r["postcode"] or False,
            "state_id": [state_id, f"{state[2]} ({r['country']})"] if state_id and state else False,
            "country_id": [country[0], country[2]] if country else False,
            "country_code": r["country"] or False,
            "company_name": r["company"] or False,
            "parent_id": False,
            "commercial_company_name": r["company"] or False,
            "is_company": False,
            "customer_rank": r["customer_rank"],
            "supplier_rank": 0,
            "active": r["active"],
            "create_date": data.odoo_datetime(r["date_created"]),
            "write_date": data.odoo_datetime(r["date_modified"]),
        }

    def _product(self, r: Mapping[str, Any]) -> dict[str, Any]:
        price = r["regular_cents"] / 100
        stock = r["stock_quantity"]
        return {
            "id": r["id"],
            "default_code": r["sku"] or False,
            "name": r["name"],
            "display_name": f"[{r['sku']}] {r['name']}",
            "lst_price": price,
            "list_price": price,
            "standard_price": round(price * 0.6, 2),
            "qty_available": float(stock or 0),
            "active": r["active"],
            "type": "consu",
            "is_storable": stock is not None,
            "sale_ok": r["status"] == "publish",
            "product_tmpl_id": [r["id"], r["name"]],
            "create_date": data.odoo_datetime(r["date_created"]),
            "write_date": data.odoo_datetime(r["date_modified"]),
        }

    def _order(self, r: Mapping[str, Any]) -> dict[str, Any]:
        store = self.server.store
        buyer = store.get("customers", r["customer_id"]) or data.customer(
            store.seed, r["customer_id"]
        )
        currency = r.get("currency") or data.COUNTRY_BY_CODE[buyer["country"]][3]
        cents = sum(int(line["total_cents"]) for line in r["lines"]) + r["shipping_cents"]
        return {
            "id": r["id"],
            "name": f"S{r['id']:05d}",
            "state": STATE_OF.get(r["status"], "draft"),
            "currency_id": [data.CURRENCY_IDS.get(currency, 1), currency],
            "amount_total": cents / 100,
            "amount_untaxed": cents / 100,
            "amount_tax": 0.0,
            "partner_id": [r["customer_id"], f"{buyer['first_name']} {buyer['last_name']}"],
            "date_order": data.odoo_datetime(r["date_created"]),
            "order_line": [line["id"] for line in r["lines"]],
            "create_date": data.odoo_datetime(r["date_created"]),
            "write_date": data.odoo_datetime(r["date_modified"]),
        }

    def _line(self, order: Mapping[str, Any], line: Mapping[str, Any]) -> dict[str, Any]:
        store = self.server.store
        product = store.get("products", line["product_id"]) or data.product(
            store.seed, line["product_id"]
        )
        subtotal = line["total_cents"] / 100
        return {
            "id": line["id"],
            "order_id": [order["id"], f"S{order['id']:05d}"],
            "product_id": [line["product_id"], f"[{product['sku']}] {product['name']}"],
            "name": product["name"],
            "product_uom_qty": float(line["quantity"]),
            "price_unit": round(subtotal / line["quantity"], 2),
            "price_subtotal": subtotal,
            "price_total": subtotal,
        }


def _terms(domain: Any) -> list[tuple[str, str, Any]]:
    if not isinstance(domain, list | tuple):
        raise OdooError("Invalid domain", "builtins.ValueError", 422)
    out = []
    for term in domain:
        if term == "&":
            continue
        if isinstance(term, str):
            raise OdooError(
                f"The sandbox supports AND domains only, not {term!r}.", "builtins.ValueError", 422
            )
        if not isinstance(term, list | tuple) or len(term) != 3:
            raise OdooError(f"Invalid leaf {term!r}", "builtins.ValueError", 422)
        out.append((str(term[0]), str(term[1]), term[2]))
    return out


def _split_domain(domain: Any) -> tuple[int, int | None, list[tuple[str, str, Any]]]:
    """(low, high, other terms): ids in (low, high] satisfy the id terms."""
    low, high = 0, None
    others = []
    for field, op, value in _terms(domain):
        if field == "id" and op in (">", ">=", "<", "<=", "="):
            v = int(value)
            if op in (">", ">="):
                low = max(low, v if op == ">" else v - 1)
            if op in ("<", "<="):
                h = v - 1 if op == "<" else v
                high = h if high is None else min(high, h)
            if op == "=":
                low, high = max(low, v - 1), v if high is None else min(high, v)
        else:
            others.append((field, op, value))
    return low, high, others


def _only(record: dict[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    if not fields:
        return record
    return {"id": record["id"], **{f: record[f] for f in fields if f in record}}
