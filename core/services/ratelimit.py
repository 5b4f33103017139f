"""Per-organization rate limits (the `limits` library): fresh previews, JSON API requests.

With REDIS_URL set the counts live in Redis, so every app process shares them; otherwise
they are kept in this process's memory. When Redis cannot be reached, counting goes on in
memory (each process then counts alone) with a warning in the log and on the health check
(``state``), and Redis is tried again every ``RETRY_SECONDS``: a rate-limit store that is
down never stops previews from being served.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.errors import ConfigError, RefreshRateLimited

log = logging.getLogger(__name__)

#: How long counting stays in memory before Redis is tried again.
RETRY_SECONDS = 30.0
#: A Redis that does not answer within this is taken as unreachable.
REDIS_TIMEOUT_SECONDS = 2.0
UNREACHABLE = "The rate-limit store (Redis) is unreachable"


class OrgRateLimiter:
    """Allows ``rate`` (e.g. "10/minute") events of one ``kind`` per organization."""

    def __init__(
        self,
        rate: str,
        redis_url: str | None,
        namespace: str = "syncpreview",
        *,
        kind: str = "refresh",
        setting: str = "RATE_LIMIT",
    ) -> None:
        try:
            self.item = parse(rate)
        except ValueError as exc:
            raise ConfigError(f"{setting} '{rate}' is not a rate like '10/minute'.") from exc
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        if redis_url:
            storage = storage_from_string(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self.shared = MovingWindowRateLimiter(storage)
        self.namespace = namespace
        self.kind = kind
        self.rate = rate
        self._lock = threading.Lock()
        self._down_since: datetime | None = None
        self._retry_at = 0.0

    @property
    def state(self) -> str:
        """Where counts are kept now: ``redis``, ``memory``, or why they are in memory."""
        if self.shared is None:
            return "memory"
        with self._lock:
            down = self._down_since
        if down is None:
            return "redis"
        return f"memory: {UNREACHABLE} since {down:%Y-%m-%d %H:%M:%S} UTC"

    @property
    def degraded(self) -> bool:
        """True while Redis is set but unreachable (counting falls back to memory)."""
        return self.shared is not None and self._down_since is not None

    def wait_after_hit(self, org_id: int) -> int | None:
        """Count one event: None if allowed, else the whole seconds to wait."""
        shared = self._shared_now()
        if shared is not None:
            try:
                return self._hit(shared, org_id)
            except Exception as exc:  # any failure of the store: count in memory instead
                self._fall_back(exc)
        return self._hit(self.memory, org_id)

    def _hit(self, limiter: MovingWindowRateLimiter, org_id: int) -> int | None:
        keys = (self.namespace, self.kind, str(org_id))
        if limiter.hit(self.item, *keys):
            if limiter is not self.memory:
                self._recovered()
            return None
        reset_at, _ = limiter.get_window_stats(self.item, *keys)
        return max(1, int(reset_at - time.time() + 0.999))

    def _shared_now(self) -> MovingWindowRateLimiter | None:
        if self.shared is None:
            return None
        with self._lock:
            if self._down_since is not None and time.monotonic() < self._retry_at:
                return None
        return self.shared

    def _fall_back(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = datetime.now(UTC)
            self._retry_at = time.monotonic() + RETRY_SECONDS
        if first:
            log.warning(
                "%s (%s); counting %s limits in this process's memory and trying Redis again "
                "every %g s",
                UNREACHABLE,
                type(exc).__name__,
                self.kind,
                RETRY_SECONDS,
            )

    def _recovered(self) -> None:
        with self._lock:
            was = self._down_since
            self._down_since = None
        if was is not None:
            log.warning(
                "The rate-limit store (Redis) answers again; %s limits are shared", self.kind
            )


class RefreshLimiter(OrgRateLimiter):
    """Allows ``rate`` fresh preview computations per organization."""

    def acquire(self, org_id: int) -> None:
        """Count one computation, or raise RefreshRateLimited with the seconds to wait."""
        wait = self.wait_after_hit(org_id)
        if wait is None:
            return
        raise RefreshRateLimited(
            f"Too many fresh previews for this organization (limit {self.rate}). "
            f"Try again in {wait} s, or open the cached preview.",
            retry_after=wait,
            limit=self.rate,
        )
