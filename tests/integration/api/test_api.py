"""The JSON API as another service uses it: a real server process, real HTTP, signed tokens."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from tests.integration.services.conftest import ROOT, core_env, run_core

API_SECRET = "s" * 48
PATH = "/api/v1/integrations/sync/preview"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Api:
    """A running `python -m core api` and the demo organization it serves."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}{PATH}"
        self.log = open(Path(env["DATA_DIR"]) / "api.log", "w")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core", "api", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                assert self.proc.poll() is None, Path(self.log.name).read_text()
                time.sleep(0.2)
        raise AssertionError("the API did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


_ISSUER: list[Any] = []  # the Services of the demo database, once the module's API runs


def token(
    org_id: Any, sub: str = "billing-service", *, ttl: int = 600, key: str = API_SECRET
) -> str:
    """A token as ``python -m core api-token`` issues it: recorded (so it may be revoked), a
    user token when ``sub`` is a user of the organization, else a service token."""
    from core.errors import NotFoundError

    kind, token_id = "service", uuid.uuid4().hex[:16]  # an organization that does not exist
    if _ISSUER:
        try:
            grant = _ISSUER[0].api_tokens.issue(_ISSUER[0].accounts.operator(org_id), sub, days=1)
            kind, token_id = grant.kind, grant.token_id
        except NotFoundError:
            pass
    claims = {
        "org_id": org_id,
        "sub": sub,
        "kind": kind,
        "jti": token_id,
        "exp": int(time.time()) + ttl,
    }
    return jwt.encode(claims, key, algorithm="HS256")


def bearer(tok: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}", **headers}


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory, sandbox: Any) -> dict[str, str]:
    data = tmp_path_factory.mktemp("api")
    env = core_env(
        f"sqlite:///{data / 'api.db'}",
        data,
        API_JWT_SECRET=API_SECRET,
        API_RATE_LIMIT="1000/minute",
    )
    made = run_core(env, "demo", "--sandbox-url", sandbox.url, "--admin-password", "demo-pass-123")
    assert made.returncode == 0, made.stderr
    return env


def services_of(env: dict[str, str]) -> Any:
    """In-process services on the database of ``env`` (as another app process)."""
    from core.bootstrap import build_services
    from core.config import load_settings

    return build_services(
        load_settings(
            data_dir=Path(env["DATA_DIR"]),
            database_url=env["DATABASE_URL"],
            secret_key=env["SECRET_KEY"],
            cookie_key=env["COOKIE_KEY"],
        ),
        migrate=False,
    )


@pytest.fixture(scope="module")
def api(demo_env: dict[str, str]) -> Iterator[Api]:
    server = Api(demo_env)
    _ISSUER.append(services_of(demo_env))
    try:
        yield server
    finally:
        _ISSUER.pop().close()
        server.stop()


