"""Fault knobs of a sandbox server, settable per test while it runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    """What the sandbox does wrong on purpose (all off by default).

    latency_ms      time every API answer takes in all (a page, a count, a login)
    rate_429        fraction of API requests answered 429, with ``Retry-After: retry_after``
    rate_500        fraction of API requests answered 500
    trickle         send bodies at this many bytes per second (0 = at once)
    malformed_page  page number (offset // page size + 1) whose body is broken JSON/XML
    drift           each data page served first deletes an earlier record, adds one and
                    updates one, as a busy store does while it is being read
    Rates are applied deterministically (every 1/rate-th request), not at random.
    """

    latency_ms: float = 0.0
    rate_429: float = 0.0
    retry_after: float = 1.0
    rate_500: float = 0.0
    trickle: float = 0.0
    malformed_page: int | None = None
    drift: bool = False
    _counts: dict[str, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fires(self, name: str, rate: float) -> bool:
        """True for the requests that a deterministic `rate` of `name` faults hits."""
        if rate <= 0:
            return False
        with self._lock:
            n = self._counts.get(name, 0)
            self._counts[name] = n + 1
        return int((n + 1) * rate) > int(n * rate)

    def reset(self) -> None:
        """Turn every fault off."""
        self.latency_ms = 0.0
        self.rate_429 = 0.0
        self.retry_after = 1.0
        self.rate_500 = 0.0
        self.trickle = 0.0
        self.malformed_page = None
        self.drift = False
        with self._lock:
            self._counts.clear()
