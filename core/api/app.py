"""The JSON API application: the routers of ``core.api`` on one FastAPI app (docs/api.md).

The dashboard's server mounts it at /api beside the Streamlit app (``server.py``);
``python -m core api`` serves it alone at the same paths (``create_server_app``). Every
answer is in the envelope, the ones FastAPI gives by itself too (404, 405, 500).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount

from core.api import health, jobs, previews
from core.api.answers import internal_error
from core.api.callers import Callers
from core.envelope import error_envelope

if TYPE_CHECKING:
    from core.bootstrap import Services

API_PATH = "/api"
log = logging.getLogger(__name__)


def create_api(services: Services) -> FastAPI:
    """The API application (paths under /v1, and /healthz), to mount at /api or serve alone."""
    api = FastAPI(title="Sync Preview API", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.services = services
    api.state.callers = Callers(services.settings, services.accounts, services.api_limiter)
    api.include_router(previews.router)
    api.include_router(jobs.router)
    api.include_router(health.router)
    api.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    api.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, _bug)
    return api


def create_server_app(services: Services) -> Starlette:
    """The API alone, at the same /api paths as in the dashboard's server."""
    return Starlette(routes=[Mount(API_PATH, app=create_api(services))])


def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """404 (no such path), 405 (a method the path does not take) and the like, enveloped."""
    request_id = uuid.uuid4().hex
    if exc.status_code == 404:
        message = f"There is no {request.url.path} here; the endpoints are in docs/api.md."
    elif exc.status_code == 405:
        allowed = _methods_of(request)
        message = f"{request.method} is not allowed here; use {allowed or 'another method'}."
    else:
        message = str(exc.detail)
    headers = {**(exc.headers or {}), "X-Request-Id": request_id, "Cache-Control": "no-store"}
    if exc.status_code == 405 and allowed:
        headers["Allow"] = allowed
    return JSONResponse(
        error_envelope(message, request_id), status_code=exc.status_code, headers=headers
    )


def _methods_of(request: Request) -> str:
    """The methods this path takes (Starlette's 405 names only the first route's): each is
    tried against the app's routes as the router itself matches them."""
    allowed = [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    request_id = uuid.uuid4().hex
    return JSONResponse(
        error_envelope("The request is not one this endpoint takes (see docs/api.md).", request_id),
        status_code=400,
        headers={"X-Request-Id": request_id, "Cache-Control": "no-store"},
    )


def _bug(request: Request, exc: Exception) -> JSONResponse:
    request_id = uuid.uuid4().hex
    log.error("API request %s failed", request_id, exc_info=exc)
    return JSONResponse(
        internal_error(request_id),
        status_code=500,
        headers={"X-Request-Id": request_id, "Cache-Control": "no-store"},
    )
