"""The JSON shapes of the HTTP contract (docs/api.md), shared by the API and the CLI's --json.

The envelope around every answer, and the camel-case ``data`` of a preview and of a saved
selective-sync choice.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from core.services.previews import PreviewSnapshot
from core.services.selective import SelectiveConfigView

KINDS = ("new", "updated", "deleted")


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


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with a Z, to the second."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def preview_data(snap: PreviewSnapshot) -> dict[str, Any]:
    """A preview's ``data``: whose it is, the counts and first records of each kind, and the
    cache facts."""
    return {
        "syncType": snap.sync_type,
        "entityType": snap.entity_type,
        "connector": {"id": snap.connector_id, "name": snap.connector_name},
        "delta": {
            kind: {"count": int(snap.counts.get(kind, 0)), "records": snap.records[kind]}
            for kind in KINDS
        },
        "computedAt": iso(snap.computed_at),
        "expiresAt": iso(snap.expires_at),
        "cacheHit": snap.cache_hit,
        "notCompared": list(snap.not_compared),
        "notes": list(snap.notes),
        "localSide": _local_side(snap.local),
    }


def _local_side(local: dict[str, Any] | None) -> dict[str, Any]:
    """Where the local records came from, how they matched, and what was left apart."""
    if not local:
        return {"kind": "builtin", "match": "id"}
    return {
        "kind": local.get("kind"),
        "match": local.get("match"),
        "matchKey": local.get("key"),
        "mappingVersion": local.get("version"),
        "compared": list(local.get("compared") or ()),
        "ambiguous": {
            "count": int(local.get("ambiguous", 0)),
            "records": list(local.get("ambiguous_records") or ()),
        },
        "localWithoutKey": int(local.get("without_key", 0)),
    }


def selective_data(view: SelectiveConfigView) -> dict[str, Any]:
    """A saved selective-sync choice's ``data``."""
    return {
        "syncType": view.sync_type,
        "entityType": view.entity_type,
        "connector": {"id": view.connector_id, "name": view.connector_name},
        "includeNew": view.include_new,
        "includeUpdated": view.include_updated,
        "includeDeleted": view.include_deleted,
        "updatedBy": view.updated_by,
        "updatedAt": iso(view.updated_at) if view.updated_at else None,
    }
