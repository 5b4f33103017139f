"""The JSON API (DESIGN §7): the seed's preview contract over HTTP."""

from core.api.app import API_PATH, create_api, create_server_app

__all__ = ["API_PATH", "create_api", "create_server_app"]
