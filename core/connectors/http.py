"""Shared HTTP plumbing: a hard wall-time limit per call, bounded retries, typed errors.

Every call runs in a short-lived worker thread that streams the body and checks a monotonic
deadline between reads; the caller waits for it at most until that deadline, so no call can
outlast ``timeout`` even against a server that trickles one byte a second (or stalls while
resolving, connecting or sending headers).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from core.errors import BadResponse, ConnectorError, ExternalTimeout, RateLimited, Unreachable

log = logging.getLogger("core.connectors.http")

#: The largest answer read: a page of an API never comes near it. Checked against the
#: announced Content-Length before reading, and counted while the body arrives.
MAX_BODY_BYTES = 64 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class HttpResult:
    """One complete HTTP answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class ServerError(BadResponse):
    """The external system answered 5xx (retried, then raised); transient: a store that is
    down or overloaded now may answer later."""

    transient = True


Signer = Callable[[str, str], tuple[str, dict[str, str]]]


@dataclass(frozen=True)
class _Call:
    """One logical call as ``request`` was asked for it (each attempt sends it again)."""

    method: str
    url: str
    params: Mapping[str, str] | None
    headers: Mapping[str, str] | None
    body: bytes | None
    auth: Any
    sign: Signer | None
    check: Callable[[HttpResult], None] | None
    final: Callable[[HttpResult], bool] | None = None  # an answer not to retry (see request)


class _NoAuth(requests.auth.AuthBase):
    """Credentials come from the connector only: never from the server's ~/.netrc.

    (requests also looks ~/.netrc up on every request without auth; that is also slow.)
    """

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


_NO_AUTH = _NoAuth()


