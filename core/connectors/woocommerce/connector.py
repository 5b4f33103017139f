"""WooCommerce REST API v3 client: OAuth 1.0a / basic auth, concurrent drift-safe paging."""

from __future__ import annotations

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
from core.sources.connector import ConnectorConfig, FetchProgress, ProgressCallback

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
ORDER_STATUSES_WITH_TRASH = (
    "pending,processing,on-hold,completed,cancelled,refunded,failed,checkout-draft,trash"
)
Page = list[dict[str, Any]]


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
        self._auth: Any = None
        self._auth_params: dict[str, str] = {}
        self._sign: Callable[[str, str], tuple[str, dict[str, str]]] | None = None
        if self.root.lower().startswith("https://"):
            if self.options.get("query_string_auth"):
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
        """Read one customer to check address and keys; say how many customers there are."""
        result = self._get(
            "customers",
            {"per_page": "1", "page": "1", "role": "all", "_fields": "id"},
            probing=True,
        )
        self._parse_list(result, probing=True)
        total = _int_header(result, "X-WP-Total")
        version = self._version()
        name = f"WooCommerce {version}" if version else "WooCommerce"
        count = f"{total:,} customers" if total is not None else "customers readable"
        return f"Connected to {name} at {self.shown}: {count}."

    def iter_pages(
        self,
        entity_type: str,
        *,
        since: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Page]:
        """Yield the entity's records in id order, 100 a page, fetched concurrently.

        Offset paging over a store that changes can skip a record (an earlier one is
        deleted) or repeat one. Pages overlap by one record; where two neighbouring pages
        do not overlap, the gap is re-read sequentially, so that every record that existed
        throughout is yielded exactly once.
        """
        check_entity(entity_type)
        params = self._params(entity_type, since)
        cutoff = _iso(since) if since is not None and entity_type == "customers" else None
        state = _Progress(entity_type, progress)

        first = self._fetch(entity_type, params, 0)
        total = _int_header(first[1], "X-WP-Total")
        state.records_total = total
        page = first[0]
        last_id = 0
        stride = PER_PAGE - 1
        offsets: list[int] = []
        if total is not None and total > PER_PAGE:
            offsets = [k * stride for k in range(1, math.ceil((total - 1) / stride))]
        state.pages_total = 1 + len(offsets)
        last_id = yield from self._emit(page, last_id, cutoff, state)
        if len(page) < PER_PAGE:
            return
        last_offset = 0

        def fetch(offset: int) -> Page:
            return self._fetch(entity_type, params, offset)[0]

        full = True
        for offset, page in ordered_map(fetch, offsets, concurrency=self.concurrency):
            if not page or _id(page[0]) > last_id:
                until = _id(page[0]) if page else None
                last_id, ended = yield from self._sequential(
                    entity_type, params, last_id, offset, until, cutoff, state
                )
                if ended and not page:
                    full = False
                    break
            last_id = yield from self._emit(page, last_id, cutoff, state)
            full = len(page) == PER_PAGE
            last_offset = offset
        if full:
            yield from self._sequential(
                entity_type, params, last_id, last_offset + stride, None, cutoff, state
            )

    # -- paging -------------------------------------------------------------------------
    def _sequential(
        self,
        entity_type: str,
        params: Mapping[str, str],
        after: int,
        offset: int,
        until: int | None,
        cutoff: str | None,
        state: _Progress,
    ) -> Generator[Page, None, tuple[int, bool]]:
        """Read forward from `offset` until past id `until` (or the end), closing gaps."""
        if state.refetches == 0:
            log.info("WooCommerce %s changed while being read; re-reading a gap", entity_type)
        back = 1
        budget = 50 + 4 * (state.pages_total or 1)
        while True:
            state.refetches += 1
            if state.refetches > budget:
                raise BadResponse(
                    f"WooCommerce at {self.shown} changed faster than its {entity_type} could "
                    "be read; try again later."
                )
            page = self._fetch(entity_type, params, offset)[0]
            if offset > 0 and (not page or _id(page[0]) > after):
                offset = max(0, offset - back)
                back *= 2
                continue
            after = yield from self._emit(page, after, cutoff, state)
            if len(page) < PER_PAGE:
                return after, True
            if until is not None and after >= until:
                return after, False
            offset += PER_PAGE - 1
            back = 1

    def _emit(
        self, page: Page, last_id: int, cutoff: str | None, state: _Progress
    ) -> Generator[Page, None, int]:
        fresh = [r for r in page if _id(r) > last_id]
        if fresh:
            last_id = _id(fresh[-1])
        if cutoff is not None:
            fresh = [r for r in fresh if str(r.get("date_modified_gmt") or "") >= cutoff]
        state.page_done(len(fresh))
        if fresh:
            yield fresh
        return last_id

    def _params(self, entity_type: str, since: datetime | None) -> dict[str, str]:
        params = {
            "per_page": str(PER_PAGE),
            "orderby": "id",
            "order": "asc",
            "_fields": FIELDS[entity_type],
        }
        if entity_type == "customers":
            params["role"] = "all"
        if entity_type == "orders":
            params["status"] = (
                ORDER_STATUSES_WITH_TRASH if self.options.get("include_trash") else "any"
            )
        if since is not None and entity_type != "customers":
            params["modified_after"] = _iso(since)
            params["dates_are_gmt"] = "true"
        return params

    def _fetch(
        self, entity_type: str, params: Mapping[str, str], offset: int
    ) -> tuple[Page, HttpResult]:
        query = dict(params)
        if offset:
            query["offset"] = str(offset)
        else:
            query["page"] = "1"
        result = self._get(entity_type, query)
        return self._parse_list(result), result

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
        body = _json_or_none(result.body)
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        message = redact(str(body.get("message", ""))) if isinstance(body, dict) else ""
        detail = f" (“{message}”)" if message else ""
        if result.status in (401, 403):
            raise AuthError(
                f"WooCommerce at {self.shown} refused the consumer key and secret{detail}. "
                "Check them under WooCommerce → Settings → Advanced → REST API, and that the "
                "key has Read permission."
            )
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


class _Progress:
    def __init__(self, entity_type: str, callback: ProgressCallback | None) -> None:
        self.entity_type = entity_type
        self.callback = callback
        self.pages_done = 0
        self.pages_total: int | None = None
        self.records_done = 0
        self.records_total: int | None = None
        self.refetches = 0

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
