"""The job endpoints: follow (and cancel) background work such as a refresh.

    GET  /v1/jobs/<id>                     the job: state, phase, progress; the preview when done
    POST /v1/jobs/<id>?action=cancel       cancel it (editors, or whoever started it)

``/v1/integrations/sync/jobs/<id>`` answers the same. ``POST .../preview?action=fetch``
answers 202 with ``Location: /api/v1/jobs/<id>`` when its refresh is still running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.api.answers import Answer, answer
from core.api.callers import callers_of
from core.envelope import preview_data
from core.errors import InvalidRequest
from core.services.actors import Actor

if TYPE_CHECKING:
    from core.bootstrap import Services
    from core.services.jobs import JobView

PATHS = ("/v1/jobs/{job_id}", "/v1/integrations/sync/jobs/{job_id}")

router = APIRouter()


def job_location(job_id: int) -> str:
    """Where a job is followed (the API is served under /api)."""
    return f"/api/v1/jobs/{job_id}"


def job_data(services: Services, who: Actor, job: JobView) -> dict[str, Any]:
    """A job in the envelope's data: the job, its Location, and the preview once it is done."""
    data: dict[str, Any] = {"job": job.to_dict(), "location": job_location(job.id)}
    if job.kind == "refresh" and not job.active and job.entity_type:
        snap = services.previews.latest(
            who, job.sync_type, job.entity_type, connector=job.connector_id
        )
        data["preview"] = preview_data(snap) if snap is not None else None
    return data


async def _get(request: Request, job_id: int) -> JSONResponse:
    services: Services = request.app.state.services
    callers = callers_of(request)

    def work(who: Actor, _: Any) -> Answer:
        return job_data(services, who, services.jobs.get(who, job_id)), "no-store"

    return await answer(request, callers.identify, callers.limit, work)


async def _post(request: Request, job_id: int) -> JSONResponse:
    services: Services = request.app.state.services
    callers = callers_of(request)
    action = request.query_params.get("action", "")

    def work(who: Actor, _: Any) -> Answer:
        if action != "cancel":
            raise InvalidRequest("Invalid action. Must be one of: cancel")
        return job_data(services, who, services.jobs.cancel(who, job_id)), "no-store"

    return await answer(request, callers.identify, callers.limit, work)


for _path in PATHS:
    router.add_api_route(_path, _get, methods=["GET"])
    router.add_api_route(_path, _post, methods=["POST"])
