"""Odoo external API client: XML-RPC (/xmlrpc/2) or JSON-2 (/json/2), keyset paging by id.

Records are read in id ranges (`id > after and id <= hi`, order "id asc"), never by
offset, so records added or deleted while a store is read cannot make another record be
skipped or repeated; ranges are read concurrently and yielded in order.
"""

from __future__ import annotations

import math
import threading
import xmlrpc.client
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from core.connectors.base import HttpConnector
from core.connectors.http import HttpResult
from core.connectors.pool import ordered_map
from core.connectors.redact import redact
from core.delta.fields import check_entity
from core.errors import AuthError, BadResponse, ConfigError, RemoteNotFound
from core.sources.connector import ConnectorConfig, FetchProgress, ProgressCallback

PAGE = 100
MODELS = {"customers": "res.partner", "products": "product.product", "orders": "sale.order"}
DOMAINS: dict[str, list[list[Any]]] = {
    "customers": [["customer_rank", ">", 0]],
    "products": [],
    "orders": [],
}
FIELDS = {
    "customers": [
        "name",
        "email",
        "phone",
        "street",
        "street2",
        "city",
        "zip",
        "state_id",
        "country_id",
        "country_code",
        "company_name",
        "parent_id",
        "commercial_company_name",
        "active",
        "write_date",
    ],
    "products": [
        "default_code",
        "name",
        "lst_price",
        "list_price",
        "qty_available",
        "active",
        "type",
        "sale_ok",
        "write_date",
    ],
    "orders": [
        "name",
        "state",
        "currency_id",
        "amount_total",
        "partner_id",
        "date_order",
        "order_line",
        "write_date",
    ],
}
LINE_FIELDS = ["order_id", "product_id", "product_uom_qty", "price_subtotal"]
Row = dict[str, Any]


