"""Plain request/response values passed between the HTTP server and the protocol handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson


@dataclass(frozen=True)
class Request:
    """One HTTP request as the handlers see it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    host: str


@dataclass
class Response:
    """One HTTP answer; `page` marks a data page (for the malformed_page fault)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    page: int | None = None
    content_type: str = "application/json; charset=UTF-8"


def json_response(status: int, payload: object, **headers: str) -> Response:
    """A JSON answer rendered with orjson."""
    return Response(status, orjson.dumps(payload), dict(headers))


def html_not_found() -> Response:
    """What a web server says for a path it does not know."""
    body = b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"
    return Response(404, body, content_type="text/html; charset=utf-8")
