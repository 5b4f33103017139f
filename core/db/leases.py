"""Preview leases in SQL: one row per (organization, connector, entity) while someone
computes it.

Taking a lease is one statement (an upsert that replaces only an expired row), so two
processes can never both hold it. A row is deleted when its holder releases it, so a row
that is still there when its lease has run out was abandoned: the upsert that replaces it
keeps who had started it and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db.models import PreviewLock
from core.db.scope import current_org


@dataclass(frozen=True)
class Abandoned:
    """A lease that ran out without being released: who started its work, and when."""

    started_by: str | None
    started_at: datetime


@dataclass(frozen=True)
class Taken:
    """A lease just taken; ``abandoned`` when it replaced one whose holder never finished."""

    abandoned: Abandoned | None


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
        *,
        started_by: str | None = None,
    ) -> Taken | None:
        """Take the lease unless another holder has an unexpired one; None when not taken.

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
            started_by=started_by,
            acquired_at=now,
            lease_until=now + ttl,
            abandoned_by=None,
            abandoned_at=None,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[PreviewLock.org_id, PreviewLock.connector_id, PreviewLock.entity_type],
            set_={
                "holder": stmt.excluded.holder,
                "started_by": stmt.excluded.started_by,
                "acquired_at": stmt.excluded.acquired_at,
                "lease_until": stmt.excluded.lease_until,
                # the right-hand sides read the replaced row: the abandoned lease's
                "abandoned_by": PreviewLock.started_by,
                "abandoned_at": PreviewLock.acquired_at,
            },
            where=PreviewLock.lease_until < now,
        )
        row = self.session.execute(
            stmt.returning(PreviewLock.abandoned_by, PreviewLock.abandoned_at)
        ).first()
        if row is None:
            return None
        by, at = row
        return Taken(Abandoned(by, at) if at is not None else None)

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
