"""Selective sync: which kinds of change a sync of one (source, entity) may include."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db.models import SelectiveConfig
from core.db.selective import SelectiveStore
from core.db.tenancy import tenant_session
from core.errors import InvalidRequest
from core.services.actors import CHANGE_SELECTIVE_SYNC, VIEW, Actor, authorize
from core.services.checks import check_types
from core.services.events import SelectiveSyncSaved, record

DEFAULTS = {"include_new": True, "include_updated": True, "include_deleted": False}


@dataclass(frozen=True)
class SelectiveConfigView:
    """The saved choice (or the defaults: new and updated yes, deletions no)."""

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


def _view(row: SelectiveConfig) -> SelectiveConfigView:
    return SelectiveConfigView(
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
        self, actor: Actor, sync_type: str, entity_type: str
    ) -> SelectiveConfigView:
        """The saved choice of the actor's organization, or the defaults."""
        check_types(sync_type, entity_type)
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            row = SelectiveStore(s).get(sync_type, entity_type)
            if row is None:
                return SelectiveConfigView(
                    sync_type, entity_type, **DEFAULTS, updated_by=None, updated_at=None
                )
            return _view(row)

    def save_selective_config(
        self,
        actor: Actor,
        sync_type: str,
        entity_type: str,
        *,
        include_new: bool,
        include_updated: bool,
        include_deleted: bool,
    ) -> SelectiveConfigView:
        """Save the choice (logged in the same transaction)."""
        check_types(sync_type, entity_type)
        authorize(actor, CHANGE_SELECTIVE_SYNC)
        for name, value in (
            ("includeNew", include_new),
            ("includeUpdated", include_updated),
            ("includeDeleted", include_deleted),
        ):
            if not isinstance(value, bool):
                raise InvalidRequest(f"{name} must be true or false.")
        with tenant_session(self.sessions, actor.org_id) as s:
            row = SelectiveStore(s).save(
                sync_type,
                entity_type,
                include_new=include_new,
                include_updated=include_updated,
                include_deleted=include_deleted,
                updated_by=actor.log_name,
            )
            event = SelectiveSyncSaved(
                sync_type, entity_type, include_new, include_updated, include_deleted
            )
            record(s, event, by=actor.log_name)
            return _view(row)
