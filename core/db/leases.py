"""Preview leases in SQL: one row per (organization, connector, entity) while someone
computes it.

Taking a lease is one statement (an upsert that replaces only an expired row), so two
processes can never both hold it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db.models import PreviewLock
from core.db.scope import current_org


class LeaseRows:
    """The lease rows of the session organization's previews."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def acquire(
        self,
        connector_id: int,
        sync_type: str,
        entity_type: str,
        holder: str,
        now: datetime,
        ttl: timedelta,
    ) -> bool:
        """Take the lease unless another holder has an unexpired one; True when taken.

        An IntegrityError means the organization or the connector does not exist.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(PreviewLock).values(
            org_id=current_org(self.session),
            connector_id=connector_id,
            sync_type=sync_type,
            entity_type=entity_type,
            holder=holder,
            acquired_at=now,
            lease_until=now + ttl,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[PreviewLock.org_id, PreviewLock.connector_id, PreviewLock.entity_type],
            set_={
                "holder": stmt.excluded.holder,
                "acquired_at": stmt.excluded.acquired_at,
                "lease_until": stmt.excluded.lease_until,
            },
            where=PreviewLock.lease_until < now,
        )
        return self.session.execute(stmt.returning(PreviewLock.holder)).first() is not None

    def renew(
        self, connector_id: int, entity_type: str, holder: str, now: datetime, ttl: timedelta
    ) -> bool:
        """Extend ``holder``'s lease to ``now + ttl``; False when it is no longer theirs."""
        result = self.session.execute(
            update(PreviewLock)
            .where(
                PreviewLock.connector_id == connector_id,
                PreviewLock.entity_type == entity_type,
                PreviewLock.holder == holder,
            )
            .values(lease_until=now + ttl)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def release(self, connector_id: int, entity_type: str, holder: str) -> None:
        """Give up ``holder``'s lease (nothing happens when it is not theirs)."""
        self.session.execute(
            delete(PreviewLock)
            .where(
                PreviewLock.connector_id == connector_id,
                PreviewLock.entity_type == entity_type,
                PreviewLock.holder == holder,
            )
            .execution_options(synchronize_session=False)
        )

    def is_held(self, connector_id: int, entity_type: str, now: datetime) -> bool:
        """True while an unexpired lease exists."""
        stmt = select(func.count(PreviewLock.id)).where(
            PreviewLock.connector_id == connector_id,
            PreviewLock.entity_type == entity_type,
            PreviewLock.lease_until >= now,
        )
        return bool(self.session.scalar(stmt))
