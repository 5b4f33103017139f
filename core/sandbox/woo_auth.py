"""WooCommerce REST API authentication, as WooCommerce does it (core/sandbox/README.md).

- Over HTTPS (``is_ssl()``) only: the consumer key and secret as the ``consumer_key`` and
  ``consumer_secret`` query parameters, or else as HTTP Basic credentials. An unknown key
  authenticates nobody (no error of its own); a wrong secret is "Consumer secret is invalid.".
- Then, over HTTP or HTTPS: OAuth 1.0a "one-legged" (HMAC-SHA1 or HMAC-SHA256), parameters in
  the query string or an ``Authorization: OAuth`` header. The signature base string uses the
  site's home URL (Settings → General), not the Host the request was sent to, and the scheme
  of the connection. Timestamps must be within 15 minutes and nonces are single-use.
- A request that authenticated nobody is not refused here: the endpoint's permission check
  answers 401 ``woocommerce_rest_cannot_view`` later, after parameter validation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from core.sandbox.wire import Request, Response, json_response

OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
WINDOW_SECONDS = 15 * 60


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    """WordPress REST error body: {"code", "message", "data": {"status"}}."""
    return json_response(
        status, {"code": code, "message": message, "data": {"status": status, **extra}}
    )


def auth_error(message: str, code: str = "woocommerce_rest_authentication_error") -> Response:
    """A 401 authentication error of WooCommerce."""
    return error(401, code, message)


@dataclass
class Outcome:
    """Who the request authenticated as (None: nobody) and the error to answer, if any."""

    user: str | None = None
    error: Response | None = None


class WooAuth:
    """Checks one WooCommerce consumer key/secret pair; remembers OAuth nonces."""

    def __init__(self, key: str, secret: str) -> None:
        self.key, self.secret = key, secret
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    def authenticate(self, req: Request, home_url: str, https: bool) -> Outcome:
        """Run WooCommerce's authentication for one request."""
        outcome = Outcome()
        if https:
            self._basic(req, outcome)
            if outcome.user is not None:
                return outcome
        self._oauth(req, home_url, https, outcome)
        return outcome

    # -- Basic (HTTPS only) -------------------------------------------------------------
    def _basic(self, req: Request, outcome: Outcome) -> None:
        key = secret = ""
        query = req.query
        if query.get("consumer_key") and query.get("consumer_secret"):
            key, secret = query["consumer_key"], query["consumer_secret"]
        if not key:
            user, password = _basic_credentials(req.headers.get("authorization", ""))
            if user and password:
                key, secret = user, password
        if not key or not secret:
            return
        if not hmac.compare_digest(key, self.key):
            return  # an unknown key: nobody, and no error of its own
        if not hmac.compare_digest(secret, self.secret):
            outcome.error = auth_error("Consumer secret is invalid.")
            return
        outcome.user = key

    # -- OAuth 1.0a ---------------------------------------------------------------------
    def _oauth(self, req: Request, home_url: str, https: bool, outcome: Outcome) -> None:
        params = dict(req.query)
        params.update(_oauth_header(req.headers.get("authorization", "")))
        present = [name for name in OAUTH_PARAMS if params.get(name)]
        if not present:
            return  # not trying OAuth at all
        missing = [name for name in OAUTH_PARAMS if not params.get(name)]
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            outcome.error = auth_error(
                f"Missing OAuth {noun} {', '.join(missing)}",
                "woocommerce_rest_authentication_missing_parameter",
            )
            return
        outcome.user = None
        if not hmac.compare_digest(params["oauth_consumer_key"], self.key):
            outcome.error = auth_error("Consumer key is invalid.")
            return
        problem = self._signature_problem(req, params, home_url, https)
        if problem is None:
            problem = self._replay_problem(params["oauth_timestamp"], params["oauth_nonce"])
        if problem is not None:
            outcome.error = auth_error(problem)
            return
        outcome.user = self.key

    def _signature_problem(
        self, req: Request, params: Mapping[str, str], home_url: str, https: bool
    ) -> str | None:
        method = params["oauth_signature_method"]
        given = unquote(params["oauth_signature"].replace(" ", "+"))
        signed = {k: v for k, v in params.items() if k != "oauth_signature"}
        home = urlsplit(home_url)
        base_path = (home.path or "").rstrip("/") + "/"
        path = req.path
        if path.startswith(base_path):
            path = path[len(base_path) :]
        scheme = "https" if https else "http"
        base_uri = f"{scheme}://{home.netloc}{base_path}{path.lstrip('/')}"
        pairs = [_rfc3986(f"{_rfc3986(k)}={_rfc3986(signed[k])}") for k in sorted(signed)]
        to_sign = f"{req.method}&{_rfc3986(base_uri)}&{'%26'.join(pairs)}"
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return "Invalid signature - signature method is invalid."
        digest = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
        expected = base64.b64encode(
            hmac.new(f"{self.secret}&".encode(), to_sign.encode(), digest).digest()
        ).decode()
        if not hmac.compare_digest(expected, given):
            return "Invalid signature - provided signature does not match."
        return None

    def _replay_problem(self, timestamp: str, nonce: str) -> str | None:
        try:
            stamp = int(timestamp)
        except ValueError:
            stamp = 0
        now = time.time()
        if not now - WINDOW_SECONDS <= stamp <= now + WINDOW_SECONDS:
            return "Invalid timestamp."
        with self._lock:
            if nonce in self._nonces:
                return "Invalid nonce - nonce has already been used."
            if len(self._nonces) > 200_000:
                cutoff = now - WINDOW_SECONDS
                self._nonces = {k: t for k, t in self._nonces.items() if t >= cutoff}
            self._nonces[nonce] = now
        return None


def _basic_credentials(header: str) -> tuple[str, str]:
    if not header.lower().startswith("basic "):
        return "", ""
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except ValueError:
        return "", ""
    return user, password


def _oauth_header(header: str) -> dict[str, str]:
    """The parameters of an ``Authorization: OAuth ...`` header (as WooCommerce parses it)."""
    header = header.strip()
    if not header.startswith("OAuth "):
        return {}
    found = re.findall(r'(oauth_[a-z_-]*)=(?::?"([^"]*)"|([^,]*))', header)
    return {name: unquote(quoted or bare) for name, quoted, bare in found}


def _rfc3986(text: str) -> str:
    return quote(text, safe="-_.~")
