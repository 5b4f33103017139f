"""Real workers for the tests: `python -m core worker` in its own process, as `scripts/run`
starts one beside the dashboard, and a patient wait for what they do."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class Worker:
    """One `python -m core worker` process with ``env``; its output in ``log_path``."""

    def __init__(self, env: Mapping[str, str], log_path: Path, threads: int | None = None) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        command = [sys.executable, "-m", "core", "worker"]
        if threads is not None:
            command += ["--workers", str(threads)]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=self._log, stderr=subprocess.STDOUT
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
        """Ctrl-C, as a user stops `scripts/run`; killed if it does not end in 20 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def until(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    """``check()``'s first true answer, asked every 0.1 s; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
