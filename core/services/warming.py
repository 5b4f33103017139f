"""Always-warm previews: per (connector, entity), an organization's admins choose whether the
workers keep the preview warm — off, hourly or every N minutes (N ≥ 5) — and anyone reads the
choice. The workers' scheduler (``JobService.warm``) refreshes the previews whose choice is on
when their newest snapshot is older than the interval or expires soon.

A scheduled refresh that fails with a transient error (``core.errors``: a timeout, 429, 5xx,
a store that cannot be reached) is tried again after a back-off. One that fails with a
terminal error stops the warming (:meth:`WarmingService.stop_after_failure`): of that
preview, or of every preview of the connector when the connector's own settings are wrong
(credentials refused, no store at that address). The choice then says when and why, and the
scheduler leaves it alone until an admin saves the choice again or changes the connector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db.clock import utcnow
from core.db.models import WarmChoice
from core.db.tenancy import tenant_session
from core.db.warming import WarmStore
from core.errors import (
    AuthError,
    BadQuery,
    InvalidRequest,
    RemoteNotFound,
    SyncPreviewError,
    UnreadableValue,
)
from core.services.actors import CHOOSE_WARM_PREVIEWS, VIEW, Actor, Scheduler, authorize
from core.services.checks import check_named
from core.services.connectors import ConnectorChoice, find_connector
from core.services.events import WarmChoiceSaved, WarmingStopped, record

#: The shortest interval an organization may choose.
MIN_EVERY_MINUTES = 5
#: The longest (one week).
MAX_EVERY_MINUTES = 7 * 24 * 60
HOURLY = 60
#: Errors about the connector itself, not one entity: they stop every preview of it.
CONNECTOR_WIDE: tuple[type[SyncPreviewError], ...] = (AuthError, RemoteNotFound)
#: What to fix, by the kind of error that stopped the warming (others: the general advice).
FIX = {
    AuthError.__name__: "Fix the connector's credentials on the Connectors page",
    RemoteNotFound.__name__: "Fix the connector's address on the Connectors page",
    BadQuery.__name__: "Fix the mapping of this entity to your database on the Connectors page",
    UnreadableValue.__name__: "Fix the value in your database (or its mapping)",
}


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
    stopped_at: datetime | None = None
    stopped_reason: str | None = None
    stopped_error: str | None = None

    @property
    def on(self) -> bool:
        return self.every_minutes is not None

    @property
    def stopped(self) -> bool:
        """True when the scheduler stopped warming it after a terminal error."""
        return self.on and self.stopped_at is not None

    def fix(self) -> str:
        """What to do about the error that stopped the warming, as the start of a sentence."""
        return FIX.get(self.stopped_error or "", "Fix what the error says")

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
            "stoppedAt": self.stopped_at.isoformat() if self.stopped_at and self.on else None,
            "stoppedReason": self.stopped_reason if self.stopped else None,
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
        row.stopped_at,
        row.stopped_reason,
        row.stopped_error,
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

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] | None = None
    ) -> None:
        self.sessions = sessions
        self.clock = clock or utcnow

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
                chosen.id,
                chosen.sync_type,
                entity_type,
                every_minutes,
                actor.log_name,
                self.clock(),
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

    def stop_after_failure(
        self,
        actor: Scheduler,
        connector_id: int,
        entity_type: str,
        err: SyncPreviewError,
        at: datetime,
    ) -> list[WarmChoiceView]:
        """The scheduler's refresh of this preview failed with ``err``: when it is terminal,
        stop warming the preview (every preview of the connector for ``CONNECTOR_WIDE``
        errors) and log it, by "scheduler"; the choices stopped now (none when ``err`` is
        transient: the scheduler backs off and tries again)."""
        if err.transient:
            return []
        entity: str | None = None if isinstance(err, CONNECTOR_WIDE) else entity_type
        with tenant_session(self.sessions, actor.org_id) as s:
            rows = WarmStore(s).stop(connector_id, entity, at, str(err), type(err).__name__)
            if not rows:
                return []
            connector_name = rows[0].connector.name
            record(
                s,
                WarmingStopped(
                    connector_id=connector_id,
                    connector=connector_name,
                    sync_type=rows[0].sync_type,
                    entity_type=entity,
                    error=str(err),
                    error_type=type(err).__name__,
                    entities=tuple(r.entity_type for r in rows),
                ),
                by=actor.log_name,
                at=at,
            )
            return [_view(r, connector_name) for r in rows]
