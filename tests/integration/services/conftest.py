"""Services over a real database and a real sandbox store on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.bootstrap import Services, build_services
from core.config import load_settings
from core.sandbox import SandboxServer
from core.services.actors import UserContext
from tests.integration.localdb.conftest import (  # noqa: F401 - the organization's databases
    crm,
    mariadb_crm,
    pg_crm,
    sqlite_crm,
)

SANDBOX_SIZE = 200


class FakeClock:
    """A clock the test moves by hand (for cache expiry)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(size=SANDBOX_SIZE, seed=7).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_faults(sandbox: SandboxServer) -> Iterator[None]:
    sandbox.faults.reset()
    yield
    sandbox.faults.reset()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


SECRET_KEY = Fernet.generate_key().decode()
ROOT = Path(__file__).resolve().parents[3]


def core_env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `python -m core` process on ``db_url`` (no outside DB or Redis)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL=db_url,
        SECRET_KEY=SECRET_KEY,
        COOKIE_KEY="c" * 40,
        **extra,
    )
    return env


def run_core(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m core ARGS` as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def make_services(
    db_url: str,
    data_dir: Path,
    clock: FakeClock | None = None,
    *,
    namespace: str | None = None,
    **overrides: object,
) -> Services:
    """Services on ``db_url``; each call is like one app process of the same deployment."""
    settings = load_settings(
        data_dir=data_dir,
        database_url=db_url,
        secret_key=SECRET_KEY,
        cookie_key="k" * 40,
        external_timeout_seconds=5,
        **overrides,
    )
    return build_services(
        settings,
        clock=clock,
        migrate=False,
        rate_limit_namespace=namespace or f"test-{uuid.uuid4().hex}",
    )


@pytest.fixture
def services(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Services]:
    svc = make_services(db_url, tmp_path, clock, rate_limit="1000/minute")
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def admin(services: Services) -> UserContext:
    return services.accounts.create_organization(
        "Acme",
        admin_username="ann",
        admin_name="Ann Admin",
        admin_email="ann@acme.io",
        admin_password="correct horse battery",
    )


@pytest.fixture
def demo_org(services: Services, admin: UserContext, sandbox: SandboxServer) -> UserContext:
    """An organization with connectors to the sandbox and local records that differ."""
    services.demo.load(admin, sandbox_url=sandbox.url)
    return admin
