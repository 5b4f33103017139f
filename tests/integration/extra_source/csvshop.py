"""A small extra source, for tests only: "CSV Shop" serves its records as CSV over HTTP.

It is added the way docs/adding-a-source.md says, without touching any other module: a
spec (``SPEC``) with its mappings and its connector, and ``register()``. ``CsvShopServer``
is the shop itself, on a loopback port: ``GET /export/<entity>.csv?offset=&limit=`` with the
header ``X-Shop-Token``; ``X-Total`` says how many records there are.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from core import sources
from core.connectors.base import HttpConnector
from core.connectors.http import HttpResult
from core.delta.mapping import Computed, Joined, Path
from core.errors import AuthError, BadResponse
from core.sources import (
    Connector,
    ConnectorConfig,
    CredentialField,
    FetchProgress,
    ProgressCallback,
    SourceSpec,
)

PAGE = 2
COLUMNS = {
    "customers": ("id", "email", "first_name", "last_name", "phone", "city", "country"),
    "products": ("id", "sku", "title", "price", "stock"),
    "orders": ("id", "number", "state", "currency", "total", "email", "placed_at"),
}


class CsvShopConnector(HttpConnector):
    """Reads a CSV Shop's export, a page of ``PAGE`` records at a time."""

    sync_type = "csvshop"
    system = "CSV Shop"

    def configure(self, config: ConnectorConfig) -> None:
        self.token = config.credentials.get("token", "")

    def test_connection(self) -> str:
        total = self._get("customers", 0, 1).headers.get("X-Total")
        return f"Connected to CSV Shop at {self.shown}: {total} customers."

    def iter_pages(
        self,
        entity_type: str,
        *,
        since: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        offset = 0
        while True:
            result = self._get(entity_type, offset, PAGE)
            rows = list(csv.DictReader(io.StringIO(result.body.decode())))
            offset += len(rows)
            if progress is not None:
                total = int(result.headers.get("X-Total", "0"))
                progress(FetchProgress(entity_type, offset // PAGE, None, offset, total))
            if rows:
                yield rows
            if len(rows) < PAGE:
                return

    def _get(self, entity_type: str, offset: int, limit: int) -> HttpResult:
        def check(result: HttpResult) -> None:
            if result.status == 401:
                raise AuthError(f"CSV Shop at {self.shown} refused the access token.")
            if result.status != 200:
                raise BadResponse(f"CSV Shop at {self.shown} answered HTTP {result.status}.")

        return self.http.request(
            "GET",
            f"{self.root}/export/{entity_type}.csv",
            params={"offset": str(offset), "limit": str(limit)},
            headers={"X-Shop-Token": self.token},
            check=check,
        )


def _connect(config: ConnectorConfig, **limits: Any) -> Connector:
    return CsvShopConnector(config, **limits)


_NONE = Computed(lambda record: None)

SPEC = SourceSpec(
    key="csvshop",
    label="CSV Shop",
    icon="📄",
    connector=_connect,
    credentials=(CredentialField("token", "Access token"),),
    mappings={
        "customers": {
            "email": Path("email"),
            "name": Joined(Path("first_name"), Path("last_name")),
            "phone": Path("phone"),
            "company": _NONE,
            "address_1": _NONE,
            "address_2": _NONE,
            "city": Path("city"),
            "state": _NONE,
            "postcode": _NONE,
            "country": Path("country"),
            "status": _NONE,
        },
        "products": {
            "sku": Path("sku"),
            "name": Path("title"),
            "price": Path("price"),
            "regular_price": Path("price"),
            "sale_price": _NONE,
            "stock_quantity": Path("stock"),
            "status": Computed(lambda record: "publish"),
            "type": Computed(lambda record: "simple"),
            "parent_id": _NONE,
        },
        "orders": {
            "number": Path("number"),
            "status": Path("state"),
            "currency": Path("currency"),
            "total": Path("total"),
            "customer_email": Path("email"),
            "created_at": Path("placed_at"),
            "lines": Computed(lambda record: []),
        },
    },
    url_example="https://shop.example.com/csv",
)


def register() -> None:
    """Make CSV Shop a source of this process."""
    sources.register(SPEC)


class CsvShopServer:
    """The shop: its records per entity (rows of ``COLUMNS``), served on loopback."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.records: dict[str, list[dict[str, str]]] = {entity: [] for entity in COLUMNS}
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> CsvShopServer:
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                shop._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        entity = parts.path.removeprefix("/export/").removesuffix(".csv")
        query = dict(parse_qsl(parts.query))
        if request.headers.get("X-Shop-Token") != self.token:
            status, body, total = 401, b"wrong token", 0
        elif entity not in COLUMNS:
            status, body, total = 404, b"no such export", 0
        else:
            rows = self.records[entity]
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", PAGE))
            out = io.StringIO()
            writer = csv.DictWriter(out, COLUMNS[entity], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows[offset : offset + limit])
            status, body, total = 200, out.getvalue().encode(), len(rows)
        request.send_response(status)
        request.send_header("Content-Type", "text/csv")
        request.send_header("Content-Length", str(len(body)))
        request.send_header("X-Total", str(total))
        request.end_headers()
        request.wfile.write(body)
