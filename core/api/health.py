"""The health check: ``GET /healthz`` (``/api/healthz`` on the dashboard's server).

No token needed; it names no organization and no secret. 200 while requests can be served
(``status`` ``ok``, or ``degraded`` with warnings: e.g. Redis unreachable, rate limits
counted in memory), 503 with ``Retry-After`` and the error envelope (the same fields in
``details``) while our database does not answer.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from core.api.answers import RETRY_UNAVAILABLE
from core.envelope import envelope, error_envelope

if TYPE_CHECKING:
    from core.bootstrap import Services

HEALTH_PATH = "/healthz"
router = APIRouter()


@router.get(HEALTH_PATH)
async def healthz(request: Request) -> JSONResponse:
    started = time.perf_counter()
    services: Services = request.app.state.services
    health = await run_in_threadpool(services.health.check)
    data = {
        "status": health.status,
        "database": health.database,
        "rateLimits": health.rate_limits,
        "pendingFailures": health.pending_failures,
        "warnings": list(health.warnings),
    }
    request_id = uuid.uuid4().hex
    headers = {"Cache-Control": "no-store", "X-Request-Id": request_id}
    if health.status != "down":
        return JSONResponse(envelope(data, request_id, started), headers=headers)
    body = error_envelope(health.warnings[0], request_id)
    body["details"].update(data)
    headers["Retry-After"] = str(RETRY_UNAVAILABLE)
    return JSONResponse(body, status_code=503, headers=headers)
