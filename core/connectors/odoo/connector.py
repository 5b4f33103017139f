"""Odoo external API client: XML-RPC (/xmlrpc/2) or JSON-2 (/json/2).

What is read (``reads``): contacts that are customers, product variants and sale orders with
their lines, archived records included (``active_test: False``: archiving is a change of
status, not a deletion), of the companies chosen for the connector (``allowed_company_ids``)
or else of every company of the API user. Each model's fields are asked once per connection
(``fields_get``); a field an installation does not have is left out and its canonical field
is "not available" (``read_scope``).

Paging: the ids are listed first, ``ID_CHUNK`` at a time in id order (a cheap ``search``),
and cut into ranges of ``PAGE`` ids; each range is read with a keyset domain (``id > lo and
id <= hi``), the ranges concurrently, and yielded in order. Ids of real installations are
not dense (variants from 100,000,000, deleted records), so ranges are cut from the ids
themselves, never from equal widths of the id space. Records created or deleted while a
store is read cannot make another record be skipped or repeated: a range holds whatever
ids fall in it when it is read, and ids above the last one listed are read at the end.
"""

from __future__ import annotations

import math
import re
import threading
import xmlrpc.client
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import orjson

from core.connectors.base import HttpConnector
from core.connectors.http import HttpResult
from core.connectors.odoo.reads import LINE_MODEL, MODELS, EntityRead, companies_note
from core.connectors.pool import ordered_map
from core.connectors.redact import redact
from core.delta.fields import check_entity
from core.errors import AuthError, BadResponse, ConfigError, RemoteNotFound
from core.sources.connector import ConnectorConfig, FetchProgress, ProgressCallback, ReadScope

