"""How every endpoint answers: its work off the event loop, wrapped in the envelope.

Who calls is established first, then the organization's API rate limit is counted, then the
request's body is read (only then, at most 64 KB, JSON only), then the endpoint's work runs;
errors become the error envelope with the status of docs/api.md.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from core.envelope import envelope, error_envelope
from core.errors import (
    InvalidRequest,
    NotFoundError,
    PermissionDenied,
    RefreshInProgress,
    RefreshRateLimited,
    SignInRefused,
    StoreError,
    SyncPreviewError,
)
from core.services.actors import Actor

log = logging.getLogger(__name__)

#: What an endpoint's work gives: the envelope's data and the Cache-Control header.
Answer = tuple[Any, str]
#: An endpoint's work: the caller and the request's JSON body (None when it takes none).
Work = Callable[[Actor, Any], Answer]
MAX_BODY_BYTES = 64 * 1024
#: Retry-After (seconds) of a 503: our database or another refresh may be back by then.
RETRY_UNAVAILABLE = 5


class Accepted:
    """Data for a 202 answer: the work goes on; ``location`` is where to follow it."""

    def __init__(self, data: Any, location: str) -> None:
        self.data = data
        self.location = location


class ApiError(Exception):
    """An answer other than 200: status, a sentence for the caller, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


async def answer(
    request: Request,
    identify: Callable[[Request], Actor],
    limit: Callable[[int], None],
    work: Work,
    *,
    body: bool = False,
) -> JSONResponse:
    """``work(actor, body)`` for the caller ``identify`` finds, once ``limit`` let it
    through; the body is read (``read_json``) only when ``body`` and only then."""
    started = time.perf_counter()
    request_id = uuid.uuid4().hex
    status, headers = 200, {"Cache-Control": "no-store"}
    try:
        who = await run_in_threadpool(identify, request)
        await run_in_threadpool(limit, who.org_id)
        data_in = await read_json(request) if body else None
        data, headers["Cache-Control"] = await run_in_threadpool(work, who, data_in)
        if isinstance(data, Accepted):
            status, headers["Location"], data = 202, data.location, data.data
        result = envelope(data, request_id, started)
    except ApiError as err:
        status, result = err.status, error_envelope(str(err), request_id)
        headers.update(err.headers)
    except SyncPreviewError as err:
        status, result = status_of(err), error_envelope(str(err), request_id)
        headers.update(headers_of(err))
    except Exception:  # a bug: say so without details, log it with the request id
        log.exception("API request %s failed", request_id)
        status, result = 500, internal_error(request_id)
    headers["X-Request-Id"] = request_id
    return JSONResponse(result, status_code=status, headers=headers)


def internal_error(request_id: str) -> dict[str, Any]:
    """The envelope of a bug: no details, the request id to quote."""
    return error_envelope(
        f"Internal error; quote request {request_id} when you report it.", request_id
    )


async def read_json(request: Request) -> Any:
    """The request's JSON body (None when it has none): at most MAX_BODY_BYTES, counted while
    it arrives (413), sent as JSON (415), parseable and not nested absurdly deep (400)."""
    size = request.headers.get("content-length", "")
    if size.isdigit() and int(size) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, "Send the body as JSON, with Content-Type: application/json.")
    try:
        return orjson.loads(raw)  # refuses nesting deeper than 1,024 levels
    except orjson.JSONDecodeError:
        raise ApiError(400, "The request body is not valid JSON.") from None


def _too_large() -> ApiError:
    return ApiError(413, f"The request body is larger than {MAX_BODY_BYTES // 1024} KB.")


def status_of(err: SyncPreviewError) -> int:
    """The HTTP status of an error of the tree."""
    if isinstance(err, InvalidRequest):
        return 400
    if isinstance(err, SignInRefused):
        return 401
    if isinstance(err, PermissionDenied):
        return 403
    if isinstance(err, NotFoundError):
        return 404
    if isinstance(err, RefreshRateLimited):
        return 429
    if isinstance(err, RefreshInProgress):
        return 503
    if isinstance(err, StoreError) and err.transient:
        return 503
    return 500


def headers_of(err: SyncPreviewError) -> dict[str, str]:
    """Retry-After for the errors that pass by themselves."""
    if isinstance(err, RefreshRateLimited):
        return {"Retry-After": str(max(1, int(err.retry_after + 0.999)))}
    if status_of(err) == 503:
        return {"Retry-After": str(RETRY_UNAVAILABLE)}
    return {}