class HttpClient:
    """Performs calls to one external system within per-call and overall time limits."""

    def __init__(
        self,
        *,
        system: str,
        shown_url: str,
        timeout: float,
        deadline: float | None = None,
        session: requests.Session | None = None,
        max_attempts: int = 5,
        max_retry_seconds: float = 60.0,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        max_retry_after: float = 30.0,
        pool_size: int = 8,
    ) -> None:
        self.system = system
        self.shown_url = shown_url
        self.timeout = timeout
        self.deadline = deadline
        self.max_attempts = max_attempts
        self.max_retry_seconds = max_retry_seconds
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self._own_session = session is None
        self.session = session or requests.Session()
        if self._own_session:
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=2, pool_maxsize=max(pool_size, 2), max_retries=0
            )
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
            self.session.trust_env = False  # read once per address instead: see _environment
        self._environments: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._own_session:
            self.session.close()

    def _environment(self, url: str) -> dict[str, Any]:
        """The proxies and CA bundle the environment sets for ``url``'s address, read once per
        address (requests reads them again on every call, as costly as the rest of preparing
        it); none for a session passed in, which reads its own."""
        if not self._own_session:
            return {}
        parts = urlsplit(url)
        where = f"{parts.scheme}://{parts.netloc}"
        found = self._environments.get(where)
        if found is None:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            found = {"proxies": requests.utils.get_environ_proxies(url), "verify": bundle}
            self._environments[where] = found
        return found

    # -- errors -------------------------------------------------------------------------
    def timeout_error(self) -> ExternalTimeout:
        """The error for a call that hit the per-call limit."""
        return ExternalTimeout(
            f"{self.system} at {self.shown_url} did not answer within {self.timeout:g} s."
        )

    def deadline_error(self) -> ExternalTimeout:
        """The error for an iteration that hit the overall deadline."""
        return ExternalTimeout(
            f"Reading from {self.system} at {self.shown_url} took longer than the overall "
            "time limit of this refresh; try again later or raise REFRESH_DEADLINE_SECONDS."
        )

    def check_deadline(self) -> None:
        """Raise if the overall deadline has passed."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise self.deadline_error()

    # -- calls --------------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        auth: Any = None,
        sign: Signer | None = None,
        check: Callable[[HttpResult], None] | None = None,
        final: Callable[[HttpResult], bool] | None = None,
    ) -> HttpResult:
        """One logical call, retried on 429/5xx/connection errors; `check` maps statuses.

        `sign(method, url_with_query)` returns the URL and extra headers to send; it runs
        again for every attempt (OAuth nonces must not repeat). A 5xx answer for which
        `final` is true (an application error that says what went wrong) is not retried but
        handed to `check`.
        """
        started = time.monotonic()

        def stop(state: RetryCallState) -> bool:
            if stop_after_attempt(self.max_attempts)(state):
                return True
            pause = self._pause(state)
            if time.monotonic() + pause - started > self.max_retry_seconds:
                return True
            return self.deadline is not None and time.monotonic() + pause >= self.deadline

        retrying = Retrying(
            stop=stop,
            wait=self._pause,
            retry=retry_if_exception_type((RateLimited, Unreachable, ServerError)),
            reraise=True,
            before_sleep=self._log_retry,
        )
        call = _Call(method, url, params, headers, body, auth, sign, check, final)
        result: HttpResult = retrying(self._attempt, call)
        return result

    def _pause(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after >= 0:
            return float(min(retry_after, self.max_retry_after))
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (state.attempt_number - 1))
        return random.uniform(0, ceiling)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info(
            "%s call failed (%s); retry %d of %d",
            self.system,
            type(exc).__name__,
            state.attempt_number,
            self.max_attempts - 1,
        )

    def _attempt(self, call: _Call) -> HttpResult:
        self.check_deadline()
        url, params = call.url, call.params
        send_headers = dict(call.headers or {})
        if call.sign is not None:
            prepared = requests.Request(call.method, url, params=dict(params or {})).prepare()
            url, extra = call.sign(call.method, prepared.url or url)
            send_headers.update(extra)
            params = None
        result = self.call(
            call.method, url, params=params, headers=send_headers, body=call.body, auth=call.auth
        )
        if result.status == 429:
            raise RateLimited(
                f"{self.system} at {self.shown_url} kept answering “too many requests”; "
                "try again in a few minutes.",
                retry_after=_retry_after(result.headers),
            )
        if result.status in RETRY_STATUSES and not (call.final is not None and call.final(result)):
            raise ServerError(
                f"{self.system} at {self.shown_url} answered with a server error "
                f"(HTTP {result.status}); try again later or ask its administrator."
            )
        if call.check is not None:
            call.check(result)
        return result

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        auth: Any = None,
    ) -> HttpResult:
        """One HTTP exchange, no retry, bounded by min(now + timeout, deadline)."""
        now = time.monotonic()
        limit = now + self.timeout
        overall = self.deadline is not None and self.deadline < limit
        if self.deadline is not None:
            limit = min(limit, self.deadline)
        if limit <= now:
            raise self.deadline_error()
        box: dict[str, Any] = {}
        done = threading.Event()
        cancelled = threading.Event()

        def work() -> None:
            try:
                box["result"] = self._exchange(
                    method, url, params, headers, body, auth, limit, cancelled, box
                )
            except BaseException as exc:  # handed to the caller below
                box["error"] = exc
            finally:
                done.set()

        worker = threading.Thread(target=work, name="connector-http", daemon=True)
        worker.start()
        if not done.wait(max(0.0, limit - time.monotonic()) + 0.05):
            cancelled.set()
            response = box.get("response")
            if response is not None:
                response.close()
            raise self.deadline_error() if overall else self.timeout_error()
        if "error" in box:
            error = box["error"]
            if isinstance(error, _Timeout):
                raise self.deadline_error() if overall else self.timeout_error()
            raise error
        result: HttpResult = box["result"]
        return result

    def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        auth: Any,
        limit: float,
        cancelled: threading.Event,
        box: dict[str, Any],
    ) -> HttpResult:
        remaining = limit - time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                headers=headers,
                data=body,
                auth=auth if auth is not None else _NO_AUTH,
                timeout=(remaining, remaining),
                stream=True,
                allow_redirects=False,
                **self._environment(url),
            )
        except requests.Timeout:
            raise _Timeout() from None
        except requests.ConnectionError:
            raise Unreachable(
                f"Could not reach {self.system} at {self.shown_url}: check the address and that "
                "the server is running."
            ) from None
        except requests.RequestException:
            raise Unreachable(
                f"Could not talk to {self.system} at {self.shown_url}: the address looks invalid."
            ) from None
        box["response"] = response
        complete = False
        try:
            announced = response.headers.get("Content-Length", "")
            if announced.isdigit() and int(announced) > MAX_BODY_BYTES:
                raise self._too_large()
            buffer = bytearray()
            raw = response.raw
            while True:
                left = limit - time.monotonic()
                if left <= 0 or cancelled.is_set():
                    raise _Timeout()
                sock = getattr(getattr(raw, "connection", None), "sock", None)
                if sock is not None:
                    sock.settimeout(max(0.01, left))
                chunk = raw.read1(65536)
                if not chunk:
                    break
                if len(buffer) + len(chunk) > MAX_BODY_BYTES:
                    raise self._too_large()
                buffer += chunk
            complete = True
        except (requests.Timeout, TimeoutError, OSError) as exc:
            if isinstance(exc, TimeoutError) or time.monotonic() >= limit:
                raise _Timeout() from None
            raise Unreachable(
                f"The connection to {self.system} at {self.shown_url} broke while reading; "
                "try again."
            ) from None
        except ConnectorError:
            raise
        except Exception:
            if time.monotonic() >= limit or cancelled.is_set():
                raise _Timeout() from None
            raise Unreachable(
                f"The connection to {self.system} at {self.shown_url} broke while reading; "
                "try again."
            ) from None
        finally:
            if complete:
                response.raw.release_conn()
            else:
                response.close()
        return HttpResult(response.status_code, response.headers, bytes(buffer))

    def _too_large(self) -> BadResponse:
        return BadResponse(
            f"{self.system} at {self.shown_url} sent an answer larger than "
            f"{MAX_BODY_BYTES // 2**20} MB; it is not an API answer we can read."
        )


class _Timeout(Exception):
    """Internal: the per-call limit was reached inside the worker."""


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
