"""The heartbeat that keeps a lease while its work runs (core/services/heartbeat.py)."""

from __future__ import annotations

import threading
import time

import pytest

from core.errors import RefreshInterrupted, StoreError
from core.services.heartbeat import Heartbeat


def test_it_renews_every_third_of_the_lease_while_the_work_runs() -> None:
    renewals: list[float] = []

    def renew() -> bool:
        renewals.append(time.monotonic())
        return True

    with Heartbeat(renew, ttl=0.3) as beat:
        time.sleep(0.75)
        beat.check()  # still held: nothing raised
    count = len(renewals)
    time.sleep(0.25)
    assert 5 <= count <= 8 and len(renewals) == count  # and none after the block ended
    assert beat.lost is None


def test_a_lease_taken_over_stops_the_work_at_its_next_check() -> None:
    told: list[str] = []
    with Heartbeat(lambda: False, ttl=0.3, on_lost=told.append) as beat:
        time.sleep(0.25)
        with pytest.raises(RefreshInterrupted, match="another refresh took this preview over"):
            beat.check()
    assert told == [beat.lost]


def test_a_database_that_does_not_answer_for_a_whole_lease_loses_it() -> None:
    answers: list[bool | StoreError] = [True, StoreError("down", transient=True)]
    answers += [StoreError("down")] * 20
    cut = threading.Event()

    def renew() -> bool:
        answer = answers.pop(0)
        if isinstance(answer, StoreError):
            raise answer
        return answer

    with Heartbeat(renew, ttl=0.3) as beat:
        beat.on_lost(lambda _reason: cut.set())
        time.sleep(0.2)
        assert beat.lost is None  # one failed renewal is not a lost lease yet
        assert cut.wait(2)
    assert "our database did not answer for 0.3 s" in (beat.lost or "")