class OdooConnector(HttpConnector):
    """Reads customers (res.partner), products and sale orders with their lines from Odoo."""

    sync_type = "odoo"
    system = "Odoo"

    def configure(self, config: ConnectorConfig) -> None:
        creds = config.credentials
        self.database = creds.get("database", "")
        self.username = creds.get("username", "")
        self.api_key = creds.get("api_key", "")
        self.password = creds.get("password", "")
        self.protocol = str(config.options.get("protocol", "xmlrpc"))
        if self.protocol not in ("xmlrpc", "json2"):
            raise ConfigError("The Odoo protocol must be “xmlrpc” or “json2”.")
        if self.protocol == "json2" and not self.api_key:
            raise ConfigError("Odoo's JSON-2 API needs an API key.")
        if self.protocol == "xmlrpc" and not (
            self.database and self.username and (self.api_key or self.password)
        ):
            raise ConfigError(
                "Odoo over XML-RPC needs a database, a login and a password or API key."
            )
        self._uid: int | None = None
        self._state_codes: dict[int, Any] = {}
        self._lock = threading.Lock()

    # -- the interface ------------------------------------------------------------------
    def test_connection(self) -> str:
        """Check address, database and credentials; say how many customers there are."""
        version = self._version()
        count = self._call(
            "res.partner", "search_count", {"domain": DOMAINS["customers"]}, probing=True
        )
        name = f"Odoo {version}" if version else "Odoo"
        where = f" (database {self.database})" if self.database else ""
        return f"Connected to {name} at {self.shown}{where}: {int(count):,} customers."

    def iter_pages(
        self,
        entity_type: str,
        *,
        since: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[list[Row]]:
        """Yield the entity's active records in id order, ranges read concurrently."""
        check_entity(entity_type)
        model = MODELS[entity_type]
        domain = list(DOMAINS[entity_type])
        if since is not None:
            domain.append(["write_date", ">", _odoo_time(since)])
        total = int(self._call(model, "search_count", {"domain": domain}))
        pages_done = records_done = 0
        pages_total = math.ceil(total / PAGE) if total else 0

        def report(rows: int) -> None:
            nonlocal pages_done, records_done
            pages_done += 1
            records_done += rows
            if progress is not None:
                progress(
                    FetchProgress(
                        entity_type, pages_done, max(pages_total, pages_done), records_done, total
                    )
                )

        top = self._newest(model, domain) if total else 0
        ranges: list[tuple[int, int]] = []
        if top:
            width = max(1, math.ceil(top / max(1, pages_total)))
            ranges = [(lo, min(lo + width, top)) for lo in range(0, top, width)]

        def read(bounds: tuple[int, int]) -> list[Row]:
            return self._read_range(entity_type, domain, bounds[0], bounds[1])

        for _, rows in ordered_map(read, ranges, concurrency=self.concurrency):
            for start in range(0, len(rows), PAGE):
                chunk = rows[start : start + PAGE]
                report(len(chunk))
                yield chunk
        newest = self._newest(model, domain)
        if newest > top:  # records created while we read; later ones did not exist throughout
            rows = self._read_range(entity_type, domain, top, newest)
            for start in range(0, len(rows), PAGE):
                report(len(rows[start : start + PAGE]))
                yield rows[start : start + PAGE]

    def _newest(self, model: str, domain: list[list[Any]]) -> int:
        """The highest id that matches `domain` (0 for none)."""
        found = self._call(model, "search", {"domain": domain, "limit": 1, "order": "id desc"})
        if not isinstance(found, list):
            raise self._bad("a search answer")
        return int(found[0]) if found else 0

    # -- reading ------------------------------------------------------------------------
    def _read_range(
        self, entity_type: str, domain: list[list[Any]], lo: int, hi: int | None
    ) -> list[Row]:
        """All records with lo < id <= hi (hi None: up to one page), with the extra keys."""
        model = MODELS[entity_type]
        rows: list[Row] = []
        after = lo
        limit = 2 * PAGE if hi is not None else PAGE  # a range is sized for ~PAGE records
        while True:
            bounds = [["id", ">", after]] + ([["id", "<=", hi]] if hi is not None else [])
            page = self._call(
                model,
                "search_read",
                {
                    "domain": domain + bounds,
                    "fields": FIELDS[entity_type],
                    "limit": limit,
                    "order": "id asc",
                },
            )
            if not isinstance(page, list) or not all(
                isinstance(r, dict) and isinstance(r.get("id"), int) for r in page
            ):
                raise self._bad("a page of records")
            rows.extend(page)
            if len(page) < limit or hi is None:
                break
            after = page[-1]["id"]
        if entity_type == "customers":
            self._add_state_codes(rows)
        elif entity_type == "orders":
            self._add_order_extras(rows)
        return rows

    def _add_state_codes(self, rows: list[Row]) -> None:
        """Add `state_code`; codes are read in one batch per page, each state once."""
        ids = _ids(r.get("state_id") for r in rows)
        with self._lock:
            missing = [i for i in ids if i not in self._state_codes]
        if missing:
            found = {
                s["id"]: s.get("code") or False
                for s in self._read("res.country.state", missing, ["code"])
            }
            with self._lock:
                self._state_codes.update(found)
        with self._lock:
            codes = dict(self._state_codes)
        for r in rows:
            r["state_code"] = codes.get(_m2o_id(r.get("state_id")) or 0, False)

    def _add_order_extras(self, rows: list[Row]) -> None:
        order_ids = [r["id"] for r in rows]
        lines: list[Row] = []
        if order_ids:
            lines = self._call(
                "sale.order.line",
                "search_read",
                {
                    "domain": [["order_id", "in", order_ids]],
                    "fields": LINE_FIELDS,
                    "order": "id asc",
                },
            )
            if not isinstance(lines, list):
                raise self._bad("the order lines")
        partner_ids = _ids(r.get("partner_id") for r in rows)
        product_ids = _ids(line.get("product_id") for line in lines)
        emails = {
            p["id"]: p.get("email") or False
            for p in self._read("res.partner", partner_ids, ["email"])
        }
        codes = {
            p["id"]: p.get("default_code") or False
            for p in self._read("product.product", product_ids, ["default_code"])
        }
        by_order: dict[int, list[Row]] = {}
        for line in lines:
            line["default_code"] = codes.get(_m2o_id(line.get("product_id")) or 0, False)
            by_order.setdefault(_m2o_id(line.get("order_id")) or 0, []).append(line)
        for r in rows:
            r["partner_email"] = emails.get(_m2o_id(r.get("partner_id")) or 0, False)
            r["lines"] = by_order.get(r["id"], [])

    def _read(self, model: str, ids: Sequence[int], fields: list[str]) -> list[Row]:
        if not ids:
            return []
        result = self._call(model, "read", {"ids": list(ids), "fields": fields})
        if not isinstance(result, list):
            raise self._bad(f"the {model} records")
        return [r for r in result if isinstance(r, dict) and "id" in r]

    # -- protocol -------------------------------------------------------------------------
    def _call(
        self, model: str, method: str, kwargs: Mapping[str, Any], probing: bool = False
    ) -> Any:
        if self.protocol == "json2":
            return self._json2(model, method, kwargs, probing)
        args: list[Any] = []
        named = dict(kwargs)
        if "ids" in named:
            args = [named.pop("ids")]
        return self._xmlrpc(
            "object",
            "execute_kw",
            (
                self.database,
                self._login(),
                self.api_key or self.password,
                model,
                method,
                args,
                named,
            ),
            probing,
        )

    def _login(self) -> int:
        with self._lock:
            if self._uid is not None:
                return self._uid
        uid = self._xmlrpc(
            "common",
            "authenticate",
            (self.database, self.username, self.api_key or self.password, {}),
            probing=True,
        )
        if not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
            raise AuthError(
                f"Odoo at {self.shown} refused the login “{self.username}” for database "
                f"“{self.database}”: check the login and the password or API key."
            )
        with self._lock:
            self._uid = uid
        return uid

    def _version(self) -> str | None:
        if self.protocol == "json2":
            try:
                result = self.http.request(
                    "GET", f"{self.root}/web/version", check=lambda r: self._check(r, True)
                )
            except (BadResponse, RemoteNotFound, AuthError):
                return None
            data = _json(result.body)
            return str(data.get("version")) if isinstance(data, dict) else None
        info = self._xmlrpc("common", "version", (), probing=True)
        return str(info.get("server_version")) if isinstance(info, dict) else None

    def _xmlrpc(
        self, service: str, method: str, params: tuple[Any, ...], probing: bool = False
    ) -> Any:
        body = xmlrpc.client.dumps(params, method, allow_none=True).encode()
        result = self.http.request(
            "POST",
            f"{self.root}/xmlrpc/2/{service}",
            headers={"Content-Type": "text/xml", "User-Agent": "SyncPreview/0.1"},
            body=body,
            check=lambda r: self._check(r, probing),
        )
        try:
            values, _ = xmlrpc.client.loads(result.body, use_datetime=False)
        except xmlrpc.client.Fault as fault:
            raise self._fault(str(fault.faultString)) from None
        except Exception:
            if probing:
                raise RemoteNotFound(
                    f"{self.shown} does not answer like an Odoo server (no XML-RPC answer): "
                    "check the address."
                ) from None
            raise self._bad("an XML-RPC answer") from None
        return values[0] if values else None

    def _json2(self, model: str, method: str, kwargs: Mapping[str, Any], probing: bool) -> Any:
        headers = {
            "Authorization": f"bearer {self.api_key}",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "SyncPreview/0.1",
        }
        if self.database:
            headers["X-Odoo-Database"] = self.database
        result = self.http.request(
            "POST",
            f"{self.root}/json/2/{model}/{method}",
            headers=headers,
            body=orjson.dumps(dict(kwargs)),
            check=lambda r: self._check(r, probing),
        )
        data = _json(result.body, missing=_MISSING)
        if data is _MISSING:
            if probing:
                raise RemoteNotFound(
                    f"{self.shown} does not answer like an Odoo JSON-2 API: check the address."
                )
            raise self._bad("a JSON-2 answer")
        return data

    def _check(self, result: HttpResult, probing: bool) -> None:
        if 200 <= result.status < 300:
            return
        body = _json(result.body)
        odoo = isinstance(body, dict) and "name" in body and "message" in body
        message = redact(str(body.get("message", ""))).splitlines()[0][:200] if odoo else ""
        if result.status in (401, 403):
            raise AuthError(
                f"Odoo at {self.shown} refused the API key"
                f"{f' (“{message}”)' if message else ''}: check it under "
                "Preferences → Account Security → API Keys."
            )
        if result.status == 404:
            if odoo and "database" in message.lower():
                raise RemoteNotFound(
                    f"Odoo at {self.shown} has no database "
                    f"“{self.database}”: check the database name."
                )
            raise RemoteNotFound(
                f"No Odoo {self._api_name()} answers at {self.shown}: check "
                "the address (and that the external API is enabled)."
            )
        if odoo:
            raise BadResponse(
                f"Odoo at {self.shown} rejected the request (HTTP {result.status}): {message}"
            )
        raise (RemoteNotFound if probing else BadResponse)(
            f"{self.shown} answered HTTP {result.status}, which is not an Odoo "
            f"{self._api_name()} answer: check the address."
        )

    def _fault(self, text: str) -> Exception:
        first = redact(text.strip().splitlines()[-1] if text.strip() else "")[:200]
        lowered = text.lower()
        if "access denied" in lowered or "accessdenied" in lowered:
            return AuthError(
                f"Odoo at {self.shown} refused the login “{self.username}”: check "
                "the password or API key."
            )
        if "does not exist" in lowered and "database" in lowered:
            return RemoteNotFound(
                f"Odoo at {self.shown} has no database “{self.database}”: check the database name."
            )
        return BadResponse(f"Odoo at {self.shown} reported an error: {first}")

    def _bad(self, what: str) -> BadResponse:
        return BadResponse(
            f"Odoo at {self.shown} sent {what} we cannot read (broken or "
            "unexpected data); try again, or ask its administrator."
        )

    def _api_name(self) -> str:
        return "JSON-2 API" if self.protocol == "json2" else "XML-RPC API"


_MISSING = object()


def _json(body: bytes, missing: Any = None) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return missing


def _ids(values: Iterable[Any]) -> list[int]:
    return sorted({i for v in values if (i := _m2o_id(v)) is not None})


def _m2o_id(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value and isinstance(value[0], int):
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _odoo_time(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S")
