"""The JSON API against callers who try tricks: bodies before a token, bodies too big, too
deep or not JSON, tokens that outlive their user or their revocation, ids no table holds,
headers sent twice — every answer in the envelope, none of them a 500."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests

from core.bootstrap import Services
from tests.reliability.conftest import (
    API_SECRET,
    PREVIEW,
    ApiProcess,
    bearer,
    core_env,
    make_demo,
    run_core,
    services_for,
    token_for,
)

CUSTOMERS = {"sync_type": "woocommerce", "entity_type": "customers"}
SELECT = {"action": "select", **CUSTOMERS}
CHOICE = {"includeNew": True, "includeUpdated": True, "includeDeleted": False}


class Deployment:
    """A demo organization, services in this process, and the API in its own process."""

    def __init__(self, env: dict[str, str], services: Services, org_id: int) -> None:
        self.env, self.services, self.org_id = env, services, org_id
        self.api = ApiProcess(env)


@pytest.fixture(scope="module")
def deployment(sandbox, tmp_path_factory) -> Iterator[Deployment]:
    data = tmp_path_factory.mktemp("hostile")
    env = core_env(f"sqlite:///{data / 'db.sqlite'}", data / "data")
    services = services_for(env)
    org = make_demo(services, sandbox)
    made = Deployment(env, services, org.org_id)
    try:
        yield made
    finally:
        made.api.stop()
        services.close()


def _envelope_error(answer: requests.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["success"] is False
    assert body["details"]["requestId"] == answer.headers["X-Request-Id"]
    return str(body["error"])


def test_a_body_is_not_read_before_the_caller_is_known(deployment):
    api = deployment.api
    before = api.rss_mb()
    nested = b"[" * 5_000_000  # 5 MB that a recursive parser would chew on
    started = time.monotonic()
    answer = requests.post(
        api.url, params=SELECT, data=nested, headers={"Content-Type": "application/json"}
    )
    assert time.monotonic() - started < 5
    assert _envelope_error(answer, 401) == "Send a bearer token: Authorization: Bearer <token>."
    assert api.rss_mb() - before < 50


def test_bodies_are_capped_json_and_not_too_deep(deployment):
    api, auth = deployment.api, bearer(token_for(deployment.services, deployment.org_id, "etl"))
    big = b'{"includeNew": true, "pad": "' + b"x" * 70_000 + b'"}'
    too_big = requests.post(
        api.url, params=SELECT, data=big, headers={**auth, "Content-Type": "application/json"}
    )
    assert _envelope_error(too_big, 413) == "The request body is larger than 64 KB."
    plain = requests.post(
        api.url,
        params=SELECT,
        data=b"includeNew=true",
        headers={**auth, "Content-Type": "text/plain"},
    )
    assert _envelope_error(plain, 415) == (
        "Send the body as JSON, with Content-Type: application/json."
    )
    deep = requests.post(
        api.url,
        params=SELECT,
        data=b"[" * 30_000 + b"]" * 30_000,  # 60 KB, 30,000 levels deep
        headers={**auth, "Content-Type": "application/json"},
    )
    assert _envelope_error(deep, 400) == "The request body is not valid JSON."
    fine = requests.post(api.url, params=SELECT, json=CHOICE, headers=auth)
    assert fine.status_code == 200 and fine.json()["data"]["includeDeleted"] is False


def test_unknown_paths_and_methods_answer_in_the_envelope(deployment):
    api = deployment.api
    missing = requests.get(api.base + "/api/v1/integrations/sync/nothing")
    assert "There is no /api/v1/integrations/sync/nothing here" in _envelope_error(missing, 404)
    wrong = requests.put(api.url, params=CUSTOMERS)
    assert _envelope_error(wrong, 405) == "PUT is not allowed here; use GET, POST."
    assert wrong.headers["Allow"] == "GET, POST"


def test_a_deactivated_users_token_stops_working(deployment):
    services, api = deployment.services, deployment.api
    admin = services.accounts.user_context("admin")
    services.accounts.add_user(admin, "vera", "Vera", "vera@demo.example", "vera-pass-1", "viewer")
    auth = bearer(token_for(services, deployment.org_id, "vera"))
    fetch = {**CUSTOMERS, "action": "fetch"}
    assert requests.post(api.url, params=fetch, headers=auth).status_code == 403  # a viewer
    services.accounts.set_active(admin, "vera", False)
    refused = requests.post(api.url, params=fetch, headers=auth)
    assert _envelope_error(refused, 401) == (
        "The token's user 'vera' was deactivated or no longer exists."
    )
    assert _envelope_error(requests.get(api.url, params=CUSTOMERS, headers=auth), 401)


def test_a_revoked_or_unknown_token_is_refused(deployment):
    services, api = deployment.services, deployment.api
    issued = token_for(services, deployment.org_id, "billing")
    assert requests.get(api.url, params=CUSTOMERS, headers=bearer(issued)).status_code == 200
    token_id = jwt.decode(issued, API_SECRET, algorithms=["HS256"])["jti"]
    revoked = run_core(deployment.env, "revoke-token", "--org", "demo", "--id", token_id)
    assert revoked.returncode == 0, revoked.stderr
    answer = requests.get(api.url, params=CUSTOMERS, headers=bearer(issued))
    assert "revoked" in _envelope_error(answer, 401)
    # signed with the right key but never issued here (no id, or an id nobody recorded)
    for claims in (
        {"org_id": deployment.org_id, "sub": "billing"},
        {"org_id": deployment.org_id, "sub": "billing", "kind": "service", "jti": "f00d"},
    ):
        forged = _signed(claims)
        assert _envelope_error(requests.get(api.url, params=CUSTOMERS, headers=bearer(forged)), 401)


def test_ids_no_table_can_hold_are_refused(deployment):
    api = deployment.api
    for org_id in (10**30, -1, "99999999999999999999"):
        tok = _signed({"org_id": org_id, "sub": "billing", "kind": "service", "jti": "a1"})
        answer = requests.get(api.url, params=CUSTOMERS, headers=bearer(tok))
        assert _envelope_error(answer, 401) == "The token's org_id is not an organization id."


def test_headers_sent_twice_are_refused(deployment):
    auth = bearer(token_for(deployment.services, deployment.org_id, "etl"))
    status, body = _raw_get(
        deployment.api.port,
        [
            ("Authorization", auth["Authorization"]),
            ("X-Org-Id", str(deployment.org_id)),
            ("X-Org-Id", str(deployment.org_id + 1)),
        ],
    )
    assert status == 400 and body["error"] == "Send the X-Org-Id header once, not 2 times."


def test_behind_a_gateway_the_org_header_is_checked(deployment):
    gateway = ApiProcess({**deployment.env, "API_TRUSTED_GATEWAY": "true"})
    try:
        ok = requests.get(
            gateway.url, params=CUSTOMERS, headers={"X-Org-Id": str(deployment.org_id)}
        )
        assert ok.status_code == 200
        huge = requests.get(gateway.url, params=CUSTOMERS, headers={"X-Org-Id": str(10**30)})
        assert _envelope_error(huge, 401) == "X-Org-Id must name an organization by its id."
        org = str(deployment.org_id)
        status, body = _raw_get(gateway.port, [("X-Org-Id", org), ("X-Org-Id", "1")])
        assert status == 400 and body["success"] is False
    finally:
        gateway.stop()


def test_an_empty_api_secret_closes_the_api_and_breaks_nothing_else(deployment):
    env = {**deployment.env, "API_JWT_SECRET": ""}
    cli = run_core(env, "preview", "--org", "demo", "--sync-type", "odoo", "--entity", "orders")
    assert cli.returncode == 0, cli.stderr
    closed = ApiProcess(env)
    try:
        issued = token_for(deployment.services, deployment.org_id, "etl")
        answer = requests.get(closed.url, params=CUSTOMERS, headers=bearer(issued))
        assert _envelope_error(answer, 401) == (
            "The JSON API is closed on this server (no API_JWT_SECRET)."
        )
        health = requests.get(closed.base + "/api/healthz")
        assert health.status_code == 200 and health.json()["data"]["database"] == "ok"
    finally:
        closed.stop()


def _signed(claims: dict[str, Any]) -> str:
    return jwt.encode({**claims, "exp": int(time.time()) + 600}, API_SECRET, algorithm="HS256")


def _raw_get(port: int, headers: list[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
    """A GET with the headers exactly as given (requests merges repeated names)."""
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("GET", f"{PREVIEW}?sync_type=woocommerce&entity_type=customers")
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()
