"""The seed's JSON response shapes, shared by the JSON API and the CLI's --json output."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def envelope(data: Any, request_id: str, started: float) -> dict[str, Any]:
    """The success envelope: ``{"success": true, "data", "meta"}``."""
    return {"success": True, "data": data, "meta": meta(request_id, started)}


def error_envelope(message: str, request_id: str) -> dict[str, Any]:
    """The error envelope: ``{"success": false, "error", "details": {"requestId"}}``."""
    return {"success": False, "error": message, "details": {"requestId": request_id}}


def meta(request_id: str, started: float) -> dict[str, Any]:
    """When (ISO-8601 UTC, milliseconds), which request, and how long it took."""
    return {
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestId": request_id,
        "processingTime": f"{(time.perf_counter() - started) * 1000:.0f}ms",
    }
