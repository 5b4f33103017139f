"""Real workers for the AppTest tests: `python -m core worker` in its own process over the
test's data folder (its database and queue), as `scripts/run` starts one beside the
dashboard. The pages never compute; these processes do."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.workers import ROOT, Worker, until

__all__ = ["Worker", "rerun_until", "until", "worker_in"]
#: announce often (the page asks whether a worker is alive); no warming of its own
WORKER_ENV = {"SCHEDULER_SECONDS": "0.5", "WARM_PREVIEWS": "false"}


def worker_in(data_dir: Path, name: str, **env: str) -> Worker:
    """A worker over the test's data folder (its database and queue); its log beside it."""
    return Worker(
        {**os.environ, **WORKER_ENV, "PYTHONPATH": str(ROOT), **env},
        data_dir.parent / f"{name}.log",
    )


def rerun_until(
    at: AppTest, what: str, check: Callable[[AppTest], bool], timeout: float = 90.0
) -> AppTest:
    """Run the page again (as its polling fragment does) until ``check`` sees what a user
    waits for."""

    def ran() -> bool:
        at.run()
        assert not at.exception, at.exception
        return check(at)

    until(what, ran, timeout)
    return at
