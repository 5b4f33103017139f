"""WooCommerce REST API v3 client: OAuth 1.0a / basic auth, concurrent drift-safe paging.

What is read: customers of the roles chosen for the connector (``customer`` by default: not
administrators or shop managers), and, when the connector says so, guest buyers (orders
without an account, one customer per billing e-mail, after the registered ones); products
with the variations of each variable product (``/products/<id>/variations``, read by the
same workers as the pages); orders (not those in the trash, unless the connector says so).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY, Client

from core.connectors.base import HttpConnector
from core.connectors.http import HttpResult
from core.connectors.pool import ordered_map
from core.connectors.redact import redact
from core.delta.fields import check_entity
from core.errors import AuthError, BadResponse, ConfigError, RemoteNotFound
from core.sources.connector import ConnectorConfig, FetchProgress, ProgressCallback, ReadScope

log = logging.getLogger("core.connectors.woocommerce")

API_PATH = "/wp-json/wc/v3"
PER_PAGE = 100
FIELDS = {
    "customers": "id,email,first_name,last_name,billing,date_modified_gmt",
    "products": "id,sku,name,price,regular_price,sale_price,stock_quantity,status,type,"
    "date_modified_gmt",
    "orders": "id,number,status,currency,total,billing,date_created_gmt,date_modified_gmt,"
    "line_items",
}
VARIATION_FIELDS = (
    "id,sku,name,price,regular_price,sale_price,stock_quantity,status,attributes,date_modified_gmt"
)
GUEST_ORDER_FIELDS = "id,customer_id,billing,date_modified_gmt"
ORDER_STATUSES_WITH_TRASH = (
    "pending,processing,on-hold,completed,cancelled,refunded,failed,checkout-draft,trash"
)
DEFAULT_ROLE = "customer"
#: The longest external id our tables keep; longer guest ids are shortened with a digest.
MAX_ID = 64
Page = list[dict[str, Any]]
#: A parent product's variations, by the parent's id.
Variations = dict[int, Page]


class WooCommerceConnector(HttpConnector):
    """Reads customers, products and orders from a WooCommerce store's REST API v3."""

    sync_type = "woocommerce"
    system = "WooCommerce"

    def configure(self, config: ConnectorConfig) -> None:
        key = config.credentials.get("consumer_key", "")
        secret = config.credentials.get("consumer_secret", "")
        if not key or not secret:
            raise ConfigError("The WooCommerce connector needs a consumer key and secret.")
        self.api = self.root + API_PATH
        self.options = dict(config.options)
        self.roles = _roles(self.options.get("customer_roles"))
        self.guests = bool(self.options.get("include_guests"))
        self.https = self.root.lower().startswith("https://")
        self.query_keys = bool(self.options.get("query_string_auth")) and self.https
        self._auth: Any = None
        self._auth_params: dict[str, str] = {}
        self._sign: Callable[[str, str], tuple[str, dict[str, str]]] | None = None
        self._guests_read = 0
        if self.https:
            if self.query_keys:
                self._auth_params = {"consumer_key": key, "consumer_secret": secret}
            else:
                self._auth = requests.auth.HTTPBasicAuth(key, secret)
        else:
            oauth = Client(
                key,
                client_secret=secret,
                signature_method=SIGNATURE_HMAC_SHA256,
                signature_type=SIGNATURE_TYPE_QUERY,
            )

            def sign(method: str, url: str) -> tuple[str, dict[str, str]]:
                signed, _, _ = oauth.sign(url, http_method=method)
                return str(signed), {}

            self._sign = sign

    # -- the interface ------------------------------------------------------------------
    def test_connection(self) -> str:
        """Read one customer of each role read to check address and keys; say how many
        customers there are."""
        total: int | None = 0
        for role in self.roles or ("all",):
            result = self._get(
                "customers",
                {"per_page": "1", "page": "1", "role": role, "_fields": "id"},
                probing=True,
            )
            self._parse_list(result, probing=True)
            found = _int_header(result, "X-WP-Total")
            total = None if total is None or found is None else total + found
        version = self._version()
        name = f"WooCommerce {version}" if version else "WooCommerce"
        count = f"{total:,} customers" if total is not None else "customers readable"
        return f"Connected to {name} at {self.shown}: {count}."

    def read_scope(self, entity_type: str) -> ReadScope:
        """What a customers read covers: the roles, and guest buyers when asked for."""
        check_entity(entity_type)
        if entity_type != "customers":
            return ReadScope()
        roles = ", ".join(self.roles) if self.roles else "every role"
        notes = [f"WooCommerce customers read: WordPress users with the role {roles}."]
        if self.guests:
            notes.append(
                f"Guest buyers (orders without an account) are read as customers, one per "
                f"billing e-mail: {self._guests_read:,} of them."
            )
        return ReadScope(notes=tuple(notes))

    def iter_pages(
        self,
        entity_type: str,
        *,
        since: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Page]:
        """Yield the entity's records, 100 a page, fetched concurrently.

        Records come in id order; a product's variations follow the page of their product,
        and guest buyers (an opt-in) come after the registered customers.
        """
        check_entity(entity_type)
        state = _Progress(entity_type, progress)
        if entity_type != "customers":
            yield from self._pages(entity_type, self._params(entity_type, since), state, since)
            return
        params = self._params("customers", since)
        for page in self._pages("customers", params, state, since):
            if len(self.roles) > 1:
                page = [r for r in page if r.get("role") in self.roles]
            if page:
                yield page
        if self.guests:
            listed = list(self._guest_buyers(since, state).values())
            self._guests_read = len(listed)
            for start in range(0, len(listed), PER_PAGE):
                yield listed[start : start + PER_PAGE]

    # -- paging -------------------------------------------------------------------------
    def _pages(
        self,
        endpoint: str,
        params: Mapping[str, str],
        state: _Progress,
        since: datetime | None,
        count: bool = True,
    ) -> Iterator[Page]:
        """Every record of a listing in id order, 100 a page, fetched concurrently.

        Offset paging over a store that changes can skip a record (an earlier one is
        deleted) or repeat one. Pages overlap by one record; where two neighbouring pages
        do not overlap, the gap is re-read sequentially, so that every record that existed
        throughout is yielded exactly once. Products come with their variations.
        """
        cutoff = _iso(since) if since is not None and endpoint == "customers" else None
        variations = endpoint == "products"
        emit = _Emitter(self, state, cutoff, variations, count)
        first = self._fetch(endpoint, params, 0)
        total = _int_header(first[1], "X-WP-Total")
        if count:
            state.records_total = (state.records_total or 0) + (total or 0)
        page = first[0]
        stride = PER_PAGE - 1
        offsets: list[int] = []
        if total is not None and total > PER_PAGE:
            offsets = [k * stride for k in range(1, math.ceil((total - 1) / stride))]
        state.add_pages(1 + len(offsets))
        yield from emit(page, {})
        if len(page) < PER_PAGE:
            return
        last_offset = 0

        def fetch(offset: int) -> tuple[Page, Variations]:
            page = self._fetch(endpoint, params, offset)[0]
            # the first record is the previous page's last: its variations are read there
            return page, self._variations_of(page[1:]) if variations else {}

        full = True
        for offset, (page, found) in ordered_map(fetch, offsets, concurrency=self.concurrency):
            if not page or _id(page[0]) > emit.last_id:
                until = _id(page[0]) if page else None
                ended = yield from self._sequential(endpoint, params, offset, until, emit)
                if ended and not page:
                    full = False
                    break
            yield from emit(page, found)
            full = len(page) == PER_PAGE
            last_offset = offset
        if full:
            yield from self._sequential(endpoint, params, last_offset + stride, None, emit)

    def _sequential(
        self,
        endpoint: str,
        params: Mapping[str, str],
        offset: int,
        until: int | None,
        emit: _Emitter,
    ) -> Generator[Page, None, bool]:
        """Read forward from `offset` until past id `until` (or the end), closing gaps."""
        state = emit.state
        if state.refetches == 0:
            log.info("WooCommerce %s changed while being read; re-reading a gap", endpoint)
        back = 1
        budget = 50 + 4 * (state.pages_total or 1)
        while True:
            state.refetches += 1
            if state.refetches > budget:
                raise BadResponse(
                    f"WooCommerce at {self.shown} changed faster than its {endpoint} could "
                    "be read; try again later."
                )
            page = self._fetch(endpoint, params, offset)[0]
            if offset > 0 and (not page or _id(page[0]) > emit.last_id):
                offset = max(0, offset - back)
                back *= 2
                continue
            yield from emit(page, {})
            if len(page) < PER_PAGE:
                return True
            if until is not None and emit.last_id >= until:
                return False
            offset += PER_PAGE - 1
            back = 1

    def _params(self, entity_type: str, since: datetime | None) -> dict[str, str]:
        params = {
            "per_page": str(PER_PAGE),
            "orderby": "id",
            "order": "asc",
            "_fields": FIELDS[entity_type],
        }
        if entity_type == "customers":
            params["role"] = self.roles[0] if len(self.roles) == 1 else "all"
            if len(self.roles) > 1:
                params["_fields"] += ",role"
        if entity_type == "orders":
            params["status"] = (
                ORDER_STATUSES_WITH_TRASH if self.options.get("include_trash") else "any"
            )
        if since is not None and entity_type != "customers":
            params["modified_after"] = _iso(since)
            params["dates_are_gmt"] = "true"
        return params

    def _fetch(
        self, endpoint: str, params: Mapping[str, str], offset: int
    ) -> tuple[Page, HttpResult]:
        query = dict(params)
        if offset:
            query["offset"] = str(offset)
        else:
            query["page"] = "1"
        result = self._get(endpoint, query)
        return self._parse_list(result), result

    # -- variations and guests --------------------------------------------------------------
    def _variations_of(self, page: Page) -> Variations:
        """The variations of the variable products of ``page`` (read one product after
        another: the caller is one of the concurrent workers)."""
        return {_id(r): self._variations(r) for r in page if r.get("type") == "variable"}

    def variations_now(self, parents: Page) -> Variations:
        """The variations of ``parents``, read concurrently."""
        found = ordered_map(self._variations, parents, concurrency=self.concurrency)
        return {_id(parent): variations for parent, variations in found}

    def _variations(self, parent: Mapping[str, Any]) -> Page:
        """Every variation of one variable product, as a product of its own: ``parent_id``
        its product, ``type`` "variation", a name (the product's and the options) if the
        store sends none."""
        parent_id = _id(parent)
        endpoint = f"products/{parent_id}/variations"
        out: Page = []
        page_number = 1
        while True:
            params = {
                "per_page": str(PER_PAGE),
                "page": str(page_number),
                "orderby": "id",
                "order": "asc",
                "_fields": VARIATION_FIELDS,
            }
            try:
                result = self._get(endpoint, params)
            except RemoteNotFound:  # the product was deleted since its page was read
                log.info("WooCommerce product %s went away while being read", parent_id)
                return out
            records = self._parse_list(result)
            for record in records:
                record["parent_id"] = parent_id
                record["type"] = "variation"
                if not record.get("name"):
                    record["name"] = _variation_name(parent, record)
            out.extend(records)
            pages = _int_header(result, "X-WP-TotalPages")
            if len(records) < PER_PAGE or (pages is not None and page_number >= pages):
                return out
            page_number += 1

    def _guest_buyers(self, since: datetime | None, state: _Progress) -> dict[str, dict[str, Any]]:
        """One customer per billing e-mail of the orders without an account (the newest
        order's billing address), keyed by the lower-cased e-mail. A guest who also has an
        account is both, as in WooCommerce's own Customers report."""
        params = self._params("orders", since)
        params["customer"] = "0"
        params["_fields"] = GUEST_ORDER_FIELDS
        guests: dict[str, dict[str, Any]] = {}
        for page in self._pages("orders", params, state, since, count=False):
            for order in page:
                billing = order.get("billing")
                if order.get("customer_id") or not isinstance(billing, dict):
                    continue  # a store that ignores customer=0 still gives guests only
                email = _email(billing.get("email"))
                if email:
                    guests.pop(email, None)  # the newest order last
                    guests[email] = _guest(email, billing)
        return guests

    # -- HTTP -----------------------------------------------------------------------------
    def _get(self, endpoint: str, params: Mapping[str, str], probing: bool = False) -> HttpResult:
        query = {**params, **self._auth_params}
        return self.http.request(
            "GET",
            f"{self.api}/{endpoint}",
            params=query,
            headers={"Accept": "application/json", "User-Agent": "SyncPreview/0.1"},
            auth=self._auth,
            sign=self._sign,
            check=lambda r: self._check(r, probing),
        )

    def _check(self, result: HttpResult, probing: bool) -> None:
        if 200 <= result.status < 300:
            return
        self.check_redirect(result)
        body = _json_or_none(result.body)
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        message = redact(str(body.get("message", ""))) if isinstance(body, dict) else ""
        detail = f" (“{message}”)" if message else ""
        if result.status in (401, 403):
            raise AuthError(self._refusal(code, message, detail))
        if result.status == 404:
            if code == "rest_no_route":
                raise RemoteNotFound(
                    f"{self.shown} is a WordPress site but its WooCommerce REST API v3 was not "
                    "found: check that WooCommerce is active and up to date."
                )
            raise RemoteNotFound(
                f"No WooCommerce store answers at {self.shown}: check the store's address."
            )
        if isinstance(body, dict) and code:
            raise BadResponse(
                f"WooCommerce at {self.shown} rejected the request (HTTP {result.status}, "
                f"{redact(code)}){detail}."
            )
        raise (RemoteNotFound if probing else BadResponse)(
            f"{self.shown} answered HTTP {result.status}, which is not a WooCommerce REST API "
            "answer: check the store's address."
        )

    def _refusal(self, code: str, message: str, detail: str) -> str:
        """What a 401/403 means, with what else it may be than wrong keys."""
        where = "WooCommerce → Settings → Advanced → REST API"
        lowered = message.lower()
        if "signature" in lowered:
            return (
                f"WooCommerce at {self.shown} refused the request's signature{detail}. Either "
                "the consumer secret is wrong, or the store's address differs from its "
                "WordPress address (Settings → General: http or https, www or not, a "
                "sub-folder), which the signature covers: enter the address exactly as "
                f"WordPress shows it, or the store's https:// address. Check the keys under "
                f"{where}."
            )
        if "timestamp" in lowered:
            return (
                f"WooCommerce at {self.shown} refused the request's time{detail}: the clock "
                "of this server or of the store is wrong by more than 15 minutes."
            )
        if code == "woocommerce_rest_cannot_view" and self._auth is not None:
            return (
                f"WooCommerce at {self.shown} answered as if no keys were sent{detail}. Either "
                f"the consumer key is not one of the store's (check it under {where}), or a "
                "web server in front of WordPress drops the Authorization header (some Apache "
                "and CGI set-ups do): then turn on the connector's option “Send the keys in "
                "the query string”."
            )
        return (
            f"WooCommerce at {self.shown} refused the consumer key and secret{detail}. "
            f"Check them under {where}, and that the key has Read permission."
        )

    def _parse_list(self, result: HttpResult, probing: bool = False) -> Page:
        data = _json_or_none(result.body)
        if not isinstance(data, list) or not all(isinstance(r, dict) and "id" in r for r in data):
            if probing:
                raise RemoteNotFound(
                    f"{self.shown} does not answer like a WooCommerce store (no REST API "
                    "list): check the store's address."
                )
            raise BadResponse(
                f"WooCommerce at {self.shown} sent a page we cannot read (broken or unexpected "
                "JSON); try again, or ask the store's administrator to check its error log."
            )
        return data

    def _version(self) -> str | None:
        try:
            result = self._get("system_status", {"_fields": "environment"})
        except (AuthError, BadResponse, RemoteNotFound):
            return None
        data = _json_or_none(result.body)
        if isinstance(data, dict) and isinstance(data.get("environment"), dict):
            version = data["environment"].get("version")
            return str(version) if version else None
        return None