@pytest.fixture(scope="module")
def org_id(demo_env: dict[str, str]) -> int:
    out = run_core(
        demo_env,
        "preview",
        "--org",
        "demo",
        "--sync-type",
        "odoo",
        "--entity",
        "customers",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    # the token command resolves the slug like every command does
    tok = run_core(demo_env, "api-token", "--org", "demo", "--sub", "admin")
    assert tok.returncode == 0, tok.stderr
    claims = jwt.decode(tok.stdout.strip(), API_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "admin"
    return int(claims["org_id"])


def test_a_preview_is_the_envelope_and_then_served_from_the_cache(api: Api, org_id: int):
    params = {"sync_type": "woocommerce", "entity_type": "customers"}
    first = requests.get(api.url, params=params, headers=bearer(token(org_id)), timeout=60)
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"success", "data", "meta"} and body["success"] is True
    assert set(body["meta"]) == {"timestamp", "requestId", "processingTime"}
    assert first.headers["X-Request-Id"] == body["meta"]["requestId"]
    data = body["data"]
    assert set(data) == {
        "syncType",
        "entityType",
        "connector",
        "delta",
        "computedAt",
        "expiresAt",
        "cacheHit",
        "notCompared",
        "notes",
        "localSide",
    }
    assert data["localSide"] == {"kind": "builtin", "match": "id"}
    assert (data["syncType"], data["entityType"]) == ("woocommerce", "customers")
    assert set(data["delta"]) == {"new", "updated", "deleted"}
    assert all(data["delta"][k]["count"] > 0 for k in ("new", "updated", "deleted"))

    again = requests.get(api.url, params=params, headers=bearer(token(org_id)), timeout=60)
    assert again.json()["data"]["cacheHit"] is True
    assert again.headers["Cache-Control"].startswith("private, max-age=")
    assert 0 < int(again.headers["Cache-Control"].rsplit("=", 1)[1]) <= 3600
    # the same numbers as the CLI (the same service underneath)
    cli = run_core(
        api.env,
        "preview",
        "--org",
        "demo",
        "--sync-type",
        "woocommerce",
        "--entity",
        "customers",
        "--json",
    )
    assert json.loads(cli.stdout)["data"]["delta"] == again.json()["data"]["delta"]


def test_fetch_recomputes_and_is_logged_with_the_caller(api: Api, org_id: int):
    params = {"action": "fetch", "sync_type": "odoo", "entity_type": "products"}
    answer = requests.post(api.url, params=params, headers=bearer(token(org_id)), timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["cacheHit"] is False
    assert answer.headers["Cache-Control"] == "no-store"
    log = run_core(api.env, "activity", "--org", "demo", "--limit", "5", "--json")
    events = json.loads(log.stdout)["events"]
    assert any(
        e["action"] == "refresh"
        and e["user"] == "api:billing-service"
        and e["entity_type"] == "products"
        for e in events
    ), events


def test_select_saves_the_selective_config_as_the_user(api: Api, org_id: int):
    body = {"includeNew": True, "includeUpdated": False, "includeDeleted": False}
    params = {"action": "select", "sync_type": "woocommerce", "entity_type": "orders"}
    answer = requests.post(
        api.url, params=params, json=body, headers=bearer(token(org_id, "admin")), timeout=60
    )
    assert answer.status_code == 200, answer.text
    saved = answer.json()["data"]
    assert (saved["includeNew"], saved["includeUpdated"], saved["includeDeleted"]) == (
        True,
        False,
        False,
    )
    log = run_core(api.env, "activity", "--org", "demo", "--limit", "5", "--json")
    events = json.loads(log.stdout)["events"]
    assert events[0]["action"] == "select" and events[0]["user"] == "admin"


@pytest.mark.parametrize(
    ("params", "body", "message"),
    [
        (
            {"sync_type": "shopify", "entity_type": "customers"},
            None,
            "Invalid sync_type. Must be one of: woocommerce, odoo",
        ),
        (
            {"sync_type": "odoo", "entity_type": "invoices"},
            None,
            "Invalid entity_type. Must be one of: customers, products, orders",
        ),
        (
            {"action": "delete", "sync_type": "odoo", "entity_type": "orders"},
            None,
            "Invalid action 'delete'. Must be one of: fetch, select, apply",
        ),
        (
            {"action": "select", "sync_type": "odoo", "entity_type": "orders"},
            {"includeNew": True},
            "Missing includeUpdated, includeDeleted in the request body.",
        ),
        (
            {"action": "select", "sync_type": "odoo", "entity_type": "orders"},
            {"includeNew": "yes", "includeUpdated": True, "includeDeleted": True},
            "includeNew must be true or false.",
        ),
    ],
)
def test_bad_requests_get_400_and_a_sentence(api: Api, org_id: int, params, body, message):
    method = requests.post if "action" in params else requests.get
    answer = method(api.url, params=params, json=body, headers=bearer(token(org_id)), timeout=60)
    assert answer.status_code == 400
    assert answer.json() == {
        "success": False,
        "error": message,
        "details": {"requestId": answer.headers["X-Request-Id"]},
    }


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Send a bearer token: Authorization: Bearer <token>."),
        ({"X-Org-Id": "1"}, "Send a bearer token: Authorization: Bearer <token>."),
        ("wrong key", "The token is not valid for this server."),
        ("expired", "The token has expired; ask for a new one."),
        ("other org header", "X-Org-Id does not match the token's organization."),
    ],
)
def test_callers_without_a_valid_token_get_401(api: Api, org_id: int, headers, message):
    if headers == "wrong key":
        headers = bearer(token(org_id, key="k" * 48))
    elif headers == "expired":
        headers = bearer(token(org_id, ttl=-30))
    elif headers == "other org header":
        headers = bearer(token(org_id), **{"X-Org-Id": str(org_id + 1)})
    params = {"sync_type": "woocommerce", "entity_type": "customers"}
    answer = requests.get(api.url, params=params, headers=headers, timeout=60)
    assert answer.status_code == 401
    assert answer.json()["error"] == message and answer.json()["success"] is False


