"""Warming choices of one organization: per (connector, entity), whether workers keep the
preview warm and how often they refresh it."""

from __future__ import annotations

from sqlalchemy import select
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
        row.updated_at = utcnow()
        self.session.flush()
        return row
