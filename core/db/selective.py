"""Selective-sync settings of one organization: per (connector, entity), which kinds of change
a sync from that connector may include."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.clock import utcnow
from core.db.models import SelectiveConfig
from core.db.scope import current_org


class SelectiveStore:
    """Per (connector, entity): which kinds of change a sync may include."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, connector_id: int, entity_type: str) -> SelectiveConfig | None:
        return self.session.scalars(
            select(SelectiveConfig).where(
                SelectiveConfig.connector_id == connector_id,
                SelectiveConfig.entity_type == entity_type,
            )
        ).first()

    def save(
        self,
        connector_id: int,
        sync_type: str,
        entity_type: str,
        *,
        include_new: bool,
        include_updated: bool,
        include_deleted: bool,
        updated_by: str | None,
    ) -> SelectiveConfig:
        row = self.get(connector_id, entity_type)
        if row is None:
            row = SelectiveConfig(
                org_id=current_org(self.session),
                connector_id=connector_id,
                sync_type=sync_type,
                entity_type=entity_type,
            )
            self.session.add(row)
        row.include_new = include_new
        row.include_updated = include_updated
        row.include_deleted = include_deleted
        row.updated_by = updated_by
        row.updated_at = utcnow()
        self.session.flush()
        return row
