"""The preview endpoints: read a preview, recompute it (``action=fetch``), save which kinds
of change a sync may include (``action=select``), or apply it (``action=apply``).

    GET  /v1/integrations/sync/preview?sync_type=&entity_type=[&connector=]
    POST /v1/integrations/sync/preview?action=fetch&sync_type=&entity_type=[&connector=][&wait=]
    POST /v1/integrations/sync/preview?action=select&sync_type=&entity_type=[&connector=]
         {"includeNew": true, "includeUpdated": true, "includeDeleted": false}
    POST /v1/integrations/sync/preview?action=apply&sync_type=&entity_type=[&connector=]
         optional {"snapshotId": 12, "exclude": ["17", "23"]}

``connector`` (an id or a name) picks one of the organization's connectors; without it, the
default connector of ``sync_type``; with it, ``sync_type`` may be left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.api.answers import Accepted, Answer, Work, answer
from core.api.callers import callers_of
from core.api.jobs import job_data, job_location
from core.envelope import preview_data, selective_data
from core.errors import InvalidRequest, RefreshInProgress, SyncPreviewError
from core.services.actors import Actor

if TYPE_CHECKING:
    from core.bootstrap import Services

PREVIEW_PATH = "/v1/integrations/sync/preview"
ACTIONS = ("fetch", "select", "apply")
APPLY_KEYS = ("snapshotId", "exclude")
SELECT_KEYS = ("includeNew", "includeUpdated", "includeDeleted")
#: How long ``action=fetch`` waits for a worker's refresh before answering 202 (``wait``).
DEFAULT_WAIT = 25.0
MAX_WAIT = 60.0

router = APIRouter()


@router.get(PREVIEW_PATH)
async def get_preview(request: Request) -> JSONResponse:
    which = _which(request)
    services = _services(request)
    return await _answer(request, lambda who, _: _preview(services, who, which, fresh=False))


@router.post(PREVIEW_PATH)
async def post_preview(request: Request) -> JSONResponse:
    which = _which(request)
    services = _services(request)
    action = request.query_params.get("action", "")
    if action == "select":
        return await _answer(
            request, lambda who, body: _select(services, who, which, body), body=True
        )
    if action == "fetch":
        return await _answer(
            request, lambda who, _: _fetch(services, who, which, _wait_of(request))
        )
    if action == "apply":
        return await _answer(
            request,
            lambda who, body: _apply(services, who, which, body, _wait_of(request)),
            body=True,
        )
    return await _answer(request, lambda who, _: _refuse_action(action))


class Which(NamedTuple):
    """Which preview a request names; with a connector the source may be left out."""

    sync_type: str | None
    entity_type: str
    connector: str | None


def _preview(services: Services, who: Actor, which: Which, *, fresh: bool) -> Answer:
    snap = services.previews.get_preview_snapshot(
        who, which.sync_type, which.entity_type, force_refresh=fresh, connector=which.connector
    )
    if snap.cache_hit:
        left = int((snap.expires_at - services.previews.clock()).total_seconds())
        cache = f"private, max-age={max(0, left)}"
    else:
        cache = "no-store"
    return preview_data(snap), cache


def _fetch(services: Services, who: Actor, which: Which, wait: float) -> Answer:
    """Refresh by a worker: the preview when it is done within ``wait`` seconds, else 202 and
    where to follow the job. With no worker alive, refresh here (the answer of old)."""
    if not services.jobs.workers_alive():
        return _preview(services, who, which, fresh=True)
    job, _ = services.previews.enqueue_refresh(
        who, which.sync_type, which.entity_type, connector=which.connector
    )
    ended = services.jobs.wait(who, job.id, wait)
    if ended.active:
        return Accepted(job_data(services, who, ended), job_location(ended.id)), "no-store"
    if ended.state == "cancelled":
        raise RefreshInProgress(
            f"The refresh was cancelled by {ended.cancelled_by or 'someone'}; ask again."
        )
    snap = services.previews.latest(
        who, which.sync_type, which.entity_type, connector=which.connector
    )
    if snap is None:
        raise SyncPreviewError(ended.error or "The refresh failed.")
    return preview_data(snap), "no-store"


def _wait_of(request: Request) -> float:
    raw = request.query_params.get("wait", "")
    if not raw:
        return DEFAULT_WAIT
    try:
        wait = float(raw)
    except ValueError:
        wait = -1.0
    if not 0 <= wait <= MAX_WAIT:
        raise InvalidRequest(f"wait must be a number of seconds from 0 to {MAX_WAIT:g}.")
    return wait


def _select(services: Services, who: Actor, which: Which, body: Any) -> Answer:
    if not isinstance(body, dict):
        raise InvalidRequest(
            "Send a JSON object with includeNew, includeUpdated and includeDeleted."
        )
    missing = [key for key in SELECT_KEYS if key not in body]
    if missing:
        raise InvalidRequest(f"Missing {', '.join(missing)} in the request body.")
    view = services.selective.save_selective_config(
        who,
        which.sync_type,
        which.entity_type,
        connector=which.connector,
        include_new=body["includeNew"],
        include_updated=body["includeUpdated"],
        include_deleted=body["includeDeleted"],
    )
    return selective_data(view), "no-store"


def _apply(services: Services, who: Actor, which: Which, body: Any, wait: float) -> Answer:
    """Apply the preview's selected changes; the answer is the run (its counts and state)."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise InvalidRequest("Send a JSON object with snapshotId and exclude, or no body.")
    unknown = [str(k)[:40] for k in body if k not in APPLY_KEYS]
    if unknown:
        raise InvalidRequest(
            f"Unknown {', '.join(unknown)} in the request body; it takes snapshotId and exclude."
        )
    snapshot_id = body.get("snapshotId")
    if snapshot_id is not None and (
        isinstance(snapshot_id, bool) or not isinstance(snapshot_id, int)
    ):
        raise InvalidRequest("snapshotId must be a whole number (the preview's id).")
    run = services.apply.start(
        who,
        which.sync_type,
        which.entity_type,
        connector=which.connector,
        snapshot_id=snapshot_id,
        exclude=body.get("exclude"),
    )
    if not services.jobs.workers_alive():  # no worker: apply here (as a refresh does)
        return services.apply.execute_here(who, run.id).to_dict(), "no-store"
    job = services.apply.enqueue(who, run.id)
    ended = services.jobs.wait(who, job.id, wait)
    if ended.active:
        return Accepted(job_data(services, who, ended), job_location(ended.id)), "no-store"
    return services.apply.run(who, run.id).to_dict(), "no-store"


def _refuse_action(action: str) -> Answer:
    shown = f" '{action[:40]}'" if action else ""
    raise InvalidRequest(f"Invalid action{shown}. Must be one of: {', '.join(ACTIONS)}")


async def _answer(request: Request, work: Work, *, body: bool = False) -> JSONResponse:
    callers = callers_of(request)
    return await answer(request, callers.identify, callers.limit, work, body=body)


def _which(request: Request) -> Which:
    """The source, entity and connector a request names (an empty parameter is left out)."""
    params = request.query_params
    connector = params.get("connector", "").strip() or None
    sync_type = params.get("sync_type", "")
    return Which(
        None if connector and not sync_type else sync_type,
        params.get("entity_type", ""),
        connector,
    )


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