class _Emitter:
    """Yields the records of a listing that come after the last one yielded (pages overlap),
    with the variations of the variable products among them."""

    def __init__(
        self,
        connector: WooCommerceConnector,
        state: _Progress,
        cutoff: str | None,
        variations: bool,
        count: bool,
    ) -> None:
        self.connector = connector
        self.state = state
        self.cutoff = cutoff
        self.variations = variations
        self.count = count
        self.last_id = 0

    def __call__(self, page: Page, found: Variations) -> Generator[Page, None, None]:
        fresh = [r for r in page if _id(r) > self.last_id]
        if fresh:
            self.last_id = _id(fresh[-1])
        if self.cutoff is not None:
            fresh = [r for r in fresh if str(r.get("date_modified_gmt") or "") >= self.cutoff]
        if self.variations:
            parents = [r for r in fresh if r.get("type") == "variable"]
            missing = [r for r in parents if _id(r) not in found]
            if missing:
                found = {**found, **self.connector.variations_now(missing)}
            fresh = fresh + [v for r in parents for v in found[_id(r)]]
        self.state.page_done(len(fresh) if self.count else 0)
        if fresh:
            yield fresh


class _Progress:
    def __init__(self, entity_type: str, callback: ProgressCallback | None) -> None:
        self.entity_type = entity_type
        self.callback = callback
        self.pages_done = 0
        self.pages_total: int | None = None
        self.records_done = 0
        self.records_total: int | None = None
        self.refetches = 0

    def add_pages(self, pages: int) -> None:
        """A listing of ``pages`` pages starts (after those already done)."""
        self.pages_total = self.pages_done + pages

    def page_done(self, records: int) -> None:
        self.pages_done += 1
        self.records_done += records
        if self.pages_total is not None and self.pages_done > self.pages_total:
            self.pages_total = self.pages_done
        if self.callback is not None:
            self.callback(
                FetchProgress(
                    self.entity_type,
                    self.pages_done,
                    self.pages_total,
                    self.records_done,
                    self.records_total,
                )
            )


