"""Always-warm previews: per (connector, entity), an organization's admins choose whether the
workers keep the preview warm — off, hourly or every N minutes (N ≥ 5) — and anyone reads the
choice. The workers' scheduler (``JobService.warm``) refreshes the previews whose choice is on
when their newest snapshot is older than the interval or expires soon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db.models import WarmChoice
from core.db.tenancy import tenant_session
from core.db.warming import WarmStore
from core.errors import InvalidRequest
from core.services.actors import CHOOSE_WARM_PREVIEWS, VIEW, Actor, authorize
from core.services.checks import check_named
from core.services.connectors import ConnectorChoice, find_connector
from core.services.events import WarmChoiceSaved, record

#: The shortest interval an organization may choose.
MIN_EVERY_MINUTES = 5
#: The longest (one week).
MAX_EVERY_MINUTES = 7 * 24 * 60
HOURLY = 60


@dataclass(frozen=True)
class WarmChoiceView:
    """Whether one connector's preview of one entity is kept warm (``every_minutes``; None:
    off), and who chose it when."""

    connector_id: int
    connector_name: str
    sync_type: str
    entity_type: str
    every_minutes: int | None
    updated_by: str | None
    updated_at: datetime | None

    @property
    def on(self) -> bool:
        return self.every_minutes is not None

    def describe(self) -> str:
        """The choice in words: "off", "every hour", "every 15 minutes"."""
        if self.every_minutes is None:
            return "off"
        if self.every_minutes == HOURLY:
            return "every hour"
        return f"every {self.every_minutes} minutes"

    def to_dict(self) -> dict[str, object]:
        return {
            "connectorId": self.connector_id,
            "connector": self.connector_name,
            "syncType": self.sync_type,
            "entityType": self.entity_type,
            "everyMinutes": self.every_minutes,
            "updatedBy": self.updated_by,
            "updatedAt": self.updated_at.isoformat() if self.updated_at else None,
        }


def _view(row: WarmChoice, connector_name: str) -> WarmChoiceView:
    return WarmChoiceView(
        row.connector_id,
        connector_name,
        row.sync_type,
        row.entity_type,
        row.every_minutes,
        row.updated_by,
        row.updated_at,
    )


def check_every(every_minutes: int | None) -> None:
    """Refuse an interval that is not a whole number of minutes between 5 and a week."""
    if every_minutes is None:
        return
    if isinstance(every_minutes, bool) or not isinstance(every_minutes, int):
        raise InvalidRequest("The warming interval must be a whole number of minutes.")
    if not MIN_EVERY_MINUTES <= every_minutes <= MAX_EVERY_MINUTES:
        raise InvalidRequest(
            f"The warming interval must be between {MIN_EVERY_MINUTES} minutes and "
            f"{MAX_EVERY_MINUTES} minutes (a week); got {every_minutes}."
        )


class WarmingService:
    """Read and set warming choices; setting one is logged in the same transaction."""

    MIN_EVERY_MINUTES = MIN_EVERY_MINUTES
    MAX_EVERY_MINUTES = MAX_EVERY_MINUTES
    HOURLY = HOURLY

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def get_warm_choice(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        *,
        connector: ConnectorChoice = None,
    ) -> WarmChoiceView:
        """The choice for ``connector`` (the default connector of ``sync_type`` when None);
        off when none was made."""
        check_named(sync_type, entity_type)
        authorize(actor, VIEW)
        chosen = find_connector(self.sessions, actor.org_id, connector, sync_type)
        with tenant_session(self.sessions, actor.org_id) as s:
            row = WarmStore(s).get(chosen.id, entity_type)
            if row is None:
                return WarmChoiceView(
                    chosen.id, chosen.name, chosen.sync_type, entity_type, None, None, None
                )
            return _view(row, chosen.name)

    def list_warm_choices(self, actor: Actor) -> list[WarmChoiceView]:
        """Every choice made in the organization (on or off), by connector and entity."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            return [_view(r, r.connector.name) for r in WarmStore(s).all()]

    def set_warm_choice(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        every_minutes: int | None,
        *,
        connector: ConnectorChoice = None,
    ) -> WarmChoiceView:
        """Keep the preview of ``connector`` (the default connector of ``sync_type`` when
        None) warm every ``every_minutes`` minutes, or not (None); admins only, logged."""
        check_named(sync_type, entity_type)
        authorize(actor, CHOOSE_WARM_PREVIEWS)
        check_every(every_minutes)
        chosen = find_connector(self.sessions, actor.org_id, connector, sync_type)
        with tenant_session(self.sessions, actor.org_id) as s:
            row = WarmStore(s).save(
                chosen.id, chosen.sync_type, entity_type, every_minutes, actor.log_name
            )
            record(
                s,
                WarmChoiceSaved(
                    connector_id=chosen.id,
                    connector=chosen.name,
                    sync_type=chosen.sync_type,
                    entity_type=entity_type,
                    every_minutes=every_minutes,
                ),
                by=actor.log_name,
            )
            return _view(row, chosen.name)
