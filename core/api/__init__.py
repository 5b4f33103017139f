"""The JSON API for other services (docs/api.md), on top of ``core.services``.

app.py       create_api: the FastAPI application with its routers
previews.py  the preview endpoints (read, fetch, select)
callers.py   who calls (bearer token or trusted gateway) and the API rate limit
tokens.py    issuing and reading the bearer tokens
answers.py   the envelope around every answer, and the status of every error
"""

from core.api.app import API_PATH, create_api, create_server_app

__all__ = ["API_PATH", "create_api", "create_server_app"]
