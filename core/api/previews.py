"""The preview endpoints: read a preview, recompute it (``action=fetch``), or save which kinds
of change a sync may include (``action=select``).

    GET  /v1/integrations/sync/preview?sync_type=&entity_type=
    POST /v1/integrations/sync/preview?action=fetch&sync_type=&entity_type=
    POST /v1/integrations/sync/preview?action=select&sync_type=&entity_type=
         {"includeNew": true, "includeUpdated": true, "includeDeleted": false}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.api.answers import Answer, Work, answer
from core.api.callers import callers_of
from core.envelope import preview_data, selective_data
from core.errors import InvalidRequest
from core.services.actors import Actor

if TYPE_CHECKING:
    from core.bootstrap import Services

PREVIEW_PATH = "/v1/integrations/sync/preview"
ACTIONS = ("fetch", "select")
SELECT_KEYS = ("includeNew", "includeUpdated", "includeDeleted")

router = APIRouter()


@router.get(PREVIEW_PATH)
async def get_preview(request: Request) -> JSONResponse:
    sync_type, entity_type = _types(request)
    services = _services(request)
    return await _answer(
        request, lambda who, _: _preview(services, who, sync_type, entity_type, fresh=False)
    )


@router.post(PREVIEW_PATH)
async def post_preview(request: Request) -> JSONResponse:
    sync_type, entity_type = _types(request)
    services = _services(request)
    action = request.query_params.get("action", "")
    if action == "select":
        return await _answer(
            request,
            lambda who, body: _select(services, who, sync_type, entity_type, body),
            body=True,
        )
    if action == "fetch":
        return await _answer(
            request, lambda who, _: _preview(services, who, sync_type, entity_type, fresh=True)
        )
    return await _answer(request, lambda who, _: _refuse_action(action))


def _preview(
    services: Services, who: Actor, sync_type: str, entity_type: str, *, fresh: bool
) -> Answer:
    snap = services.previews.get_preview_snapshot(who, sync_type, entity_type, force_refresh=fresh)
    if snap.cache_hit:
        left = int((snap.expires_at - services.previews.clock()).total_seconds())
        cache = f"private, max-age={max(0, left)}"
    else:
        cache = "no-store"
    return preview_data(snap), cache


def _select(services: Services, who: Actor, sync_type: str, entity_type: str, body: Any) -> Answer:
    if not isinstance(body, dict):
        raise InvalidRequest(
            "Send a JSON object with includeNew, includeUpdated and includeDeleted."
        )
    missing = [key for key in SELECT_KEYS if key not in body]
    if missing:
        raise InvalidRequest(f"Missing {', '.join(missing)} in the request body.")
    view = services.selective.save_selective_config(
        who,
        sync_type,
        entity_type,
        include_new=body["includeNew"],
        include_updated=body["includeUpdated"],
        include_deleted=body["includeDeleted"],
    )
    return selective_data(view), "no-store"


def _refuse_action(action: str) -> Answer:
    shown = f" '{action[:40]}'" if action else ""
    raise InvalidRequest(f"Invalid action{shown}. Must be one of: {', '.join(ACTIONS)}")


async def _answer(request: Request, work: Work, *, body: bool = False) -> JSONResponse:
    callers = callers_of(request)
    return await answer(request, callers.identify, callers.limit, work, body=body)


def _types(request: Request) -> tuple[str, str]:
    return (
        request.query_params.get("sync_type", ""),
        request.query_params.get("entity_type", ""),
    )


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
