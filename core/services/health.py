"""Is this process able to serve? Our database, the rate-limit store, failures not yet stored.

Answered without signing in (``GET /api/healthz``): it names no organization and no secret.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core.db.tenancy import system_session
from core.errors import StoreError
from core.services.ratelimit import OrgRateLimiter


@dataclass(frozen=True)
class Health:
    """``database``: ok or unreachable; ``rate_limits``: where counts are kept (and why in
    memory when Redis is set); ``pending_failures``: failed refreshes kept in memory until
    the database answers; ``warnings``: sentences for an operator."""

    database: str
    rate_limits: str
    pending_failures: int
    warnings: tuple[str, ...]

    @property
    def status(self) -> str:
        """``ok``, ``degraded`` (serving, with warnings) or ``down`` (no database)."""
        if self.database != "ok":
            return "down"
        return "degraded" if self.warnings else "ok"


class HealthService:
    """Checks the parts a request needs."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        limiters: Sequence[OrgRateLimiter],
        pending_failures: Callable[[], int],
    ) -> None:
        self.sessions = sessions
        self.limiters = limiters
        self.pending_failures = pending_failures

    def check(self) -> Health:
        """One round trip to the database and a look at the limiters (no Redis call)."""
        warnings: list[str] = []
        try:
            with system_session(self.sessions) as s:
                s.execute(text("SELECT 1"))
            database = "ok"
        except StoreError as err:
            database = "unreachable"
            warnings.append(str(err))
        states = [limiter.state for limiter in self.limiters]
        rate_limits = next((st for st in states if st.startswith("memory:")), states[0])
        if any(limiter.degraded for limiter in self.limiters):
            warnings.append(
                f"{rate_limits}; rate limits are counted per process until it answers again."
            )
        pending = self.pending_failures()
        if pending:
            warnings.append(
                f"{pending} failed refresh(es) will be recorded when the database answers."
            )
        return Health(database, rate_limits, pending, tuple(warnings))
