"""The sandbox HTTP server: WooCommerce and Odoo on one loopback port, with fault knobs."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from core.sandbox.faults import Faults
from core.sandbox.odoo import OdooHandler
from core.sandbox.store import Store
from core.sandbox.wire import Request, Response, html_not_found, json_response
from core.sandbox.woo import WooHandler, error

API_PREFIXES = ("/wp-json", "/xmlrpc/", "/json/2/", "/web/version")


class Stats:
    """Request counters the tests read (requests served, most at once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.paths: list[str] = []

    def enter(self, target: str) -> None:
        """Count a request that starts."""
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if len(self.paths) < 100_000:
                self.paths.append(target)

    def leave(self) -> None:
        """Count a request that ended."""
        with self.lock:
            self.in_flight -= 1

    def reset(self) -> None:
        """Forget the counts so far."""
        with self.lock:
            self.requests = 0
            self.max_in_flight = self.in_flight
            self.paths.clear()


class SandboxServer:
    """A loopback WooCommerce REST v3 + Odoo XML-RPC/JSON-2 server over a seeded store."""

    def __init__(
        self,
        size: int = 1000,
        seed: int = 42,
        host: str = "127.0.0.1",
        port: int = 0,
        woo_key: str = "ck_sandbox",
        woo_secret: str = "cs_sandbox",
        odoo_db: str = "sandbox",
        odoo_user: str = "admin",
        odoo_password: str = "admin",
        odoo_api_key: str = "sandbox-key",
    ) -> None:
        self.store = Store(size, seed)
        self.faults = Faults()
        self.stats = Stats()
        self.host, self.port = host, port
        self.woo_key, self.woo_secret = woo_key, woo_secret
        self.odoo_db, self.odoo_user = odoo_db, odoo_user
        self.odoo_password, self.odoo_api_key = odoo_password, odoo_api_key
        self._woo = WooHandler(self)
        self._odoo = OdooHandler(self)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8123."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> SandboxServer:
        """Serve in a background thread; return self."""
        sandbox = self

        class Handler(_Handler):
            server_ref = sandbox

        httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (trickling answers are cut) and close the socket."""
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self.start()
        try:
            while not self.stopping.wait(0.5):
                pass
        finally:
            self.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- dispatch -------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        """Answer one request, faults included (except trickling, done while sending).

        An API answer takes `latency_ms` in all, its own work included, as a store that
        answers in that time (so the sandbox's CPU does not add to a benchmark's bound).
        """
        if not req.path.startswith(API_PREFIXES):
            return html_not_found()
        started = time.monotonic()
        response = self._answer(req)
        wait = self.faults.latency_ms / 1000 - (time.monotonic() - started)
        if wait > 0:
            time.sleep(wait)
        return response

    def _answer(self, req: Request) -> Response:
        path = req.path
        faults = self.faults
        if faults.fires("429", faults.rate_429):
            response = self._fault_response(path, 429)
            response.headers["Retry-After"] = f"{faults.retry_after:g}"
            return response
        if faults.fires("500", faults.rate_500):
            return self._fault_response(path, 500)
        if path.startswith("/wp-json"):
            response = self._woo.handle(req)
        elif path.startswith("/xmlrpc/"):
            response = self._odoo.handle_xmlrpc(req)
        elif path.startswith("/json/2/"):
            response = self._odoo.handle_json2(req)
        else:
            response = self._odoo.version()
        if response.page is not None and response.page == faults.malformed_page:
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response

    def _fault_response(self, path: str, status: int) -> Response:
        if path.startswith("/wp-json"):
            if status == 429:
                return error(
                    429,
                    "woocommerce_rest_too_many_requests",
                    "Too many requests. Please wait and try again.",
                )
            return error(
                500,
                "internal_server_error",
                "<p>There has been a critical error on this website.</p>",
            )
        name = "TooManyRequests" if status == 429 else "InternalServerError"
        return json_response(
            status,
            {
                "name": f"werkzeug.exceptions.{name}",
                "message": f"{status} {name}",
                "arguments": [],
                "context": {},
                "debug": "",
            },
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server_version = "SandboxStore/1.0"
    server_ref: SandboxServer

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def _serve(self) -> None:
        sandbox = self.server_ref
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            host=self.headers.get("Host") or f"{sandbox.host}:{sandbox.port}",
        )
        sandbox.stats.enter(self.path)
        try:
            try:
                response = sandbox.dispatch(req)
            except Exception:
                response = Response(500, b"Internal Server Error", content_type="text/plain")
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            rate = sandbox.faults.trickle
            if rate > 0 and parts.path.startswith(API_PREFIXES):
                self._trickle(response.body, rate)
            else:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            sandbox.stats.leave()

    def _trickle(self, body: bytes, rate: float) -> None:
        pause = 1.0 / rate
        for i in range(len(body)):
            if self.server_ref.stopping.is_set():
                self.close_connection = True
                return
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            time.sleep(pause)
