"""Helpers of the Activity screen: the filter, the log as a readable table (actions in words,
details as text, empty cells empty), the chart's data, the CSV export, and the history of a
connector's previews."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import altair as alt
import pandas as pd

from core.services.activity import ActivityEntry, ActivityFilter
from core.services.actors import Actor
from core.services.catalog import CHANGE_KINDS
from core.services.events import ACTIONS
from core.services.previews import ConnectorHistory
from ui import format as fmt
from ui.format import Locality
from ui.services import get_services

__all__ = [
    "ACTIONS",
    "action_word",
    "counts_over_time",
    "csv_export",
    "details_text",
    "events_frame",
    "history_frame",
    "history_series",
    "make_filter",
]
EXPORT_LIMIT = 10_000
#: What each action of the log reads as.
ACTION_WORDS = {
    "view": "Viewed a preview",
    "refresh": "Refreshed a preview",
    "invalidate": "Expired cached previews",
    "select": "Saved selective sync",
    "warm": "Chose how often a preview is kept warm",
    "warm_stop": "Stopped keeping previews warm after an error",
    "apply_started": "Started applying a sync",
    "apply": "Applied a sync",
    "undo": "Undid a sync",
    "login": "Signed in",
    "logout": "Signed out",
    "setup": "Set up the organization",
    "demo_loaded": "Loaded the demo data",
    "connector_added": "Added a connector",
    "connector_updated": "Changed a connector",
    "connector_deleted": "Deleted a connector",
    "connector_default": "Made a connector the default",
    "connector_tested": "Tested a connector",
    "localdb_set": "Connected your database",
    "localdb_tested": "Tested your database",
    "localdb_removed": "Disconnected your database",
    "mapping_saved": "Saved a mapping of your records",
    "write_back_switched": "Switched write-back to your database",
    "file_imported": "Imported a file of your records",
    "user_added": "Added a user",
    "password_reset": "Reset a password",
    "role_changed": "Changed a role",
    "user_activated": "Reactivated a user",
    "user_deactivated": "Deactivated a user",
}
STATUS_WORDS = {"ok": "✅ done", "failed": "❌ failed"}
COLUMNS = [
    "When",
    "Who",
    "What",
    "Source",
    "Connector",
    "Entity",
    "Status",
    "Cache",
    "Duration",
    "New",
    "Updated",
    "Deleted",
    "Error",
    "Details",
]


def action_word(action: str) -> str:
    """ "Refreshed a preview" for ``refresh``; an action this version does not know: its
    name in words."""
    return ACTION_WORDS.get(action) or action.replace("_", " ").capitalize()


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


# --- details as text --------------------------------------------------------------------------


def _included(on: Any) -> str:
    return "included" if on else "left out"


def details_text(action: str, details: Mapping[str, Any] | None, loc: Locality) -> str:
    """An event's details as a sentence-like text ("New: included · Deleted: left out"); the
    connector it is about is in a column of its own."""
    d = dict(details or {})
    d.pop("connector", None)  # the log's Connector column names it
    if not d:
        return ""
    if action == "select":
        return " · ".join(
            f"{fmt.KIND_LABEL[kind]}: {_included(d.get(key))}"
            for kind, key in (
                ("new", "includeNew"),
                ("updated", "includeUpdated"),
                ("deleted", "includeDeleted"),
            )
            if key in d
        )
    if action == "warm":
        every = d.get("everyMinutes")
        if every is None:
            return "Off"
        return "Every hour" if every == 60 else f"Every {every} minutes"
    if action == "warm_stop":
        entities = ", ".join(str(e) for e in d.get("entities") or ())
        return f"Not kept warm any more: {entities}" if entities else ""
    if action == "demo_loaded":
        return " · ".join(
            f"{fmt.source_label(str(k))}: {fmt.number(int(v), loc)} local records"
            for k, v in d.items()
            if isinstance(v, int)
        )
    parts: list[str] = []
    if d.get("base_url"):
        parts.append(f"at {d.pop('base_url')}")
    if d.get("new_default"):
        parts.append(f"{d.pop('new_default')} is the default now")
    if d.get("credentials_changed"):
        names = ", ".join(str(n).replace("_", " ") for n in d.pop("credentials_changed"))
        parts.append(f"new {names}")
    if "username" in d:
        role = f" as {d.pop('role')}" if action == "user_added" and d.get("role") else ""
        parts.append(f"{d.pop('username')}{role}")
    if action == "role_changed" and "role" in d:
        parts.append(f"now {d.pop('role')}")
    if d.get("duplicates_collapsed"):
        n = int(d.pop("duplicates_collapsed"))
        parts.append(f"{fmt.number(n, loc)} duplicate record{'s' if n != 1 else ''} counted once")
    if "snapshots" in d:
        n = int(d.pop("snapshots") or 0)
        parts.append(f"{fmt.number(n, loc)} cached preview{'s' if n != 1 else ''} expired")
    if d.get("reference"):
        parts.append(f"reference {d.pop('reference')}")
    if "org" in d:
        parts.append(f"organization {d.pop('org')}")
    d.pop("error_type", None)
    for key, value in d.items():  # anything else, in words
        if value in (None, "", [], {}, 0, False):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        parts.append(f"{key.replace('_', ' ')}: {'yes' if shown is True else shown}")
    return " · ".join(str(p) for p in parts)


# --- the log ----------------------------------------------------------------------------------


def events_frame(events: Sequence[ActivityEntry], loc: Locality) -> pd.DataFrame:
    """The log as a table, newest first: words, not codes; an empty cell where there is
    nothing to say (the page shows missing numbers as empty cells too)."""
    frame = pd.DataFrame(
        [
            {
                "When": e.at,
                "Who": e.user or "(system)",
                "What": action_word(e.action)
                if not (e.action == "login" and e.status == "failed")
                else "Sign-in failed",
                "Source": fmt.source_label(e.sync_type) if e.sync_type else "",
                "Connector": e.connector or "",
                "Entity": fmt.ENTITY_LABEL.get(e.entity_type or "", e.entity_type or ""),
                "Status": STATUS_WORDS.get(e.status, e.status),
                "Cache": {True: "hit", False: "miss"}.get(e.cache_hit, "")
                if e.cache_hit is not None
                else "",
                "Duration": fmt.duration(e.duration_ms) if e.duration_ms else "",
                "New": (e.counts or {}).get("new"),
                "Updated": (e.counts or {}).get("updated"),
                "Deleted": (e.counts or {}).get("deleted"),
                "Error": e.error or "",
                "Details": details_text(e.action, e.details, loc),
            }
            for e in events
        ],
        columns=COLUMNS,
    )
    for column in ("New", "Updated", "Deleted"):
        frame[column] = frame[column].astype("Int64")
    frame["When"] = pd.to_datetime(frame["When"], utc=True)
    return frame


def counts_over_time(actor: Actor, flt: ActivityFilter, tz: tzinfo) -> pd.DataFrame:
    """New/updated/deleted of every successful refresh in the filter: long format for a chart."""
    events, _ = get_services().activity.list_activity(
        actor, replace(flt, action="refresh", status="ok"), limit=EXPORT_LIMIT
    )
    rows = [
        {
            "when": e.at.astimezone(tz).replace(tzinfo=None),
            "entity": fmt.ENTITY_LABEL.get(e.entity_type or "", e.entity_type or ""),
            "connector": e.connector or (fmt.source_label(e.sync_type) if e.sync_type else ""),
            "kind": fmt.KIND_LABEL[kind],
            "count": int((e.counts or {}).get(kind, 0)),
        }
        for e in events
        if e.counts
        for kind in CHANGE_KINDS
    ]
    return pd.DataFrame(rows, columns=["when", "entity", "connector", "kind", "count"])


def csv_export(actor: Actor, flt: ActivityFilter, loc: Locality) -> Callable[[], str]:
    """A callable returning every matching event as CSV (up to 10,000); times are ISO-8601
    in the reader's zone."""

    def build() -> str:
        events, _ = get_services().activity.list_activity(actor, flt, limit=EXPORT_LIMIT)
        frame = events_frame(events, loc)
        frame["When"] = [e.at.astimezone(loc.tz).isoformat(timespec="seconds") for e in events]
        return str(frame.to_csv(index=False))

    return build


