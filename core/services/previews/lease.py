"""The lease: at most one computation of a preview at a time, across every process.

Whoever computes a preview holds its lease: a row in our database with an expiry, so that a
process that dies mid-way blocks the preview only until its lease runs out. A holder that
works longer than the lease renews it (``renew``); ``release`` ends it early.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.db.leases import LeaseRows
from core.db.tenancy import tenant_session
from core.errors import NotFoundError
from core.services.previews.snapshots import Clock, PreviewKey


class PreviewLease:
    """Leases of previews, each of ``ttl`` from when it is taken or renewed."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, ttl: timedelta) -> None:
        self.sessions = sessions
        self.clock = clock
        self.ttl = ttl

    def acquire(self, key: PreviewKey, holder: str) -> bool:
        """Take the lease for ``holder``; False while someone else holds it."""
        try:
            with tenant_session(self.sessions, key.org_id) as s:
                return LeaseRows(s).acquire(
                    key.connector_id, key.sync_type, key.entity_type, holder, self.clock(), self.ttl
                )
        except IntegrityError:  # the row's only references: its organization and connector
            raise NotFoundError(
                "The connector of this preview no longer exists (it was deleted)."
            ) from None

    def renew(self, key: PreviewKey, holder: str) -> bool:
        """Extend ``holder``'s lease by ``ttl`` from now; False when it is no longer theirs."""
        with tenant_session(self.sessions, key.org_id) as s:
            return LeaseRows(s).renew(
                key.connector_id, key.entity_type, holder, self.clock(), self.ttl
            )

    def release(self, key: PreviewKey, holder: str) -> None:
        """End ``holder``'s lease (nothing happens when it is not theirs)."""
        with tenant_session(self.sessions, key.org_id) as s:
            LeaseRows(s).release(key.connector_id, key.entity_type, holder)

    def is_held(self, key: PreviewKey) -> bool:
        """True while someone holds an unexpired lease of this preview."""
        with tenant_session(self.sessions, key.org_id) as s:
            return LeaseRows(s).is_held(key.connector_id, key.entity_type, self.clock())
