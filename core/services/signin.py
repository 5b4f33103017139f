"""How sign-ins are slowed down after failures: a growing wait that runs out by itself.

Each failed sign-in counts against two keys: the account (organization + username, counted
whether or not that user exists, so that the answer reveals nothing) and the client address
(when the dashboard knows it). A key may fail a few times freely; after that, each failure
makes the next sign-in of that key wait, twice as long each time, up to ``cap``. A sign-in
while a key waits is refused without checking the password. Nothing locks for good: the wait
runs out, failures older than ``FORGET_AFTER`` are forgotten, a successful sign-in clears the
account's count, and an admin (or the operator: ``python -m core unlock``) can clear it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    """``free`` failures without a wait, then ``first`` seconds doubling up to ``cap``."""

    free: int
    first: float
    cap: float

    def wait(self, failures: int) -> float:
        """Seconds the next sign-in waits after ``failures`` failures in a row."""
        if failures < self.free:
            return 0.0
        return float(min(self.cap, self.first * 2 ** (failures - self.free)))


#: An account: 3 failures free, then 5 s, 10 s, 20 s … up to 15 minutes.
ACCOUNT = Backoff(free=3, first=5.0, cap=900.0)
#: A client address (several people may share one): 10 free, then the same growth.
CLIENT = Backoff(free=10, first=5.0, cap=900.0)
FORGET_AFTER = timedelta(hours=24)

WRONG = "Username or password is incorrect."


def account_key(org: str, username: str) -> str:
    """The throttle key of an account (``org``: the organization's id, or what was typed)."""
    return f"account:{org}:{username.strip().lower()}"[:200]


def client_key(address: str) -> str:
    """The throttle key of a client address."""
    return f"client:{address.strip()}"[:200]


def wait_words(seconds: float) -> str:
    """``40 s`` or ``3 min``: how long to wait, rounded up."""
    whole = max(1, math.ceil(seconds))
    return f"{whole} s" if whole < 120 else f"{math.ceil(whole / 60)} min"


def slowed_down(seconds: float) -> str:
    """The one message of a refused sign-in while its account or address waits."""
    return (
        "Too many failed sign-ins for this account or from this address. "
        f"Try again in {wait_words(seconds)}, or ask an administrator to unlock the account."
    )
