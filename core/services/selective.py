"""Selective sync: which kinds of change a sync from one connector of one entity may include.

Settings belong to a connector (a sync is from one store); a caller names it by id or name,
or names only a source and gets that source's default connector.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db.models import SelectiveConfig
from core.db.selective import SelectiveStore
from core.db.tenancy import tenant_session
from core.errors import InvalidRequest
from core.services.actors import CHANGE_SELECTIVE_SYNC, VIEW, Actor, authorize
from core.services.checks import check_named
from core.services.connectors import ConnectorChoice, ConnectorIdentity, find_connector
from core.services.events import SelectiveSyncSaved, record

DEFAULTS = {"include_new": True, "include_updated": True, "include_deleted": False}


@dataclass(frozen=True)
class SelectiveConfigView:
    """The saved choice (or the defaults: new and updated yes, deletions no) of one
    connector's entity."""

    connector_id: int
    connector_name: str
    sync_type: str
    entity_type: str
    include_new: bool
    include_updated: bool
    include_deleted: bool
    updated_by: str | None
    updated_at: datetime | None

    def included_counts(self, counts: dict[str, int]) -> dict[str, int]:
        """What a sync with this choice would apply, given a preview's counts."""
        return {
            "new": counts.get("new", 0) if self.include_new else 0,
            "updated": counts.get("updated", 0) if self.include_updated else 0,
            "deleted": counts.get("deleted", 0) if self.include_deleted else 0,
        }


def _view(row: SelectiveConfig, connector: ConnectorIdentity) -> SelectiveConfigView:
    return SelectiveConfigView(
        connector.id,
        connector.name,
        row.sync_type,
        row.entity_type,
        row.include_new,
        row.include_updated,
        row.include_deleted,
        row.updated_by,
        row.updated_at,
    )


class SelectiveSyncService:
    """Read and save selective-sync settings; saving is logged in the same transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def get_selective_config(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
    ) -> SelectiveConfigView:
        """The saved choice for ``connector`` (the default connector of ``sync_type`` when
        None), or the defaults."""
        check_named(sync_type, entity_type)
        authorize(actor, VIEW)
        chosen = find_connector(self.sessions, actor.org_id, connector, sync_type)
        with tenant_session(self.sessions, actor.org_id) as s:
            row = SelectiveStore(s).get(chosen.id, entity_type)
            if row is None:
                return SelectiveConfigView(
                    chosen.id,
                    chosen.name,
                    chosen.sync_type,
                    entity_type,
                    **DEFAULTS,
                    updated_by=None,
                    updated_at=None,
                )
            return _view(row, chosen)

    def save_selective_config(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
        include_new: bool,
        include_updated: bool,
        include_deleted: bool,
    ) -> SelectiveConfigView:
        """Save the choice for ``connector`` (the default connector of ``sync_type`` when
        None), logged in the same transaction."""
        check_named(sync_type, entity_type)
        authorize(actor, CHANGE_SELECTIVE_SYNC)
        for name, value in (
            ("includeNew", include_new),
            ("includeUpdated", include_updated),
            ("includeDeleted", include_deleted),
        ):
            if not isinstance(value, bool):
                raise InvalidRequest(f"{name} must be true or false.")
        chosen = find_connector(self.sessions, actor.org_id, connector, sync_type)
        with tenant_session(self.sessions, actor.org_id) as s:
            row = SelectiveStore(s).save(
                chosen.id,
                chosen.sync_type,
                entity_type,
                include_new=include_new,
                include_updated=include_updated,
                include_deleted=include_deleted,
                updated_by=actor.log_name,
            )
            event = SelectiveSyncSaved(
                connector_id=chosen.id,
                connector=chosen.name,
                sync_type=chosen.sync_type,
                entity_type=entity_type,
                include_new=include_new,
                include_updated=include_updated,
                include_deleted=include_deleted,
            )
            record(s, event, by=actor.log_name)
            return _view(row, chosen)