def _roles(raw: Any) -> tuple[str, ...]:
    """The WordPress roles read as customers (option ``customer_roles``); () means all."""
    text = str(raw if raw not in (None, "") else DEFAULT_ROLE)
    roles = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    if not roles:
        return (DEFAULT_ROLE,)
    if "all" in roles:
        return ()
    for role in roles:
        if not role.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(
                f"“{role}” is not a WordPress role (such as customer, subscriber); separate "
                "roles by commas."
            )
    return roles


def _email(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def _guest(email: str, billing: Mapping[str, Any]) -> dict[str, Any]:
    """A guest buyer as a customer record (id ``guest:<e-mail>``, status "guest")."""
    ident = f"guest:{email}"
    if len(ident) > MAX_ID:
        ident = "guest:" + hashlib.sha256(email.encode()).hexdigest()[:32]
    return {
        "id": ident,
        "email": email,
        "first_name": billing.get("first_name") or "",
        "last_name": billing.get("last_name") or "",
        "billing": dict(billing),
        "status": "guest",
    }


def _variation_name(parent: Mapping[str, Any], variation: Mapping[str, Any]) -> str:
    """WooCommerce's name of a variation: its product's, a dash, its options."""
    options = [
        str(a.get("option"))
        for a in variation.get("attributes") or []
        if isinstance(a, dict) and a.get("option")
    ]
    name = str(parent.get("name") or "")
    return f"{name} - {', '.join(options)}" if options else name


def _id(record: Mapping[str, Any]) -> int:
    value = record.get("id")
    if isinstance(value, int):
        return value
    raise BadResponse("WooCommerce sent a record without a numeric id; it cannot be matched.")


def _json_or_none(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _int_header(result: HttpResult, name: str) -> int | None:
    value = result.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()
