"""Warming choices of one organization: per (connector, entity), whether workers keep the
preview warm and how often they refresh it, and whether the scheduler stopped warming it
after a terminal error (and why)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db.clock import utcnow
from core.db.models import WarmChoice
from core.db.scope import current_org


class WarmStore:
    """Per (connector, entity): refresh every N minutes, or off (None)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, connector_id: int, entity_type: str) -> WarmChoice | None:
        return self.session.scalars(
            select(WarmChoice).where(
                WarmChoice.connector_id == connector_id,
                WarmChoice.entity_type == entity_type,
            )
        ).first()

    def all(self) -> list[WarmChoice]:
        return list(
            self.session.scalars(
                select(WarmChoice).order_by(WarmChoice.connector_id, WarmChoice.entity_type)
            )
        )

    def save(
        self,
        connector_id: int,
        sync_type: str,
        entity_type: str,
        every_minutes: int | None,
        updated_by: str | None,
        now: datetime | None = None,
    ) -> WarmChoice:
        row = self.get(connector_id, entity_type)
        if row is None:
            row = WarmChoice(
                org_id=current_org(self.session),
                connector_id=connector_id,
                sync_type=sync_type,
                entity_type=entity_type,
            )
            self.session.add(row)
        row.every_minutes = every_minutes
        row.updated_by = updated_by
        row.updated_at = now or utcnow()
        row.stopped_at = row.stopped_reason = row.stopped_error = None  # saved again: resumed
        row.resumed_at = None
        self.session.flush()
        return row

    def stop(
        self, connector_id: int, entity_type: str | None, at: datetime, reason: str, error: str
    ) -> list[WarmChoice]:
        """Stop warming the preview of ``entity_type`` of the connector (every entity's when
        None) that is on and not stopped yet; the choices stopped now."""
        stmt = select(WarmChoice).where(
            WarmChoice.connector_id == connector_id,
            WarmChoice.every_minutes.is_not(None),
            WarmChoice.stopped_at.is_(None),
        )
        if entity_type is not None:
            stmt = stmt.where(WarmChoice.entity_type == entity_type)
        rows = list(self.session.scalars(stmt.order_by(WarmChoice.entity_type)))
        if rows:
            # a statement that sets updated_at to itself: who chose the interval, and when,
            # stays as it was (the column's onupdate would say "now")
            self.session.execute(
                update(WarmChoice)
                .where(WarmChoice.id.in_([r.id for r in rows]))
                .values(
                    stopped_at=at,
                    stopped_reason=reason,
                    stopped_error=error[:64],
                    updated_at=WarmChoice.updated_at,
                )
                .execution_options(synchronize_session="fetch")
            )
            for r in rows:
                self.session.refresh(r)
        return rows

    def resume_connector(self, connector_id: int, at: datetime) -> int:
        """Warm again, from ``at``, the connector's previews stopped after an error (its
        settings changed); how many."""
        done = self.session.execute(
            update(WarmChoice)
            .where(WarmChoice.connector_id == connector_id, WarmChoice.stopped_at.is_not(None))
            .values(
                stopped_at=None,
                stopped_reason=None,
                stopped_error=None,
                resumed_at=at,
                updated_at=WarmChoice.updated_at,
            )
            .execution_options(synchronize_session=False)
        )
        return int(done.rowcount)  # type: ignore[attr-defined]
