"""A heartbeat: keep a lease alive while its work runs, and notice when it was lost.

    with Heartbeat(lambda: lease.renew(key, holder), ttl=15.0) as beat:
        for part in work:
            beat.check()          # RefreshInterrupted once the lease is lost
            ...

A thread renews the lease every third of its ``ttl``. The lease is lost when a renewal says
it belongs to someone else now, or when no renewal succeeded for a whole ``ttl`` (the
database did not answer: by then someone else may have taken it). From then on ``check()``
raises and ``on_lost`` callbacks run once (e.g. to cut a deadline short), so the work stops
instead of running on without its lease. A process that dies simply stops renewing: its
lease lapses within ``ttl``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from core.errors import RefreshInterrupted, SyncPreviewError

log = logging.getLogger(__name__)

Renew = Callable[[], bool]


class Heartbeat:
    """Renews a lease in a thread while a ``with`` block runs; see the module docstring."""

    def __init__(
        self,
        renew: Renew,
        *,
        ttl: float,
        what: str = "The refresh",
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.renew = renew
        self.ttl = ttl
        self.every = ttl / 3
        self.what = what
        self._callbacks = [on_lost] if on_lost is not None else []
        self._stop = threading.Event()
        self._lost: str | None = None
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def lost(self) -> str | None:
        """Why the lease was lost (a sentence), or None while it is held."""
        return self._lost

    def check(self) -> None:
        """Raise RefreshInterrupted once the lease is lost; the work calls this often."""
        if self._lost is not None:
            raise RefreshInterrupted(self._lost)

    def on_lost(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(reason)`` once if the lease is lost."""
        self._callbacks.append(callback)

    def _beat(self) -> None:
        renewed = time.monotonic()
        while not self._stop.wait(self.every):
            try:
                mine = self.renew()
            except SyncPreviewError as err:  # the database did not answer: try again
                log.warning("lease heartbeat failed: %s", err)
                mine = None
            except Exception:  # a bug: the lease cannot be kept
                log.exception("lease heartbeat failed unexpectedly")
                mine = None
            if mine:
                renewed = time.monotonic()
                continue
            if mine is False:
                self._lose(
                    f"{self.what} stopped: another refresh took this preview over "
                    "after its lease ran out."
                )
                return
            if time.monotonic() - renewed >= self.ttl:
                self._lose(
                    f"{self.what} stopped: our database did not answer for {self.ttl:g} s, "
                    "so it could not keep its hold on this preview. Try again in a moment."
                )
                return

    def _lose(self, reason: str) -> None:
        self._lost = reason
        log.warning("%s", reason)
        for callback in self._callbacks:
            try:
                callback(reason)
            except Exception:  # a failing callback must not hide the others
                log.exception("a heartbeat's on_lost callback failed")