PAGE = 100
#: Ids listed per ``search`` call, then cut into ranges of PAGE.
ID_CHUNK = 10_000
Row = dict[str, Any]
#: A product's display name, "[SKU] Name", as Odoo shows a product with an internal reference.
_CODE_IN_NAME = re.compile(r"^\[([^\]]+)\] ")


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
        self.companies = _company_ids(config.options.get("companies"))
        self.context: dict[str, Any] = {"active_test": False}
        if self.companies:
            self.context["allowed_company_ids"] = list(self.companies)
        self._uid: int | None = None
        self._state_codes: dict[int, Any] = {}
        self._fields: dict[str, frozenset[str]] = {}
        self._companies_seen: dict[str, dict[int, str]] = {}
        self._no_company: set[str] = set()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    # -- the interface ------------------------------------------------------------------
    def test_connection(self) -> str:
        """Check address, database and credentials; say how many customers there are."""
        version = self._version()
        read = self._entity("customers", probing=True)
        count = self._call(
            "res.partner", "search_count", {"domain": list(read.domain)}, probing=True
        )
        name = f"Odoo {version}" if version else "Odoo"
        where = f" (database {self.database})" if self.database else ""
        return f"Connected to {name} at {self.shown}{where}: {int(count):,} customers."

    def read_scope(self, entity_type: str) -> ReadScope:
        """The fields this Odoo does not have (asked once per connection) and what the reads
        so far met: companies, lines left out, values read another way."""
        read = self._entity(entity_type)
        notes = list(read.notes)
        with self._lock:
            seen = dict(self._companies_seen.get(entity_type, {}))
            shared = entity_type in self._no_company
            counts = dict(self._counts)
        company = companies_note(seen, shared, self.companies, entity_type)
        if company is not None:
            notes.append(company)
        if entity_type == "orders":
            notes.extend(_order_notes(counts))
        return ReadScope(read.not_available, tuple(notes))

    def iter_pages(
        self,
        entity_type: str,
        *,
        since: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[list[Row]]:
        """Yield the entity's records (archived ones too) in id order, ranges read
        concurrently."""
        read = self._entity(entity_type)
        domain = list(read.domain)
        if since is not None:
            domain.append(["write_date", ">", _odoo_time(since)])
        # Counting (for progress) and listing the ids run beside the reads, on threads of
        # their own: one listing call per ID_CHUNK ids never holds the reads up.
        with ThreadPoolExecutor(2, thread_name_prefix="odoo-ids") as lister:
            counting = lister.submit(self._call, read.model, "search_count", {"domain": domain})

            def ranges() -> Iterator[tuple[int, int | None]]:
                after = 0
                coming = lister.submit(self._ids_after, read.model, domain, after)
                while True:
                    ids = coming.result()
                    if len(ids) == ID_CHUNK:
                        coming = lister.submit(self._ids_after, read.model, domain, ids[-1])
                    for start in range(0, len(ids), PAGE):
                        end = ids[min(start + PAGE, len(ids)) - 1]
                        yield (ids[start - 1] if start else after), end
                    if ids:
                        after = ids[-1]
                    if len(ids) < ID_CHUNK:
                        # records created while we read: later ones did not exist throughout
                        yield after, None
                        return

            def read_range(bounds: tuple[int, int | None]) -> list[Row]:
                return self._read_range(read, domain, bounds[0], bounds[1])

            progress_of = _Progress(entity_type, progress)
            for _, rows in ordered_map(read_range, ranges(), concurrency=self.concurrency):
                if progress_of.total is None:
                    progress_of.total = int(counting.result())
                for start in range(0, len(rows), PAGE):
                    chunk = rows[start : start + PAGE]
                    progress_of.page_done(len(chunk))
                    yield chunk

    # -- what this Odoo has -----------------------------------------------------------------
    def _entity(self, entity_type: str, probing: bool = False) -> EntityRead:
        check_entity(entity_type)
        have = self._fields_of(MODELS[entity_type], probing)
        line_have = self._fields_of(LINE_MODEL, probing) if entity_type == "orders" else None
        return EntityRead.of(entity_type, have, line_have or frozenset())

    def _fields_of(self, model: str, probing: bool = False) -> frozenset[str]:
        """The field names of ``model`` (``fields_get``, once per connection)."""
        with self._lock:
            known = self._fields.get(model)
        if known is not None:
            return known
        described = self._call(model, "fields_get", {"attributes": ["type"]}, probing=probing)
        if not isinstance(described, dict):
            raise self._bad(f"the fields of {model}")
        names = frozenset(str(name) for name in described)
        with self._lock:
            self._fields[model] = names
        return names

    # -- reading ------------------------------------------------------------------------
    def _ids_after(self, model: str, domain: list[Any], after: int) -> list[int]:
        """Up to ID_CHUNK ids above ``after`` that match ``domain``, in id order."""
        found = self._call(
            model,
            "search",
            {"domain": domain + [["id", ">", after]], "limit": ID_CHUNK, "order": "id asc"},
        )
        if not isinstance(found, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in found
        ):
            raise self._bad("a search answer")
        return found

    def _read_range(
        self, read: EntityRead, domain: list[Any], lo: int, hi: int | None
    ) -> list[Row]:
        """All records with lo < id <= hi (hi None: every id above lo), with the extra keys."""
        rows: list[Row] = []
        after = lo
        limit = 2 * PAGE  # a range holds ~PAGE records, more when records were added since
        while True:
            bounds = [["id", ">", after]] + ([["id", "<=", hi]] if hi is not None else [])
            page = self._call(
                read.model,
                "search_read",
                {
                    "domain": domain + bounds,
                    "fields": list(read.fields),
                    "limit": limit,
                    "order": "id asc",
                },
            )
            if not isinstance(page, list) or not all(
                isinstance(r, dict) and isinstance(r.get("id"), int) for r in page
            ):
                raise self._bad("a page of records")
            rows.extend(page)
            if len(page) < limit:
                break
            after = page[-1]["id"]
        self._note_companies(read.entity_type, rows)
        if read.entity_type == "customers":
            self._add_state_codes(rows)
        elif read.entity_type == "orders":
            self._add_order_extras(read, rows)
        return rows

    def _note_companies(self, entity_type: str, rows: list[Row]) -> None:
        seen: dict[int, str] = {}
        shared = False
        for r in rows:
            company = r.get("company_id")
            if isinstance(company, list | tuple) and len(company) == 2:
                seen[int(company[0])] = str(company[1])
            elif company is False:
                shared = True
        with self._lock:
            self._companies_seen.setdefault(entity_type, {}).update(seen)
            if shared:
                self._no_company.add(entity_type)

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

    def _add_order_extras(self, read: EntityRead, rows: list[Row]) -> None:
        """Add ``partner_email`` and ``lines`` (the order's product and delivery lines, with
        ``default_code``); section and note lines (``display_type``) are left out."""
        order_ids = [r["id"] for r in rows]
        lines: list[Row] = []
        if order_ids:
            lines = self._call(
                LINE_MODEL,
                "search_read",
                {
                    "domain": [["order_id", "in", order_ids]],
                    "fields": list(read.line_fields),
                    "order": "id asc",
                },
            )
            if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
                raise self._bad("the order lines")
        texts = [line for line in lines if line.get("display_type")]
        lines = [line for line in lines if not line.get("display_type")]
        partner_ids = _ids(r.get("partner_id") for r in rows)
        product_ids = _ids(line.get("product_id") for line in lines)
        # search_read, not read: a record of a company not read is left out, not an AccessError
        emails = {
            p["id"]: p.get("email") or False
            for p in self._search_by_ids("res.partner", partner_ids, ["email"])
        }
        codes = {
            p["id"]: p.get("default_code") or False
            for p in self._search_by_ids("product.product", product_ids, ["default_code"])
        }
        by_order: dict[int, list[Row]] = {}
        from_names = unreadable = 0
        for line in lines:
            product = _m2o_id(line.get("product_id"))
            if product is not None and product not in codes:
                code = _code_in_name(line.get("product_id"))
                from_names += 1
            else:
                code = codes.get(product or 0, False)
            line["default_code"] = code
            by_order.setdefault(_m2o_id(line.get("order_id")) or 0, []).append(line)
        for r in rows:
            partner = _m2o_id(r.get("partner_id"))
            if partner is not None and partner not in emails:
                unreadable += 1
            r["partner_email"] = emails.get(partner or 0, False)
            r["lines"] = by_order.get(r["id"], [])
        with self._lock:
            self._counts["text_lines"] += len(texts)
            self._counts["sku_from_name"] += from_names
            self._counts["partner_unreadable"] += unreadable

    def _search_by_ids(self, model: str, ids: Sequence[int], fields: list[str]) -> list[Row]:
        """The records of ``ids`` this connector may see (others are left out, never an
        access error), archived ones included."""
        if not ids:
            return []
        result = self._call(
            model, "search_read", {"domain": [["id", "in", list(ids)]], "fields": fields}
        )
        if not isinstance(result, list):
            raise self._bad(f"the {model} records")
        return [r for r in result if isinstance(r, dict) and "id" in r]

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
        named = {**kwargs, "context": self.context}
        if self.protocol == "json2":
            return self._json2(model, method, named, probing)
        args: list[Any] = []
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
            raise self._fault(fault.faultCode, str(fault.faultString)) from None
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
            final=_application_error,
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
        self.check_redirect(result)
        body = _json(result.body)
        odoo = isinstance(body, dict) and "name" in body and "message" in body
        message = _first_line(str(body.get("message", ""))) if odoo else ""
        if result.status == 401:
            raise AuthError(
                f"Odoo at {self.shown} refused the API key"
                f"{f' (“{message}”)' if message else ''}: check it under "
                "Preferences → Account Security → API Keys."
            )
        if result.status == 403:
            raise self._access_error(message)
        if result.status == 404:
            lowered = message.lower()
            if odoo and "database" in lowered:
                raise RemoteNotFound(
                    f"Odoo at {self.shown} has no database "
                    f"“{self.database}”: check the database name."
                )
            if odoo and "model" in lowered and "does not exist" in lowered:
                raise RemoteNotFound(f"Odoo at {self.shown} says {message}: {_APP_HINT}")
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

    def _fault(self, code: Any, text: str) -> Exception:
        first = _first_line(text.strip().splitlines()[-1] if text.strip() else "")
        lowered = text.lower()
        if code == 3 or "access denied" in lowered or "accessdenied" in lowered:
            return AuthError(
                f"Odoo at {self.shown} refused the login “{self.username}”: check "
                "the password or API key."
            )
        if "does not exist" in lowered and "database" in lowered:
            return RemoteNotFound(
                f"Odoo at {self.shown} has no database “{self.database}”: check the database name."
            )
        if code == 4:
            return self._access_error(first)
        if code == 2 and "doesn't exist" in lowered and lowered.startswith("object "):
            return RemoteNotFound(f"Odoo at {self.shown} says “{first}”: {_APP_HINT}")
        return BadResponse(f"Odoo at {self.shown} reported an error: {first}")

    def _access_error(self, message: str) -> AuthError:
        if "compan" in message.lower() and self.companies:
            chosen = ", ".join(str(c) for c in self.companies)
            return AuthError(
                f"Odoo at {self.shown} refused the companies chosen for this connector "
                f"({chosen}): the API user can read only the companies it belongs to. "
                "Change the connector's companies, or leave them empty for all of the user's."
            )
        said = f" (“{message}”)" if message else ""
        return AuthError(
            f"Odoo at {self.shown} refused access{said}: check the API user's access rights."
        )

    def _bad(self, what: str) -> BadResponse:
        return BadResponse(
            f"Odoo at {self.shown} sent {what} we cannot read (broken or "
            "unexpected data); try again, or ask its administrator."
        )

    def _api_name(self) -> str:
        return "JSON-2 API" if self.protocol == "json2" else "XML-RPC API"


class _Progress:
    """Pages and records read so far, against the count (known once its call answered)."""

    def __init__(self, entity_type: str, callback: ProgressCallback | None) -> None:
        self.entity_type = entity_type
        self.callback = callback
        self.total: int | None = None
        self.pages_done = self.records_done = 0

    def page_done(self, rows: int) -> None:
        self.pages_done += 1
        self.records_done += rows
        if self.callback is None:
            return
        pages_total = math.ceil(self.total / PAGE) if self.total else 0
        self.callback(
            FetchProgress(
                self.entity_type,
                self.pages_done,
                max(pages_total, self.pages_done),
                self.records_done,
                self.total,
            )
        )


_MISSING = object()
_APP_HINT = "the app that adds it (Sales for orders) may not be installed."


def _application_error(result: HttpResult) -> bool:
    """A JSON-2 5xx that carries an Odoo exception (a ValueError of the ORM): retrying gives
    the same answer, so it is not retried and its message is shown. Werkzeug's own errors
    (a server in trouble) are retried."""
    body = _json(result.body)
    return (
        isinstance(body, dict)
        and isinstance(body.get("name"), str)
        and "message" in body
        and not body["name"].startswith("werkzeug.")
    )


def _first_line(text: str) -> str:
    lines = redact(text).strip().splitlines()
    return lines[0][:300] if lines else ""


def _order_notes(counts: Mapping[str, int]) -> list[str]:
    notes = []
    if counts.get("text_lines"):
        notes.append(
            f"{counts['text_lines']:,} section and note lines are not order lines and were "
            "left out."
        )
    if counts.get("sku_from_name"):
        notes.append(
            f"The SKUs of {counts['sku_from_name']:,} order lines were read from the product's "
            "name: the product belongs to a company not read."
        )
    if counts.get("partner_unreadable"):
        notes.append(
            f"The customer e-mails of {counts['partner_unreadable']:,} orders are not "
            "available: the customer belongs to a company not read."
        )
    return notes


def _company_ids(raw: Any) -> tuple[int, ...]:
    """The companies option ("1, 3") as ids; empty: every company of the API user."""
    if raw is None or raw == "" or raw == []:
        return ()
    parts = raw if isinstance(raw, list | tuple) else str(raw).replace(";", ",").split(",")
    ids: list[int] = []
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        if not text.isdigit() or int(text) <= 0:
            raise ConfigError(
                "The Odoo companies must be company ids separated by commas (such as 1, 3), "
                f"not “{raw}”."
            )
        ids.append(int(text))
    return tuple(dict.fromkeys(ids))


def _code_in_name(value: Any) -> Any:
    """The SKU in a product's display name ("[E-COM11] Cabinet" -> "E-COM11"), or False."""
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[1], str):
        found = _CODE_IN_NAME.match(value[1])
        if found:
            return found.group(1)
    return False


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
