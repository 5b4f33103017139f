"""The JSON API with two stores of one source: ``connector=`` picks one, without it the
source's default connector answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from core.sandbox import SandboxServer
from core.services.demo import WOO_CREDENTIALS
from tests.integration.api.test_api import _ISSUER, API_SECRET, Api, bearer, services_of, token
from tests.integration.services.conftest import core_env, make_services, run_core

LIVE = "Acme live shop"
DEMO = "Demo WooCommerce store"


@pytest.fixture(scope="module")
def live_store() -> Iterator[SandboxServer]:
    with SandboxServer(size=120, seed=11) as server:
        yield server


@pytest.fixture(scope="module")
def env(
    tmp_path_factory: pytest.TempPathFactory, sandbox: Any, live_store: SandboxServer
) -> dict[str, str]:
    """The demo organization and, added after its connectors, a second WooCommerce store."""
    data = tmp_path_factory.mktemp("api-connectors")
    env = core_env(
        f"sqlite:///{data / 'api.db'}",
        data,
        API_JWT_SECRET=API_SECRET,
        API_RATE_LIMIT="1000/minute",
    )
    made = run_core(env, "demo", "--sandbox-url", sandbox.url, "--admin-password", "x" * 12)
    assert made.returncode == 0, made.stderr
    services = make_services(env["DATABASE_URL"], Path(env["DATA_DIR"]))
    try:
        admin = services.accounts.operator("demo")
        services.connectors.add(admin, "woocommerce", LIVE, live_store.url, WOO_CREDENTIALS)
        env["ORG_ID"] = str(admin.org_id)
    finally:
        services.close()
    return env


@pytest.fixture(scope="module")
def api(env: dict[str, str]) -> Iterator[Api]:
    server = Api(env)
    _ISSUER.append(services_of(env))  # tokens are issued (recorded) on this database
    try:
        yield server
    finally:
        _ISSUER.pop().close()
        server.stop()


def _call(
    api: Api, method: str, params: dict[str, str], body: dict[str, bool] | None = None
) -> requests.Response:
    org_id = int(api.env["ORG_ID"])
    return requests.request(
        method,
        api.url,
        params=params,
        json=body,
        headers=bearer(token(org_id, "admin")),
        timeout=60,
    )


def _counts(answer: requests.Response) -> dict[str, int]:
    return {k: v["count"] for k, v in answer.json()["data"]["delta"].items()}


def test_connector_picks_the_store_and_the_default_answers_without_it(api: Api):
    by_default = _call(api, "GET", {"sync_type": "woocommerce", "entity_type": "customers"})
    assert by_default.status_code == 200, by_default.text
    assert by_default.json()["data"]["connector"]["name"] == DEMO

    of_live = _call(
        api, "GET", {"sync_type": "woocommerce", "entity_type": "customers", "connector": LIVE}
    )
    assert of_live.status_code == 200, of_live.text
    live = of_live.json()["data"]["connector"]
    assert live["name"] == LIVE and _counts(of_live) != _counts(by_default)

    # by id, the source left out: it is the connector's
    by_id = _call(api, "GET", {"entity_type": "customers", "connector": str(live["id"])})
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["data"]["syncType"] == "woocommerce" and by_id.json()["data"]["cacheHit"]

    # a fresh computation of one store leaves the other's preview as it was
    fetched = _call(
        api,
        "POST",
        {
            "action": "fetch",
            "sync_type": "woocommerce",
            "entity_type": "customers",
            "connector": LIVE,
        },
    )
    assert fetched.status_code == 200 and fetched.json()["data"]["cacheHit"] is False
    again = _call(api, "GET", {"sync_type": "woocommerce", "entity_type": "customers"})
    assert again.json()["data"]["cacheHit"] is True
    assert again.json()["data"]["computedAt"] == by_default.json()["data"]["computedAt"]


def test_select_saves_the_settings_of_the_named_connector(api: Api):
    body = {"includeNew": False, "includeUpdated": True, "includeDeleted": True}
    saved = _call(
        api,
        "POST",
        {
            "action": "select",
            "sync_type": "woocommerce",
            "entity_type": "orders",
            "connector": LIVE,
        },
    )
    assert saved.status_code == 400  # no body
    saved = _call(
        api, "POST", {"action": "select", "entity_type": "orders", "connector": LIVE}, body
    )
    assert saved.status_code == 200, saved.text
    data = saved.json()["data"]
    assert (data["connector"]["name"], data["syncType"], data["includeNew"]) == (
        LIVE,
        "woocommerce",
        False,
    )
    services = make_services(api.env["DATABASE_URL"], Path(api.env["DATA_DIR"]))
    try:
        admin = services.accounts.operator("demo")
        demo = services.selective.get_selective_config(admin, "woocommerce", "orders")
        live = services.selective.get_selective_config(admin, None, "orders", connector=LIVE)
    finally:
        services.close()
    assert (demo.connector_name, demo.include_new, demo.updated_at) == (DEMO, True, None)
    assert (live.include_new, live.include_deleted, live.updated_by) == (False, True, "admin")


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        (
            {"sync_type": "woocommerce", "entity_type": "orders", "connector": "Nope"},
            404,
            "There is no connector 'Nope' in this organization.",
        ),
        (
            {"entity_type": "orders", "connector": "999999"},
            404,
            "There is no connector '999999' in this organization.",
        ),
        (
            {"sync_type": "odoo", "entity_type": "orders", "connector": LIVE},
            400,
            f"The connector '{LIVE}' connects to WooCommerce, not to Odoo.",
        ),
        (
            {"entity_type": "orders"},
            400,
            "Invalid sync_type. Must be one of: woocommerce, odoo",
        ),
    ],
)
def test_a_wrong_connector_is_answered_in_the_envelope(
    api: Api, params: dict[str, str], status: int, message: str
):
    for method, extra in (("GET", {}), ("POST", {"action": "fetch"})):
        answer = _call(api, method, {**params, **extra})
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert body["success"] is False and body["error"] == message
        assert body["details"]["requestId"] == answer.headers["X-Request-Id"]
