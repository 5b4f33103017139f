"""The activity log of one organization: appended by core.services.events, read with filters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.clock import utcnow
from core.db.models import ActivityLog
from core.db.scope import current_org


@dataclass(frozen=True)
class ActivityFilter:
    """What the activity screen filters by; None means any."""

    action: str | None = None
    sync_type: str | None = None
    entity_type: str | None = None
    user: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    connector_id: int | None = None


class ActivityStore:
    """Append and read the session organization's activity log."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        action: str,
        *,
        user: str | None,
        connector_id: int | None = None,
        sync_type: str | None = None,
        entity_type: str | None = None,
        counts: Mapping[str, int] | None = None,
        duration_ms: int | None = None,
        cache_hit: bool | None = None,
        status: str = "ok",
        error: str | None = None,
        details: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> ActivityLog:
        row = ActivityLog(
            org_id=current_org(self.session),
            user=user,
            action=action,
            connector_id=connector_id,
            sync_type=sync_type,
            entity_type=entity_type,
            counts=dict(counts) if counts is not None else None,
            duration_ms=duration_ms,
            cache_hit=cache_hit,
            status=status,
            error=error,
            details=dict(details) if details is not None else None,
            created_at=at or utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def list(
        self, flt: ActivityFilter = ActivityFilter(), *, limit: int = 50, offset: int = 0
    ) -> tuple[list[ActivityLog], int]:
        """Newest first, with the total matching count."""
        stmt = select(ActivityLog)
        for col, value in (
            (ActivityLog.action, flt.action),
            (ActivityLog.connector_id, flt.connector_id),
            (ActivityLog.sync_type, flt.sync_type),
            (ActivityLog.entity_type, flt.entity_type),
            (ActivityLog.user, flt.user),
            (ActivityLog.status, flt.status),
        ):
            if value:
                stmt = stmt.where(col == value)
        if flt.since:
            stmt = stmt.where(ActivityLog.created_at >= flt.since)
        if flt.until:
            stmt = stmt.where(ActivityLog.created_at < flt.until)
        total = int(self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = self.session.scalars(
            stmt.order_by(ActivityLog.created_at.desc(), ActivityLog.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return list(rows), total