# --- the history of a connector's previews ----------------------------------------------------


def history_frame(history: ConnectorHistory) -> pd.DataFrame:
    """One row per refresh, newest first: when, what, how it went, what it found, who."""
    frame = pd.DataFrame(
        [
            {
                "When": e.at,
                "Entity": fmt.ENTITY_LABEL.get(e.entity_type, e.entity_type),
                "Status": STATUS_WORDS["ok" if e.ok else "failed"],
                "New": (e.counts or {}).get("new"),
                "Updated": (e.counts or {}).get("updated"),
                "Deleted": (e.counts or {}).get("deleted"),
                "Unchanged": (e.counts or {}).get("unchanged"),
                "Duration": fmt.duration(e.duration_ms) if e.duration_ms is not None else "",
                "By": e.by or "(system)",
                "Error": e.error or "",
            }
            for e in history.entries
        ],
        columns=[
            "When",
            "Entity",
            "Status",
            "New",
            "Updated",
            "Deleted",
            "Unchanged",
            "Duration",
            "By",
            "Error",
        ],
    )
    for column in ("New", "Updated", "Deleted", "Unchanged"):
        frame[column] = frame[column].astype("Int64")
    frame["When"] = pd.to_datetime(frame["When"], utc=True)
    return frame


def history_series(history: ConnectorHistory, tz: tzinfo) -> pd.DataFrame:
    """The counts of the successful refreshes, long format, for a small chart."""
    rows = [
        {
            "when": e.at.astimezone(tz).replace(tzinfo=None),
            "entity": fmt.ENTITY_LABEL.get(e.entity_type, e.entity_type),
            "kind": fmt.KIND_LABEL[kind],
            "count": int((e.counts or {}).get(kind, 0)),
        }
        for e in history.entries
        if e.ok and e.counts
        for kind in CHANGE_KINDS
    ]
    return pd.DataFrame(rows, columns=["when", "entity", "kind", "count"])


#: The colour of each kind of change in the charts.
CHANGE_COLOURS = {"new": "#16a34a", "updated": "#2563eb", "deleted": "#dc2626"}


def changes_chart(series: pd.DataFrame, dashed_by: str) -> alt.Chart:
    """Change counts over time: a line per kind of change (its colour), dashed by
    ``dashed_by`` (a column of ``series``)."""
    return (
        alt.Chart(series)
        .mark_line(point=True)
        .encode(
            x=alt.X("when:T", title=None, axis=alt.Axis(format="%d %b %H:%M")),
            y=alt.Y("count:Q", title="records"),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(
                    domain=[fmt.KIND_LABEL[k] for k in CHANGE_COLOURS],
                    range=list(CHANGE_COLOURS.values()),
                ),
                title=None,
            ),
            strokeDash=alt.StrokeDash(f"{dashed_by}:N", title=None),
            tooltip=["when:T", *dict.fromkeys([f"{dashed_by}:N", "entity:N"]), "kind:N", "count:Q"],
        )
    )
