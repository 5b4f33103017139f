"""The previews computed over time, per connector: when, by whom, how long, what they found
(or why they failed), read from the activity log (stored snapshots are pruned to the newest
few; the log keeps every refresh, with the connector it read).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db.audit import ActivityFilter, ActivityStore
from core.db.connector_store import ConnectorStore, ConnectorView
from core.db.models import ActivityLog
from core.db.tenancy import tenant_session
from core.db.vault import Vault
from core.services.events import PreviewRefreshed
from core.sources.address import mask_addresses_in

#: The most refreshes one history reads.
MAX_ENTRIES = 1000


@dataclass(frozen=True)
class HistoryEntry:
    """One refresh of one of a connector's previews."""

    at: datetime
    entity_type: str
    ok: bool
    counts: dict[str, int] | None
    duration_ms: int | None
    by: str | None
    error: str | None


@dataclass(frozen=True)
class ConnectorHistory:
    """A connector and its refreshes, newest first."""

    connector: ConnectorView
    entries: list[HistoryEntry]


class PreviewHistory:
    """Reads the refreshes of a connector's previews from the activity log."""

    def __init__(self, sessions: sessionmaker[Session], vault: Vault) -> None:
        self.sessions = sessions
        self.vault = vault

    def of_connector(
        self,
        org_id: int,
        connector_id: int,
        *,
        entity_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = MAX_ENTRIES,
    ) -> ConnectorHistory:
        """The connector's refreshes (of one entity, or all) in [since, until), newest first."""
        with tenant_session(self.sessions, org_id) as s:
            connector = ConnectorStore(s, self.vault).get(connector_id)
            flt = ActivityFilter(entity_type=entity_type, since=since, until=until)
            rows = _refreshes_of(s, connector, flt, max(1, min(limit, MAX_ENTRIES)))
            entries = [
                HistoryEntry(
                    at=r.created_at,
                    entity_type=r.entity_type or "",
                    ok=r.status == "ok",
                    counts={k: int(v) for k, v in r.counts.items()} if r.counts else None,
                    duration_ms=r.duration_ms,
                    by=r.user,
                    error=mask_addresses_in(r.error) if r.error else None,
                )
                for r in rows
            ]
        return ConnectorHistory(connector, entries)


def _refreshes_of(
    session: Session, connector: ConnectorView, flt: ActivityFilter, limit: int
) -> list[ActivityLog]:
    """The refresh rows of the connector's previews (of ``flt``'s entity and period)."""
    flt = replace(flt, action=PreviewRefreshed.name, connector_id=connector.id)
    rows, _ = ActivityStore(session).list(flt, limit=limit)
    return rows
