"""Real workers for the AppTest tests: `python -m core worker` in its own process over the
test's data folder (its database and queue), as `scripts/run` starts one beside the
dashboard. The pages never compute; these processes do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
#: announce often (the page asks whether a worker is alive); no warming of its own
WORKER_ENV = {"SCHEDULER_SECONDS": "0.5", "WARM_PREVIEWS": "false"}


class Worker:
    """One `python -m core worker` process; its output in a log beside the data folder."""

    def __init__(self, data_dir: Path, name: str, **env: str) -> None:
        self.log_path = data_dir.parent / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core", "worker"],
            cwd=ROOT,
            env={**os.environ, **WORKER_ENV, "PYTHONPATH": str(ROOT), **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no chance to finish or to say goodbye."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def until(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    """``check()``'s first true answer, asked every 0.2 s; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


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
