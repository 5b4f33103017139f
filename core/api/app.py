"""The JSON API application: the routers of ``core.api`` on one FastAPI app (docs/api.md).

The dashboard's server mounts it at /api beside the Streamlit app (``server.py``);
``python -m core api`` serves it alone at the same paths (``create_server_app``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from core.api import previews
from core.api.callers import Callers

if TYPE_CHECKING:
    from core.bootstrap import Services

API_PATH = "/api"


def create_api(services: Services) -> FastAPI:
    """The API application (paths under /v1), to mount at /api or serve alone."""
    api = FastAPI(title="Sync Preview API", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.services = services
    api.state.callers = Callers(services.settings, services.accounts)
    api.include_router(previews.router)
    return api


def create_server_app(services: Services) -> Starlette:
    """The API alone, at the same /api paths as in the dashboard's server."""
    return Starlette(routes=[Mount(API_PATH, app=create_api(services))])
