"""Helpers of the Activity screen: the filter, the chart's data, the CSV export."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import pandas as pd

from core.services.activity import ActivityEntry, ActivityFilter
from core.services.actors import Actor
from core.services.catalog import CHANGE_KINDS
from core.services.events import ACTIONS
from ui.services import get_services

__all__ = ["ACTIONS", "counts_over_time", "csv_export", "events_frame", "make_filter"]
EXPORT_LIMIT = 10_000
COLUMNS = [
    "when",
    "user",
    "action",
    "source",
    "connector",
    "entity",
    "status",
    "cache",
    "duration_ms",
    "new",
    "updated",
    "deleted",
    "error",
    "details",
]


def make_filter(
    *,
    action: str | None,
    connector_id: int | None = None,
    sync_type: str | None,
    entity_type: str | None,
    user: str | None,
    status: str | None,
    days: Sequence[date],
    tz: tzinfo,
) -> ActivityFilter:
    """The service's filter; the date range is whole days in the user's time zone."""
    since = until = None
    if len(days) >= 1:
        since = datetime.combine(days[0], time.min, tz).astimezone(UTC)
        last = days[1] if len(days) > 1 else days[0]
        until = datetime.combine(last + timedelta(days=1), time.min, tz).astimezone(UTC)
    return ActivityFilter(
        action=action or None,
        connector_id=connector_id,
        sync_type=sync_type or None,
        entity_type=entity_type or None,
        user=(user or "").strip().lower() or None,
        status=status or None,
        since=since,
        until=until,
    )


def events_frame(events: Sequence[ActivityEntry], tz: tzinfo) -> pd.DataFrame:
    """The log as a table, newest first."""
    frame = pd.DataFrame(
        [
            {
                "when": e.at.astimezone(tz).replace(tzinfo=None),
                "user": e.user or "(system)",
                "action": e.action,
                "source": e.sync_type or "",
                "connector": e.connector or "",
                "entity": e.entity_type or "",
                "status": e.status,
                "cache": "hit" if e.cache_hit else ("miss" if e.cache_hit is False else ""),
                "duration_ms": e.duration_ms,
                "new": (e.counts or {}).get("new"),
                "updated": (e.counts or {}).get("updated"),
                "deleted": (e.counts or {}).get("deleted"),
                "error": e.error or "",
                "details": json.dumps(e.details, ensure_ascii=False) if e.details else "",
            }
            for e in events
        ],
        columns=COLUMNS,
    )
    for column in ("duration_ms", "new", "updated", "deleted"):
        frame[column] = frame[column].astype("Int64")
    return frame


def counts_over_time(actor: Actor, flt: ActivityFilter, tz: tzinfo) -> pd.DataFrame:
    """New/updated/deleted of every successful refresh in the filter: long format for a chart."""
    from dataclasses import replace

    events, _ = get_services().activity.list_activity(
        actor, replace(flt, action="refresh", status="ok"), limit=EXPORT_LIMIT
    )
    rows = [
        {
            "when": e.at.astimezone(tz).replace(tzinfo=None),
            "entity": e.entity_type or "",
            "connector": e.connector or e.sync_type or "",
            "kind": kind,
            "count": int((e.counts or {}).get(kind, 0)),
        }
        for e in events
        if e.counts
        for kind in CHANGE_KINDS
    ]
    return pd.DataFrame(rows, columns=["when", "entity", "connector", "kind", "count"])


def csv_export(actor: Actor, flt: ActivityFilter, tz: tzinfo) -> Callable[[], str]:
    """A callable returning every matching event as CSV (up to 10,000)."""

    def build() -> str:
        events, _ = get_services().activity.list_activity(actor, flt, limit=EXPORT_LIMIT)
        return str(events_frame(events, tz).to_csv(index=False))

    return build
