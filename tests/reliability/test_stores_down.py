"""Our own stores taken down and brought back: a Redis and a PostgreSQL of the test's own.

Redis down: cached previews keep being served (rate limits counted in memory, said in the
log and on /api/healthz). PostgreSQL down: 503 with Retry-After and a sentence, the CLI a
sentence without a traceback; a refresh that failed meanwhile is recorded once it is back.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg2
import requests

from core.services import ratelimit
from core.services.ratelimit import OrgRateLimiter
from tests.reliability.conftest import (
    ApiProcess,
    bearer,
    core_env,
    get,
    make_demo,
    run_core,
    services_for,
    token_for,
)

CUSTOMERS = {"sync_type": "woocommerce", "entity_type": "customers"}
UNREACHABLE = "Our database did not answer (it may be restarting or busy); try again in a moment."


def test_redis_down_keeps_cached_previews_served(own_redis, sandbox, tmp_path):
    env = core_env(
        f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data", REDIS_URL=own_redis.url
    )
    auth = _demo_with_a_token(env, sandbox)
    api = ApiProcess(env)
    try:
        assert get(api.url, params=CUSTOMERS, headers=auth).status_code == 200  # computed
        healthy = get(api.base + "/api/healthz").json()["data"]
        assert (healthy["status"], healthy["rateLimits"]) == ("ok", "redis")

        own_redis.kill()
        cached = get(api.url, params=CUSTOMERS, headers=auth)
        assert cached.status_code == 200, cached.text
        assert cached.json()["data"]["cacheHit"] is True
        fresh = requests.post(api.url, params={**CUSTOMERS, "action": "fetch"}, headers=auth)
        assert fresh.status_code == 200 and fresh.json()["data"]["cacheHit"] is False
        health = get(api.base + "/api/healthz")
        assert health.status_code == 200
        data = health.json()["data"]
        assert data["status"] == "degraded" and data["database"] == "ok"
        assert data["rateLimits"].startswith("memory: The rate-limit store (Redis) is unreachable")
        assert any("counted per process" in w for w in data["warnings"])
        assert "The rate-limit store (Redis) is unreachable" in api.log()
        assert "Traceback" not in api.log()
    finally:
        api.stop()
    # the command line too: a fresh preview while Redis is down
    cli = run_core(env, "preview", "--org", "demo", "--sync-type", "odoo", "--entity", "orders",
                   "--refresh")  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "Traceback" not in cli.stderr


def test_counting_returns_to_redis_when_it_answers_again(own_redis, monkeypatch):
    monkeypatch.setattr(ratelimit, "RETRY_SECONDS", 0.0)  # try Redis again at once
    namespace = f"rel-{uuid.uuid4().hex}"
    one, other = (
        OrgRateLimiter("3/minute", own_redis.url, namespace, kind="api") for _ in range(2)
    )
    assert one.wait_after_hit(7) is None and one.state == "redis"
    own_redis.kill()
    assert one.wait_after_hit(7) is None  # counted in memory instead of failing
    assert one.degraded and "unreachable since" in one.state
    own_redis.start()
    assert one.wait_after_hit(7) is None
    assert one.state == "redis" and not one.degraded
    # shared again (the restarted Redis kept nothing): another process's limiter counts on
    assert other.wait_after_hit(7) is None
    assert other.wait_after_hit(7) is None
    assert other.wait_after_hit(7) is not None  # the 4th in a minute, of 3 allowed


def test_postgresql_down_is_503_and_a_sentence_then_served_again(own_postgres, sandbox, tmp_path):
    env = core_env(own_postgres.url, tmp_path / "data")
    auth = _demo_with_a_token(env, sandbox)
    api = ApiProcess(env)
    try:
        assert get(api.url, params=CUSTOMERS, headers=auth).status_code == 200
        own_postgres.kill()

        down = get(api.url, params=CUSTOMERS, headers=auth)
        assert down.status_code == 503, down.text
        assert down.headers["Retry-After"] == "5"
        assert down.json() == {
            "success": False,
            "error": UNREACHABLE,
            "details": {"requestId": down.headers["X-Request-Id"]},
        }
        health = get(api.base + "/api/healthz")
        assert health.status_code == 503 and health.headers["Retry-After"]
        assert health.json()["details"]["database"] == "unreachable"

        cli = run_core(env, "preview", "--org", "demo", "--sync-type", "woocommerce",
                       "--entity", "customers")  # fmt: skip
        assert cli.returncode == 2
        assert cli.stderr.strip() == f"Error: {UNREACHABLE}"

        own_postgres.start()
        back = get(api.url, params=CUSTOMERS, headers=auth)
        assert back.status_code == 200 and back.json()["data"]["cacheHit"] is True
        assert get(api.base + "/api/healthz").json()["data"]["status"] == "ok"
    finally:
        api.stop()


def test_a_refresh_that_lost_the_database_is_recorded_once_it_is_back(
    own_postgres, sandbox, tmp_path
):
    env = core_env(own_postgres.url, tmp_path / "data")
    auth = _demo_with_a_token(env, sandbox)
    api = ApiProcess(env)
    try:
        assert get(api.url, params=CUSTOMERS, headers=auth).status_code == 200
        sandbox.faults.latency_ms = 1500  # the refresh fetches for a few seconds
        answers: list[requests.Response] = []
        fetch = threading.Thread(
            target=lambda: answers.append(
                requests.post(
                    api.url, params={**CUSTOMERS, "action": "fetch"}, headers=auth, timeout=120
                )
            )
        )
        fetch.start()
        _wait_for_lease(own_postgres.port)
        own_postgres.kill()  # while it fetches: storing its result will find no database
        fetch.join(120)
        assert answers[0].status_code == 503, answers[0].text
        assert answers[0].json()["error"] == UNREACHABLE
        sandbox.faults.latency_ms = 0

        own_postgres.start()
        again = get(api.url, params=CUSTOMERS, headers=auth)  # the last good preview
        assert again.status_code == 200 and again.json()["data"]["cacheHit"] is True
    finally:
        api.stop()
    log = run_core(env, "activity", "--org", "demo", "--action", "refresh", "--json")
    failed = [e for e in json.loads(log.stdout)["events"] if e["status"] == "failed"]
    assert [(e["user"], e["error"]) for e in failed] == [("api:reports", UNREACHABLE)]


def _demo_with_a_token(env: dict[str, str], sandbox) -> dict[str, str]:
    """The demo organization on the database of ``env``, and a service token's header."""
    services = services_for(env)
    try:
        org = make_demo(services, sandbox)
        return bearer(token_for(services, org.org_id, "reports"))
    finally:
        services.close()


def _wait_for_lease(port: int) -> None:
    """Until a refresh holds a lease (it has started) in the test's own PostgreSQL."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres")
        try:
            with conn.cursor() as cur:
                # every refresh is a job: its lease is the job's
                cur.execute("SELECT count(*) FROM jobs WHERE lease_until IS NOT NULL")
                if cur.fetchone()[0]:
                    return
        finally:
            conn.close()
        time.sleep(0.05)
    raise AssertionError("no refresh started")
