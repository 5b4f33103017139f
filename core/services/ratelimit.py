"""Per-organization rate limits (the `limits` library): fresh previews, JSON API requests.

With REDIS_URL set the counts live in Redis, so every app process shares them; otherwise
they are kept in this process's memory.
"""

from __future__ import annotations

import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.errors import ConfigError, RefreshRateLimited


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
        self.storage = storage_from_string(redis_url or "memory://")
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace
        self.kind = kind
        self.rate = rate

    def wait_after_hit(self, org_id: int) -> int | None:
        """Count one event: None if allowed, else the whole seconds to wait."""
        if self.limiter.hit(self.item, self.namespace, self.kind, str(org_id)):
            return None
        reset_at, _ = self.limiter.get_window_stats(
            self.item, self.namespace, self.kind, str(org_id)
        )
        return max(1, int(reset_at - time.time() + 0.999))


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
