"""Single flight: one computation of a preview at a time; everyone else waits for its result.

The caller that takes the preview's lease computes, while a heartbeat keeps the lease; the
others poll until the lease is gone and then serve what that computation stored. When it
ended without a result (its process died: its lease ran out within REFRESH_LEASE_SECONDS),
a waiter takes the lease itself, a few times, before giving up; taking over an abandoned
lease is told (``on_abandoned``) and the result carries that notice.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from core.errors import RefreshInProgress
from core.services.heartbeat import Heartbeat
from core.services.previews.lease import Abandoned, PreviewLease
from core.services.previews.snapshots import Clock, PreviewKey, PreviewSnapshot, SnapshotStore

POLL_SECONDS = 0.1
#: How much earlier than a waiter's start a result may have been stored (clock resolution).
SINCE_SLACK = timedelta(seconds=1)
TAKING_LONG = (
    "This preview is being refreshed by someone else and it is taking long. Try again in a minute."
)


class SingleFlight:
    """Runs a preview's computation in one caller at a time across processes."""

    def __init__(
        self,
        lease: PreviewLease,
        snapshots: SnapshotStore,
        clock: Clock,
        *,
        wait_seconds: float,
        attempts: int = 3,
    ) -> None:
        self.lease = lease
        self.snapshots = snapshots
        self.clock = clock
        self.wait_seconds = wait_seconds
        self.attempts = attempts

    def run(
        self,
        key: PreviewKey,
        compute: Callable[[Heartbeat], PreviewSnapshot],
        *,
        on_wait: Callable[[], None],
        by: str | None = None,
        on_abandoned: Callable[[Abandoned], str] | None = None,
    ) -> PreviewSnapshot:
        """``compute(heartbeat)`` while holding the lease, or the result of whoever holds it.

        ``by`` names who asked (kept with the lease); ``on_abandoned`` is told when the lease
        was taken over from a computation that never finished, and returns the notice the
        result then carries.
        """
        for _ in range(self.attempts):
            holder = uuid.uuid4().hex
            started = self.clock()
            taken = self.lease.acquire(key, holder, by=by)
            if taken is not None:
                with self.lease.kept(key, holder) as beat:
                    notice = None
                    if taken.abandoned is not None and on_abandoned is not None:
                        notice = on_abandoned(taken.abandoned)
                    result = compute(beat)
                return dataclasses.replace(result, refresh_notice=notice) if notice else result
            on_wait()
            theirs = self._wait(key, started - SINCE_SLACK)
            if theirs is not None:
                return theirs
        raise RefreshInProgress(TAKING_LONG)

    def _wait(self, key: PreviewKey, since: datetime) -> PreviewSnapshot | None:
        """The other computation's result once its lease is gone; None when it left none."""
        until = time.monotonic() + self.wait_seconds
        while time.monotonic() < until:
            time.sleep(POLL_SECONDS)
            if self.lease.is_held(key):
                continue
            return self.snapshots.outcome_since(key, since)
        raise RefreshInProgress(TAKING_LONG)
