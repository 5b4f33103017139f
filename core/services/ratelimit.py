"""Per-organization limit on fresh preview computations (the `limits` library).

With REDIS_URL set the counts live in Redis, so every app process shares them; otherwise
they are kept in this process's memory.
"""

from __future__ import annotations

import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.errors import ConfigError, RefreshRateLimited


class RefreshLimiter:
    """Allows ``rate`` (e.g. "10/minute") fresh computations per organization."""

    def __init__(self, rate: str, redis_url: str | None, namespace: str = "syncpreview") -> None:
        try:
            self.item = parse(rate)
        except ValueError as exc:
            raise ConfigError(f"RATE_LIMIT '{rate}' is not a rate like '10/minute'.") from exc
        self.storage = storage_from_string(redis_url or "memory://")
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace
        self.rate = rate

    def acquire(self, org_id: int) -> None:
        """Count one computation, or raise RefreshRateLimited with the seconds to wait."""
        if self.limiter.hit(self.item, self.namespace, "refresh", str(org_id)):
            return
        reset_at, _ = self.limiter.get_window_stats(
            self.item, self.namespace, "refresh", str(org_id)
        )
        wait = max(1, int(reset_at - time.time() + 0.999))
        raise RefreshRateLimited(
            f"Too many fresh previews for this organization (limit {self.rate}). "
            f"Try again in {wait} s, or open the cached preview.",
            retry_after=wait,
        )
