"""How every endpoint answers: its work off the event loop, wrapped in the envelope.

Who calls is established first, then the organization's API rate limit is counted, then the
endpoint's work runs; errors become the error envelope with the status of docs/api.md.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

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
    SyncPreviewError,
)
from core.services.actors import Actor

log = logging.getLogger(__name__)

#: What an endpoint's work gives: the envelope's data and the Cache-Control header.
Answer = tuple[Any, str]
Work = Callable[[Actor], Answer]


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
) -> JSONResponse:
    """``work(actor)`` for the caller ``identify`` finds, once ``limit`` let it through."""
    started = time.perf_counter()
    request_id = uuid.uuid4().hex
    status, headers = 200, {"Cache-Control": "no-store"}
    try:
        who = await run_in_threadpool(identify, request)
        await run_in_threadpool(limit, who.org_id)
        data, headers["Cache-Control"] = await run_in_threadpool(work, who)
        body = envelope(data, request_id, started)
    except ApiError as err:
        status, body = err.status, error_envelope(str(err), request_id)
        headers.update(err.headers)
    except SyncPreviewError as err:
        status, body = status_of(err), error_envelope(str(err), request_id)
        if isinstance(err, RefreshRateLimited):
            headers["Retry-After"] = str(int(err.retry_after))
    except Exception:  # a bug: say so without details, log it with the request id
        log.exception("API request %s failed", request_id)
        status = 500
        body = error_envelope(
            f"Internal error; quote request {request_id} when you report it.", request_id
        )
    headers["X-Request-Id"] = request_id
    return JSONResponse(body, status_code=status, headers=headers)


def status_of(err: SyncPreviewError) -> int:
    """The HTTP status of an error of the tree."""
    if isinstance(err, InvalidRequest):
        return 400
    if isinstance(err, PermissionDenied):
        return 403
    if isinstance(err, NotFoundError):
        return 404
    if isinstance(err, RefreshRateLimited):
        return 429
    if isinstance(err, RefreshInProgress):
        return 503
    return 500
