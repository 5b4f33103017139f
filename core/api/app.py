"""The seed's preview endpoints for other services, on top of ``core.services``.

    GET  /api/v1/integrations/sync/preview?sync_type=&entity_type=
    POST /api/v1/integrations/sync/preview?action=fetch&sync_type=&entity_type=
    POST /api/v1/integrations/sync/preview?action=select&sync_type=&entity_type=
         {"includeNew": true, "includeUpdated": true, "includeDeleted": false}

Every answer is the seed's envelope (``core.envelope``). The organization comes from a
verified bearer token (HS256, ``API_JWT_SECRET``, claims ``org_id`` and ``exp``; ``sub``
names the caller, and when it is a user of that organization their role applies). An
``X-Org-Id`` header must match the token, and is taken alone only when the operator declares a
trusted gateway. Each organization has ``API_RATE_LIMIT`` requests (10 a minute).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount

from core.envelope import envelope, error_envelope
from core.errors import (
    InvalidRequest,
    NotFoundError,
    PermissionDenied,
    RefreshInProgress,
    RefreshRateLimited,
    SyncPreviewError,
)
from core.services.context import UserContext
from core.services.ratelimit import OrgRateLimiter

if TYPE_CHECKING:
    from core.bootstrap import Services

log = logging.getLogger(__name__)

API_PATH = "/api"
PREVIEW_PATH = "/v1/integrations/sync/preview"
ACTIONS = ("fetch", "select")
SELECT_KEYS = ("includeNew", "includeUpdated", "includeDeleted")
#: What an endpoint's work gives: the envelope's data and the Cache-Control header.
Answer = tuple[Any, str]


class ApiError(Exception):
    """An answer other than 200: status, a sentence for the caller, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@dataclass(frozen=True)
class Caller:
    """Who asks: the organization, and the user or service acting (for roles and the log)."""

    org_id: int
    actor: UserContext | str


def _org_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError(401, "The token's org_id is not an organization id.")
    try:
        return int(value)
    except ValueError:
        raise ApiError(401, "The token's org_id is not an organization id.") from None


def create_api(services: Services) -> FastAPI:
    """The API application (paths under /v1), to mount at /api or serve alone."""
    settings = services.settings
    limiter = OrgRateLimiter(
        settings.api_rate_limit,
        settings.redis_url,
        kind="api",
        setting="API_RATE_LIMIT",
    )
    api = FastAPI(title="Sync Preview API", docs_url=None, redoc_url=None, openapi_url=None)

    def caller(request: Request) -> Caller:
        header_org = request.headers.get("x-org-id")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            if not settings.api_jwt_secret:
                raise ApiError(401, "The JSON API is closed on this server (no API_JWT_SECRET).")
            try:
                claims = jwt.decode(
                    token.strip(),
                    settings.api_jwt_secret,
                    algorithms=["HS256"],
                    options={"require": ["org_id", "exp"]},
                )
            except jwt.ExpiredSignatureError:
                raise ApiError(401, "The token has expired; ask for a new one.") from None
            except jwt.InvalidTokenError:
                raise ApiError(401, "The token is not valid for this server.") from None
            org_id = _org_id(claims["org_id"])
            if header_org is not None and header_org.strip() != str(org_id):
                raise ApiError(401, "X-Org-Id does not match the token's organization.")
            return Caller(org_id, _actor(services, org_id, claims.get("sub")))
        if settings.api_trusted_gateway and header_org:
            try:
                return Caller(int(header_org), "api:gateway")
            except ValueError:
                raise ApiError(400, "X-Org-Id must be an organization id.") from None
        raise ApiError(401, "Send a bearer token: Authorization: Bearer <token>.")

    def limit(org_id: int) -> None:
        wait = limiter.wait_after_hit(org_id)
        if wait is not None:
            raise ApiError(
                429,
                f"Too many API requests for this organization (limit {limiter.rate}). "
                f"Try again in {wait} s.",
                {"Retry-After": str(wait)},
            )

    def preview(who: Caller, sync_type: str, entity_type: str, *, fresh: bool) -> Answer:
        snap = services.previews.get_preview_snapshot(
            who.org_id, sync_type, entity_type, force_refresh=fresh, user=who.actor
        )
        if snap.cache_hit:
            left = int((snap.expires_at - services.previews.clock()).total_seconds())
            cache = f"private, max-age={max(0, left)}"
        else:
            cache = "no-store"
        return snap.to_dict(), cache

    def select(who: Caller, sync_type: str, entity_type: str, body: Any) -> Answer:
        if not isinstance(body, dict):
            raise InvalidRequest(
                "Send a JSON object with includeNew, includeUpdated and includeDeleted."
            )
        missing = [key for key in SELECT_KEYS if key not in body]
        if missing:
            raise InvalidRequest(f"Missing {', '.join(missing)} in the request body.")
        view = services.selective.save_selective_config(
            who.org_id,
            sync_type,
            entity_type,
            include_new=body["includeNew"],
            include_updated=body["includeUpdated"],
            include_deleted=body["includeDeleted"],
            user=who.actor,
        )
        return view.to_dict(), "no-store"

    async def answer(request: Request, work: Callable[[Caller], Answer]) -> JSONResponse:
        """Run ``work(caller)`` off the event loop and wrap what it gives in the envelope."""
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        status, headers = 200, {"Cache-Control": "no-store"}
        try:
            who = await run_in_threadpool(caller, request)
            await run_in_threadpool(limit, who.org_id)
            data, headers["Cache-Control"] = await run_in_threadpool(work, who)
            body = envelope(data, request_id, started)
        except ApiError as err:
            status, body = err.status, error_envelope(str(err), request_id)
            headers.update(err.headers)
        except SyncPreviewError as err:
            status, body = _status(err), error_envelope(str(err), request_id)
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

    @api.get(PREVIEW_PATH)
    async def get_preview(request: Request) -> JSONResponse:
        sync_type, entity_type = _types(request)
        return await answer(request, lambda who: preview(who, sync_type, entity_type, fresh=False))

    @api.post(PREVIEW_PATH)
    async def post_preview(request: Request) -> JSONResponse:
        sync_type, entity_type = _types(request)
        action = request.query_params.get("action", "")
        if action == "select":
            try:
                body = await request.json()
            except ValueError:
                body = None
            return await answer(request, lambda who: select(who, sync_type, entity_type, body))
        if action == "fetch":
            return await answer(
                request, lambda who: preview(who, sync_type, entity_type, fresh=True)
            )
        return await answer(request, lambda who: _refuse_action(action))

    return api


def create_server_app(services: Services) -> Starlette:
    """The API alone, at the same /api paths as in the dashboard's server."""
    return Starlette(routes=[Mount(API_PATH, app=create_api(services))])


def _types(request: Request) -> tuple[str, str]:
    return (
        request.query_params.get("sync_type", ""),
        request.query_params.get("entity_type", ""),
    )


def _refuse_action(action: str) -> Answer:
    shown = f" '{action}'" if action else ""
    raise InvalidRequest(f"Invalid action{shown}. Must be one of: {', '.join(ACTIONS)}")


def _status(err: SyncPreviewError) -> int:
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


def _actor(services: Services, org_id: int, subject: Any) -> UserContext | str:
    """The token's subject: a user of the organization acts with their role; anything
    else is a service, logged as api:<subject>."""
    if not isinstance(subject, str) or not subject.strip():
        return "api"
    try:
        user = services.accounts.user_context(subject.strip())
    except NotFoundError:
        return f"api:{subject.strip()}"[:64]
    return user if user.org_id == org_id else f"api:{subject.strip()}"[:64]
