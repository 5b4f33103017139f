"""The sandbox HTTP server: WooCommerce and Odoo on one loopback port, with fault knobs.

Plain HTTP by default. ``tls=True`` serves HTTPS with a self-signed certificate made at start
(``server.ca_file`` is its PEM, for ``verify=``); ``redirect_http=True`` (with ``tls``) adds a
plain-HTTP listener at ``server.http_url`` that answers every request with a 301 to the
HTTPS address, as a store that forces HTTPS does.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from core.sandbox import tls as tls_files
from core.sandbox.faults import Faults
from core.sandbox.odoo_rpc import OdooHandler
from core.sandbox.profile import Profile
from core.sandbox.store import Store
from core.sandbox.wire import Request, Response, html_not_found, json_response
from core.sandbox.woo import WooHandler
from core.sandbox.woo_auth import error

API_PREFIXES = (
    "/wp-json",
    "/xmlrpc/",
    "/jsonrpc",
    "/json/",
    "/web/",
    "/doc-bearer/",
)


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
    """A loopback WooCommerce REST v3 + Odoo (XML-RPC, JSON-RPC, JSON-2) server."""

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
        *,
        real_world: bool = False,
        tls: bool = False,
        redirect_http: bool = False,
        profile: Profile | None = None,
    ) -> None:
        self.store = Store(size, seed, real_world=real_world)
        self.faults = Faults()
        self.profile = profile or Profile()
        self.stats = Stats()
        self.host, self.port = host, port
        self.tls = tls
        self.redirect_http = redirect_http and tls
        self.http_port = 0
        self.woo_key, self.woo_secret = woo_key, woo_secret
        self.odoo_db, self.odoo_user = odoo_db, odoo_user
        self.odoo_password, self.odoo_api_key = odoo_password, odoo_api_key
        self.ca_file: Path | None = None
        self._woo = WooHandler(self)
        self._odoo = OdooHandler(self)
        self._servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []
        self._tls_dir: Path | None = None
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8123 (https:// when serving TLS)."""
        return f"{'https' if self.tls else 'http'}://{self._netloc(self.port)}"

    @property
    def http_url(self) -> str | None:
        """The plain-HTTP address that redirects to HTTPS (None without ``redirect_http``)."""
        return f"http://{self._netloc(self.http_port)}" if self.redirect_http else None

    def _netloc(self, port: int) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{port}"

    def start(self) -> SandboxServer:
        """Serve in background threads; return self."""
        sandbox = self

        class Handler(_Handler):
            server_ref = sandbox

        httpd = _server(self.host, self.port, Handler)
        self.port = httpd.server_address[1]
        if self.tls:
            self._tls_dir = Path(tempfile.mkdtemp(prefix="sandbox-tls-"))
            cert, key = tls_files.write_self_signed(self._tls_dir, self.host)
            self.ca_file = cert
            context = tls_files.server_context(cert, key)
            httpd.socket = context.wrap_socket(
                httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self.stopping.clear()
        self._serve(httpd, "sandbox")
        if self.redirect_http:

            class Redirect(_Redirect):
                server_ref = sandbox

            plain = _server(self.host, self.http_port, Redirect)
            self.http_port = plain.server_address[1]
            self._serve(plain, "sandbox-redirect")
        return self

    def _serve(self, httpd: ThreadingHTTPServer, name: str) -> None:
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
        )
        thread.start()
        self._servers.append((httpd, thread))

    def stop(self) -> None:
        """Stop serving (trickling answers are cut) and close the sockets."""
        self.stopping.set()
        for httpd, _ in self._servers:
            httpd.shutdown()
            httpd.server_close()
        for _, thread in self._servers:
            thread.join(timeout=5)
        self._servers.clear()
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None

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
        handler = self._woo.handle if path.startswith("/wp-json") else self._odoo.handle
        response = handler(req)
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
        headers = {k.lower(): v for k, v in self.headers.items()}
        if sandbox.profile.woo_drops_authorization and parts.path.startswith("/wp-json"):
            headers.pop("authorization", None)
        req = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
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
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
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


class _Redirect(BaseHTTPRequestHandler):
    """The plain-HTTP listener of a store that forces HTTPS: 301 to the same path."""

    protocol_version = "HTTP/1.1"
    server_version = "SandboxStore/1.0"
    server_ref: SandboxServer

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._redirect()

    def do_POST(self) -> None:  # noqa: N802
        self._redirect()

    def do_HEAD(self) -> None:  # noqa: N802
        self._redirect()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def _redirect(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        target = f"{self.server_ref.url}{self.path}"
        body = f'<a href="{target}">Moved Permanently</a>'.encode()
        self.send_response(301)
        self.send_header("Location", target)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _server(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client that drops the connection or fails the TLS handshake is not an error
            # of the sandbox; anything else is reported as the standard library does.
            import sys

            if not isinstance(sys.exc_info()[1], ssl.SSLError | ConnectionError):
                super().handle_error(request, client_address)

    return Server((host, port), handler)
