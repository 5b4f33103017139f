"""Browser fixtures: `streamlit run server.py` on free loopback ports with temporary databases.

Debian's chromium (never `playwright install`), with the flags of docs/browser-testing.md.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from core.bootstrap import Services, build_services
from core.config import load_settings
from tests.workers import Worker

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
ADMIN = {"username": "ada", "name": "Ada Admin", "email": "ada@acme.example"}
PASSWORD = "secret-pass-1"
DEEP_LINK_PAGES = ("preview", "selective_sync", "activity", "connectors", "users")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One `streamlit run server.py` process (dashboard and API) over its own data folder."""

    data_dir: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    with_worker: bool = True  # as scripts/run: the dashboard and one worker
    worker: Worker | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "COOKIE_KEY", "RATE_LIMIT")
        }
        env.update(
            DATA_DIR=str(self.data_dir),
            LOGIN_SLEEP_SECONDS="0",
            PYTHONPATH=str(ROOT),
        )
        self._env = env
        if self.with_worker:
            self.start_worker()
        self.log = self.data_dir.parent / f"streamlit-{self.port}.log"
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "server.py",
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(self.port),
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        return self

    def start_worker(self) -> None:
        """`python -m core worker` over this server's data folder."""
        self.worker = Worker(self._env, self.data_dir.parent / f"worker-{self.port}.log")

    def wait_ready(self, timeout: float = 90.0) -> Server:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            assert self.proc is not None and self.proc.poll() is None, self.read_log()
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    if r.read() == b"ok":
                        return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"streamlit did not start:\n{self.read_log()}")

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log_file", None) is not None:
            self._log_file.close()

    def read_log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log else ""

    def services(self) -> Services:
        """Services over this server's database, for the test's own checks."""
        return build_services(load_settings(data_dir=self.data_dir))


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """Our own temporary folder (pytest's basetemp is pruned by concurrent pytest runs)."""
    with tempfile.TemporaryDirectory(prefix="syncpreview-e2e-") as name:
        yield Path(name)


@pytest.fixture(scope="session")
def server(workdir: Path) -> Iterator[Server]:
    """A server over an empty database: the first visitor sees the first-run setup."""
    srv = Server(workdir / "main" / "data")
    srv.data_dir.mkdir(parents=True)
    srv.start().wait_ready()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def seeded_dir(workdir: Path) -> Path:
    """A data folder with an organization, the demo data and a computed preview."""
    data_dir = workdir / "seed" / "data"
    services = build_services(load_settings(data_dir=data_dir))
    try:
        admin = services.accounts.create_organization(
            "Acme",
            admin_username=ADMIN["username"],
            admin_name=ADMIN["name"],
            admin_email=ADMIN["email"],
            admin_password=PASSWORD,
        )
        services.demo.load(admin)
        services.previews.get_preview_snapshot(admin, "woocommerce", "customers")
    finally:
        services.close()
    return data_dir


@pytest.fixture(scope="session")
def fresh_servers(workdir: Path, seeded_dir: Path) -> Iterator[dict[str, Server]]:
    """One freshly started server per page (started together), none visited yet."""
    servers: dict[str, Server] = {}
    for page in DEEP_LINK_PAGES:
        data_dir = workdir / f"fresh-{page}" / "data"
        shutil.copytree(seeded_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
        servers[page] = Server(data_dir, with_worker=False).start()  # pages only
    try:
        for srv in servers.values():
            srv.wait_ready()
        yield servers
    finally:
        for srv in servers.values():
            srv.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium with the flags that work in this sandbox."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is not installed: run `bash scripts/test` (it installs it) or "
            '`apt-get install chromium`; skip browser tests with -m "not e2e".'
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session")
def base_url(server: Server) -> str:
    return server.url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
