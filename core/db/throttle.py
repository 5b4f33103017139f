"""Failed sign-ins per key (an account, a client address) and until when each must wait."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db.models import SignInThrottle


class ThrottleRows:
    """The sign-in throttle: one row per key that failed recently."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def blocked_until(self, keys: Sequence[str], now: datetime) -> datetime | None:
        """The latest moment any of ``keys`` must wait until, when that is after ``now``."""
        until = self.session.scalar(
            select(func.max(SignInThrottle.blocked_until)).where(
                SignInThrottle.key.in_(keys), SignInThrottle.blocked_until > now
            )
        )
        return until

    def fail(
        self,
        key: str,
        now: datetime,
        wait: Callable[[int], float],
        forget_after: timedelta,
    ) -> tuple[int, datetime | None]:
        """Count a failure of ``key`` (failures older than ``forget_after`` are forgotten);
        returns the failures in a row and until when the key must wait (None: no wait)."""
        row = self.session.scalars(
            select(SignInThrottle).where(SignInThrottle.key == key).with_for_update()
        ).first()
        if row is None:
            row = SignInThrottle(key=key, failures=0, last_failure_at=now)
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                    self.session.flush()
            except IntegrityError:  # counted at the same moment elsewhere: count on that row
                row = self.session.scalars(
                    select(SignInThrottle).where(SignInThrottle.key == key).with_for_update()
                ).one()
        if row.last_failure_at < now - forget_after:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        seconds = wait(row.failures)
        row.blocked_until = now + timedelta(seconds=seconds) if seconds > 0 else None
        self.session.flush()
        return row.failures, row.blocked_until

    def clear(self, key: str) -> int:
        """Forget the failures of ``key``; returns 1 when there were any."""
        result = self.session.execute(
            delete(SignInThrottle)
            .where(SignInThrottle.key == key)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
