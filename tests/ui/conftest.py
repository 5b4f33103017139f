"""AppTest fixtures: each test gets its own copy of a seeded data folder (database + keys).

The seeded data folder (made once per session) holds the organization "Acme" with an admin,
an editor and a viewer, the demo connectors and local records, and a computed WooCommerce
customers preview. Tests point the app at their copy through environment variables, as an
operator would, and check the database through the services.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.bootstrap import Services, build_services
from core.config import load_settings
from core.services.actors import UserContext
from tests.ui.appkit import PASSWORD, USERS
from tests.ui.workers import Worker, worker_in


def _env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "COOKIE_KEY", "RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("LOGIN_SLEEP_SECONDS", "0")


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """Our own temporary folder: pytest's basetemp is pruned by concurrent pytest runs."""
    with tempfile.TemporaryDirectory(prefix="syncpreview-ui-") as name:
        yield Path(name)


@pytest.fixture
def tmp_dir(workdir: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix="test-", dir=workdir))


@pytest.fixture(scope="session")
def seeded_dir(workdir: Path) -> Path:
    data_dir = workdir / "seed" / "data"
    services = build_services(load_settings(data_dir=data_dir))
    try:
        admin = services.accounts.create_organization(
            "Acme",
            admin_username=USERS["admin"],
            admin_name="Ada Admin",
            admin_email="ada@acme.example",
            admin_password=PASSWORD,
        )
        for role in ("editor", "viewer"):
            services.accounts.add_user(
                admin,
                USERS[role],
                f"{USERS[role].title()} {role.title()}",
                f"{USERS[role]}@acme.example",
                PASSWORD,
                role,
            )
        services.demo.load(admin)
        services.previews.get_preview_snapshot(admin, "woocommerce", "customers")
    finally:
        services.close()
    return data_dir


@pytest.fixture(autouse=True)
def _fresh_app_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app caches its services per process: drop them (and their sandboxes) per test.

    Depends on monkeypatch so that it is torn down while the test's DATA_DIR is still set.
    """
    from core.bootstrap import close_shared_services
    from ui.services import get_services

    get_services.clear()
    close_shared_services()
    yield
    try:
        close_shared_services()
    finally:
        get_services.clear()


@pytest.fixture
def data_dir(seeded_dir: Path, tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's copy of the seeded data folder, which the app will use."""
    target = tmp_dir / "data"
    shutil.copytree(seeded_dir, target, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    _env(monkeypatch, target)
    return target


@pytest.fixture
def empty_dir(tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder with no database yet (first run)."""
    target = tmp_dir / "fresh"
    _env(monkeypatch, target)
    return target


@pytest.fixture
def services(data_dir: Path) -> Iterator[Services]:
    """The services over this test's database, to check what the app wrote."""
    svc = build_services(load_settings(data_dir=data_dir))
    yield svc
    svc.close()


@pytest.fixture
def ctx(services: Services) -> Callable[[str], UserContext]:
    """The context of the seeded user with ``role``."""
    return lambda role: services.accounts.user_context(USERS[role])


@pytest.fixture
def start_worker() -> Iterator[Callable[..., Worker]]:
    """Start real workers (`python -m core worker`) over this test's data folder (the
    DATA_DIR the test set); all are stopped after the test."""
    import os

    started: list[Worker] = []

    def start(name: str = "worker", **env: str) -> Worker:
        data_dir = Path(os.environ["DATA_DIR"])
        worker = worker_in(data_dir, f"{name}-{len(started)}", **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def worker(data_dir: Path, start_worker: Callable[..., Worker]) -> Worker:
    """One real worker over this test's copy of the seeded data folder."""
    return start_worker()
