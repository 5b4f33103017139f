"""Real parts that a fault test may break: a PostgreSQL and a Redis of the test's own (killed
and started again without disturbing anyone), the JSON API in its own process, the sandbox.

See the README's "Reliability" section for what each test proves.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from core.api.tokens import issue_token
from core.bootstrap import Services, build_services
from core.config import load_settings
from core.sandbox import SandboxServer
from core.services.actors import UserContext
from tests.integration.db.test_tenancy import two_orgs  # noqa: F401 - a fixture
from tests.integration.services.conftest import (  # noqa: F401 - fixtures
    ROOT,
    SECRET_KEY,
    _no_faults,
    admin,
    clock,
    sandbox,
    services,
)

API_SECRET = "reliability-" + "s" * 40
#: For tests whose subject does not depend on which database we use (one run, not two).
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
ADMIN_PASSWORD = "demo-pass-123"
PREVIEW = "/api/v1/integrations/sync/preview"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(
            f"PostgreSQL's {name} is not installed: run `bash scripts/services` (the test "
            "command does) or `apt-get install postgresql`"
        )
    return found[-1]


class OwnPostgres:
    """A PostgreSQL server of this test only: initdb into a temporary folder, its own port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="syncpreview-pg-"))
        self.port = free_port()
        self.data = self.dir / "data"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir, "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")  # fmt: skip
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_postgres, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l",
            str(self.dir / "server.log"), "-w", "start",
        )  # fmt: skip

    def kill(self) -> None:
        """Stop at once, as a crash does (no checkpoint, connections cut)."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def dump(self) -> bytes:
        """Everything the database holds, as pg_dump writes it."""
        return subprocess.run(
            [_pg_bin("pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "postgres"],
            check=True, capture_output=True, timeout=60,
        ).stdout  # fmt: skip

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    """A Redis server of this test only, on its own port, keeping nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        redis_server = shutil.which("redis-server") or pytest.fail(
            "redis-server is missing: run `bash scripts/services` (the test command does) or "
            "`apt-get install redis-server`"
        )
        self.proc = subprocess.Popen(
            [redis_server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_port(self.port, self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


def _wait_for_port(port: int, proc: subprocess.Popen[Any], log: Path | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(log.read_text() if log else "the process ended") from None
            time.sleep(0.1)
    raise AssertionError("nothing answered on the port")


def core_env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `python -m core` process (no outside database or Redis)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "API_JWT_SECRET", "API_TRUSTED_GATEWAY")
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL=db_url,
        SECRET_KEY=SECRET_KEY,
        COOKIE_KEY="c" * 40,
        API_JWT_SECRET=API_SECRET,
        API_RATE_LIMIT="1000/minute",
        RATE_LIMIT="1000/minute",
    )
    env.update(extra)
    return env


def run_core(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class ApiProcess:
    """`python -m core api` on a free port, its output in a log file."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + PREVIEW
        self.log_path = Path(env["DATA_DIR"]) / f"api-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core", "api", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self.proc, self.log_path)

    def rss_mb(self) -> float:
        """The process's resident memory now (MB)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def services_for(env: dict[str, str], moved_by: Any = None) -> Services:
    """Services in this process on the database of ``env`` (as another app process), on the
    clock ``moved_by`` (a test's FakeClock) when given."""
    settings = load_settings(
        data_dir=Path(env["DATA_DIR"]),
        database_url=env["DATABASE_URL"],
        secret_key=env["SECRET_KEY"],
        cookie_key=env["COOKIE_KEY"],
        api_jwt_secret=env.get("API_JWT_SECRET") or None,
        rate_limit="1000/minute",
    )
    return build_services(settings, clock=moved_by, rate_limit_namespace=f"rel-{uuid.uuid4().hex}")


def make_demo(svc: Services, store: SandboxServer) -> UserContext:
    """The organization "demo" (admin "admin") with the sandbox's connectors and local records
    that differ from them, as ``python -m core demo`` makes it."""
    made = svc.accounts.create_organization(
        "Demo Company",
        slug="demo",
        admin_username="admin",
        admin_name="Demo Admin",
        admin_email="admin@example.com",
        admin_password=ADMIN_PASSWORD,
    )
    svc.demo.load(made, sandbox_url=store.url)
    return made


def token_for(svc: Services, org_id: int, sub: str, *, service: bool | None = None) -> str:
    """A bearer token as ``python -m core api-token`` issues it (recorded, revocable)."""
    grant = svc.api_tokens.issue(svc.accounts.operator(org_id), sub, days=1, service=service)
    return issue_token(
        API_SECRET,
        org_id,
        grant.subject,
        token_id=grant.token_id,
        kind=grant.kind,
        expires_at=int(grant.expires_at.timestamp()),
    )


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def get(url: str, **kwargs: Any) -> requests.Response:
    return requests.get(url, timeout=60, **kwargs)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    try:
        yield server
    finally:
        server.close()
