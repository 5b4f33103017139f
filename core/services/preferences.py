"""What each signed-in user chose last, kept in our database: the same choice after signing
out and in again, and in another browser."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from core.db.preferences import PreferenceStore
from core.db.tenancy import tenant_session
from core.services.actors import VIEW, UserContext, authorize

#: The connector a user last picked on the Preview (and Selective sync) screen.
CONNECTOR = "connector"


class PreferenceService:
    """Read and remember a user's choices (each user their own; nothing is logged)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def connector(self, user: UserContext) -> int | None:
        """The id of the connector ``user`` picked last, if any (it may have been deleted
        since: the caller checks it against the connectors it lists)."""
        authorize(user, VIEW)
        with tenant_session(self.sessions, user.org_id) as s:
            value = PreferenceStore(s).get(user.user_id, CONNECTOR)
        chosen = (value or {}).get("id")
        return chosen if isinstance(chosen, int) else None

    def remember_connector(self, user: UserContext, connector_id: int) -> None:
        """Remember the connector ``user`` picked."""
        authorize(user, VIEW)
        with tenant_session(self.sessions, user.org_id) as s:
            PreferenceStore(s).set(user.user_id, CONNECTOR, {"id": int(connector_id)})