def test_another_organization_sees_nothing_of_this_one(api: Api, org_id: int):
    params = {"sync_type": "woocommerce", "entity_type": "customers"}
    answer = requests.get(api.url, params=params, headers=bearer(token(org_id + 1000)), timeout=60)
    assert answer.status_code in (403, 404)
    assert answer.json()["success"] is False
    assert "delta" not in answer.text


def test_the_rate_limit_answers_429_with_retry_after(demo_env: dict[str, str], org_id: int):
    limited = Api({**demo_env, "API_RATE_LIMIT": "2/minute"})
    try:
        params = {"sync_type": "woocommerce", "entity_type": "customers"}
        codes = [
            requests.get(limited.url, params=params, headers=bearer(token(org_id)), timeout=60)
            for _ in range(3)
        ]
    finally:
        limited.stop()
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert int(codes[2].headers["Retry-After"]) > 0
    assert codes[2].json()["error"].startswith("Too many API requests for this organization")


def test_behind_a_trusted_gateway_x_org_id_alone_is_taken(demo_env: dict[str, str], org_id: int):
    gateway = Api({**demo_env, "API_TRUSTED_GATEWAY": "true"})
    try:
        params = {"sync_type": "woocommerce", "entity_type": "customers"}
        ok = requests.get(gateway.url, params=params, headers={"X-Org-Id": str(org_id)}, timeout=60)
        bad = requests.get(gateway.url, params=params, headers={"X-Org-Id": "acme"}, timeout=60)
        signed = requests.get(  # a token still has to match the header
            gateway.url,
            params=params,
            headers=bearer(token(org_id), **{"X-Org-Id": str(org_id + 1)}),
            timeout=60,
        )
    finally:
        gateway.stop()
    assert ok.status_code == 200 and ok.json()["data"]["entityType"] == "customers"
    assert bad.status_code == 401
    assert bad.json()["error"] == "X-Org-Id must name an organization by its id."
    assert signed.status_code == 401


def test_a_viewer_token_reads_but_may_not_refresh(api: Api, org_id: int):
    services = _ISSUER[0]
    admin = services.accounts.user_context("admin")
    services.accounts.add_user(admin, "vera", "Vera", "v@demo.example", "password123", "viewer")
    params = {"sync_type": "woocommerce", "entity_type": "customers"}
    read = requests.get(api.url, params=params, headers=bearer(token(org_id, "vera")), timeout=60)
    refresh = requests.post(
        api.url,
        params={**params, "action": "fetch"},
        headers=bearer(token(org_id, "vera")),
        timeout=60,
    )
    assert read.status_code == 200
    assert refresh.status_code == 403
    assert refresh.json()["error"] == (
        "You need to be an editor to refresh previews; your role is viewer."
    )
