"""The lease: at most one computation of a preview at a time, across every process.

Whoever computes a preview holds its lease: a row in our database with a short expiry
(REFRESH_LEASE_SECONDS), renewed by a heartbeat (``core.services.heartbeat``) while the work
is alive, so that a process that dies mid-way blocks the preview only for a few seconds.
``release`` ends it early; a lease taken over after it ran out says whose work was
abandoned (``Taken.abandoned``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.db.leases import Abandoned, LeaseRows, Taken
from core.db.tenancy import tenant_session
from core.errors import NotFoundError, StoreError
from core.services.heartbeat import Heartbeat
from core.services.previews.snapshots import Clock, PreviewKey

__all__ = ["Abandoned", "PreviewLease", "Taken"]

log = logging.getLogger(__name__)


class PreviewLease:
    """Leases of previews, each of ``ttl`` from when it is taken or renewed."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, ttl: timedelta) -> None:
        self.sessions = sessions
        self.clock = clock
        self.ttl = ttl

    def acquire(self, key: PreviewKey, holder: str, *, by: str | None = None) -> Taken | None:
        """Take the lease for ``holder`` (whose work ``by`` started); None while someone
        else holds it."""
        try:
            with tenant_session(self.sessions, key.org_id) as s:
                return LeaseRows(s).acquire(
                    key.connector_id,
                    key.sync_type,
                    key.entity_type,
                    holder,
                    self.clock(),
                    self.ttl,
                    started_by=by,
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
        """End ``holder``'s lease (nothing happens when it is not theirs). When the database
        does not answer, the lease is left to run out by itself."""
        try:
            with tenant_session(self.sessions, key.org_id) as s:
                LeaseRows(s).release(key.connector_id, key.entity_type, holder)
        except StoreError as err:
            if not err.transient:
                raise
            log.warning(
                "could not release the lease of %s/%s (org %s): %s; it runs out in %s s",
                key.sync_type,
                key.entity_type,
                key.org_id,
                err,
                int(self.ttl.total_seconds()),
            )

    def is_held(self, key: PreviewKey) -> bool:
        """True while someone holds an unexpired lease of this preview."""
        with tenant_session(self.sessions, key.org_id) as s:
            return LeaseRows(s).is_held(key.connector_id, key.entity_type, self.clock())

    @contextmanager
    def kept(self, key: PreviewKey, holder: str) -> Iterator[Heartbeat]:
        """Keep ``holder``'s lease alive while the block runs (a heartbeat), release it after."""
        try:
            with Heartbeat(lambda: self.renew(key, holder), ttl=self.ttl.total_seconds()) as beat:
                yield beat
        finally:
            self.release(key, holder)
