"""Selective sync: which kinds of change a sync of one (source, entity) may include."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db.audit import ActivityStore, SelectiveStore
from core.db.models import SelectiveConfig
from core.db.tenancy import tenant_session
from core.errors import InvalidRequest
from core.services.context import UserContext, actor_name, require
from core.services.previews import check_types

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

    def to_dict(self) -> dict[str, object]:
        """The seed's camel-case shape."""
        return {
            "syncType": self.sync_type,
            "entityType": self.entity_type,
            "includeNew": self.include_new,
            "includeUpdated": self.include_updated,
            "includeDeleted": self.include_deleted,
            "updatedBy": self.updated_by,
            "updatedAt": self.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            if self.updated_at
            else None,
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
        self, org_id: int, sync_type: str, entity_type: str
    ) -> SelectiveConfigView:
        check_types(sync_type, entity_type)
        with tenant_session(self.sessions, org_id) as s:
            row = SelectiveStore(s).get(sync_type, entity_type)
            if row is None:
                return SelectiveConfigView(
                    sync_type, entity_type, **DEFAULTS, updated_by=None, updated_at=None
                )
            return _view(row)

    def save_selective_config(
        self,
        org_id: int,
        sync_type: str,
        entity_type: str,
        *,
        include_new: bool,
        include_updated: bool,
        include_deleted: bool,
        user: UserContext | str | None = None,
    ) -> SelectiveConfigView:
        check_types(sync_type, entity_type)
        require(user if isinstance(user, UserContext) else None, "editor", "change selective sync")
        for name, value in (
            ("includeNew", include_new),
            ("includeUpdated", include_updated),
            ("includeDeleted", include_deleted),
        ):
            if not isinstance(value, bool):
                raise InvalidRequest(f"{name} must be true or false.")
        with tenant_session(self.sessions, org_id) as s:
            row = SelectiveStore(s).save(
                sync_type,
                entity_type,
                include_new=include_new,
                include_updated=include_updated,
                include_deleted=include_deleted,
                updated_by=actor_name(user),
            )
            ActivityStore(s).add(
                "select",
                user=actor_name(user),
                sync_type=sync_type,
                entity_type=entity_type,
                details={
                    "includeNew": include_new,
                    "includeUpdated": include_updated,
                    "includeDeleted": include_deleted,
                },
            )
            return _view(row)
