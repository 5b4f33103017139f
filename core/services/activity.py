"""The audit trail: filtered reading, and the figures operators watch (writing: events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.db.audit import ActivityFilter, ActivityStore
from core.db.tenancy import tenant_session
from core.services.actors import VIEW, Actor, authorize
from core.services.events import PreviewRefreshed, PreviewViewed

__all__ = ["ActivityEntry", "ActivityFilter", "ActivityService", "OperationalStats"]


@dataclass(frozen=True)
class ActivityEntry:
    """One row of the activity log, as shown and exported."""

    id: int
    at: datetime
    user: str | None
    action: str
    connector_id: int | None
    sync_type: str | None
    entity_type: str | None
    status: str
    cache_hit: bool | None
    duration_ms: int | None
    counts: dict[str, int] | None
    error: str | None
    details: dict[str, Any] | None

    @property
    def connector(self) -> str | None:
        """The name of the connector the event is about (kept after it is deleted)."""
        name = (self.details or {}).get("connector")
        return str(name) if name is not None else None


@dataclass(frozen=True)
class OperationalStats:
    """Cache hit ratio, refresh durations, failures and timeouts over a period."""

    views: int
    cache_hits: int
    refreshes: int
    failures: int
    timeouts: int
    p50_ms: int | None
    p95_ms: int | None
    failures_by_source: dict[str, int]
    timeouts_by_source: dict[str, int]

    @property
    def cache_hit_ratio(self) -> float | None:
        total = self.cache_hits + self.refreshes
        return None if total == 0 else self.cache_hits / total


def _percentile(values: list[int], q: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _by_source(events: list[ActivityEntry]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in events:
        out[e.sync_type or "-"] = out.get(e.sync_type or "-", 0) + 1
    return out


class ActivityService:
    """Reads the organization's activity log."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def list_activity(
        self, actor: Actor, flt: ActivityFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[ActivityEntry], int]:
        """Newest first; the total of matching rows for paging."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            rows, total = ActivityStore(s).list(
                flt or ActivityFilter(), limit=max(1, min(limit, 10_000)), offset=max(0, offset)
            )
            events = [
                ActivityEntry(
                    r.id,
                    r.created_at,
                    r.user,
                    r.action,
                    r.connector_id,
                    r.sync_type,
                    r.entity_type,
                    r.status,
                    r.cache_hit,
                    r.duration_ms,
                    r.counts,
                    r.error,
                    r.details,
                )
                for r in rows
            ]
        return events, total

    def stats(self, actor: Actor, flt: ActivityFilter | None = None) -> OperationalStats:
        """The operational figures for the filtered period."""
        events, _ = self.list_activity(actor, flt, limit=10_000)
        views = [e for e in events if e.action == PreviewViewed.name]
        hits = [e for e in views if e.cache_hit]
        refreshes = [e for e in events if e.action == PreviewRefreshed.name]
        ok = [e.duration_ms for e in refreshes if e.status == "ok" and e.duration_ms is not None]
        failed = [e for e in refreshes if e.status == "failed"]
        timeouts = [e for e in failed if (e.details or {}).get("error_type") == "ExternalTimeout"]
        return OperationalStats(
            views=len(views),
            cache_hits=len(hits),
            refreshes=len(refreshes),
            failures=len(failed),
            timeouts=len(timeouts),
            p50_ms=_percentile(ok, 0.5),
            p95_ms=_percentile(ok, 0.95),
            failures_by_source=_by_source(failed),
            timeouts_by_source=_by_source(timeouts),
        )
