"""Fixtures: one sandbox store on a free loopback port, and connectors pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.connectors import Connector, ConnectorConfig, build_connector
from core.sandbox import SandboxServer, Store

WOO_KEY, WOO_SECRET = "ck_test_8f3a1c", "cs_test_secret_5d9e7b2a"
ODOO_PASSWORD, ODOO_KEY = "odoo-pass-4c1f9e", "odoo-apikey-77b3d0e5"
SECRETS = (WOO_SECRET, ODOO_PASSWORD, ODOO_KEY)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """A 1,000-record sandbox with non-default credentials, faults reset for every test."""
    server = SandboxServer(
        size=1000,
        seed=7,
        woo_key=WOO_KEY,
        woo_secret=WOO_SECRET,
        odoo_password=ODOO_PASSWORD,
        odoo_api_key=ODOO_KEY,
    ).start()
    yield server
    server.stop()


def _server(**kw: Any) -> SandboxServer:
    return SandboxServer(
        woo_key=WOO_KEY,
        woo_secret=WOO_SECRET,
        odoo_password=ODOO_PASSWORD,
        odoo_api_key=ODOO_KEY,
        **kw,
    ).start()


@pytest.fixture(scope="module")
def real_sandbox() -> Iterator[SandboxServer]:
    """A sandbox seeded with what real installations hold (archived records, variations,
    staff users, guest orders, a second company, section/note/delivery lines, entities)."""
    server = _server(size=400, seed=11, real_world=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_sandbox() -> Iterator[SandboxServer]:
    """A real-world sandbox over HTTPS, with a plain-HTTP port that redirects to it."""
    server = _server(size=200, seed=5, real_world=True, tls=True, redirect_http=True)
    yield server
    server.stop()


def _fresh(server: SandboxServer) -> Iterator[SandboxServer]:
    store = server.store
    server.store = Store(store.size, store.seed, real_world=store.real_world)
    server.faults.reset()
    server.profile.reset()
    server.stats.reset()
    yield server
    server.faults.reset()
    server.profile.reset()


@pytest.fixture
def rw(real_sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The real-world sandbox, fresh for every test."""
    yield from _fresh(real_sandbox)


@pytest.fixture
def https(tls_sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The HTTPS sandbox, fresh for every test."""
    yield from _fresh(tls_sandbox)


@pytest.fixture
def sb(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The shared sandbox with a fresh store, every fault off, the default profile and the
    counters reset."""
    yield from _fresh(sandbox)


MakeConnector = Callable[..., Connector]


@pytest.fixture
def woo(sb: SandboxServer) -> Iterator[MakeConnector]:
    """Build WooCommerce connectors against the sandbox (keyword overrides allowed)."""
    made: list[Connector] = []

    def make(
        url: str | None = None,
        key: str = WOO_KEY,
        secret: str = WOO_SECRET,
        options: dict[str, Any] | None = None,
        **kw: Any,
    ) -> Connector:
        config = ConnectorConfig(
            "woocommerce",
            url or sb.url,
            {"consumer_key": key, "consumer_secret": secret},
            options or {},
        )
        connector = build_connector(config, **kw)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture(params=["xmlrpc", "json2"])
def odoo(sb: SandboxServer, request: pytest.FixtureRequest) -> Iterator[MakeConnector]:
    """Build Odoo connectors (both protocols) against the sandbox."""
    made: list[Connector] = []

    def make(
        url: str | None = None,
        password: str = ODOO_PASSWORD,
        api_key: str = ODOO_KEY,
        database: str = "sandbox",
        **kw: Any,
    ) -> Connector:
        creds = {"database": database, "username": "admin", "password": password}
        if request.param == "json2" or api_key != ODOO_KEY:
            creds["api_key"] = api_key
        config = ConnectorConfig("odoo", url or sb.url, creds, {"protocol": request.param})
        connector = build_connector(config, **kw)
        made.append(connector)
        return connector

    make.protocol = request.param  # type: ignore[attr-defined]
    yield make
    for connector in made:
        connector.close()


def fetch_all(connector: Connector, entity: str, **kw: Any) -> list[dict[str, Any]]:
    """Every record of one entity, pages concatenated."""
    return [r for page in connector.iter_pages(entity, **kw) for r in page]
