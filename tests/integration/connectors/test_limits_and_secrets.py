"""Hard per-call timeout, overall deadline, the official client, and secrets kept out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
import requests
from woocommerce import API

from core.connectors import ConnectorConfig, build_connector
from core.errors import ConnectorError, ExternalTimeout
from core.sandbox import SandboxServer

from .conftest import SECRETS, WOO_KEY, WOO_SECRET, MakeConnector, fetch_all


@pytest.mark.timeout(30)
def test_trickling_woocommerce_is_cut_at_the_limit(sb: SandboxServer, woo: MakeConnector) -> None:
    sb.faults.trickle = 20  # bytes per second, forever for a page of customers
    started = time.monotonic()
    with pytest.raises(ExternalTimeout) as err:
        fetch_all(woo(timeout=2), "customers")
    elapsed = time.monotonic() - started
    assert 1.9 < elapsed < 3.0
    assert str(err.value) == f"WooCommerce at {sb.url} did not answer within 2 s."


@pytest.mark.timeout(30)
def test_trickling_odoo_is_cut_at_the_limit(sb: SandboxServer, odoo: MakeConnector) -> None:
    sb.faults.trickle = 20
    started = time.monotonic()
    with pytest.raises(ExternalTimeout, match="did not answer within 1.5 s"):
        odoo(timeout=1.5).test_connection()
    assert time.monotonic() - started < 2.5


@pytest.mark.timeout(30)
def test_overall_deadline_bounds_the_iteration(sb: SandboxServer, woo: MakeConnector) -> None:
    sb.faults.latency_ms = 300
    started = time.monotonic()
    with pytest.raises(ExternalTimeout, match="overall time limit"):
        fetch_all(woo(deadline=time.monotonic() + 1.0, concurrency=1), "customers")
    assert time.monotonic() - started < 1.5


def test_official_woocommerce_client_works_unchanged(sb: SandboxServer) -> None:
    api = API(
        url=sb.url, consumer_key=WOO_KEY, consumer_secret=WOO_SECRET, version="wc/v3", timeout=10
    )
    response = api.get(
        "products", params={"per_page": 20, "page": 2, "orderby": "id", "order": "asc"}
    )
    assert response.status_code == 200
    assert response.headers["X-WP-Total"] == "250" and response.headers["X-WP-TotalPages"] == "13"
    assert [p["id"] for p in response.json()] == list(range(21, 41))
    bad = API(url=sb.url, consumer_key=WOO_KEY, consumer_secret="cs_wrong", version="wc/v3")
    denied = bad.get("customers")
    assert denied.status_code == 401
    assert denied.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Invalid signature - provided signature does not match.",
        "data": {"status": 401},
    }


def test_unauthenticated_request_gets_the_documented_body(sb: SandboxServer) -> None:
    response = requests.get(f"{sb.url}/wp-json/wc/v3/orders", timeout=5)
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_cannot_view"
    missing = requests.get(f"{sb.url}/wp-json/wc/v3/nothing", timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == "rest_no_route"


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "oauth_signature=" not in text.replace("oauth_signature=***", "")


@pytest.mark.timeout(60)
def test_no_secret_in_any_message_or_log(
    sb: SandboxServer, woo: MakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    messages: list[str] = []
    fetch_all(woo(), "customers")  # urllib3 logs every signed URL at DEBUG
    assert any("oauth_signature=***" in r.getMessage() for r in caplog.records)
    attempts: list[Callable[[], object]] = [
        lambda: woo(secret=WOO_SECRET + "x").test_connection(),
        lambda: woo(url="http://127.0.0.1:9", timeout=2).test_connection(),
        lambda: woo(url=sb.url + "/shop").test_connection(),
    ]
    for protocol in ("xmlrpc", "json2"):
        creds = {
            "database": "sandbox",
            "username": "admin",
            "password": SECRETS[1] + "x",
            "api_key": SECRETS[2] + "x",
        }
        config = ConnectorConfig("odoo", sb.url, creds, {"protocol": protocol})
        messages.append(repr(config))

        def test(c: ConnectorConfig = config) -> str:
            return build_connector(c).test_connection()

        attempts.append(test)
    for fault in ("rate_429", "rate_500"):

        def run(fault: str = fault) -> None:
            setattr(sb.faults, fault, 1.0)
            sb.faults.retry_after = 0
            try:
                fetch_all(woo(), "products")
            finally:
                sb.faults.reset()

        attempts.append(run)
    for attempt in attempts:
        with pytest.raises(ConnectorError) as err:
            attempt()
        messages.append(str(err.value))
        messages.append(repr(err.value))
    sb.faults.trickle = 50
    with pytest.raises(ExternalTimeout) as err:
        woo(timeout=1).test_connection()
    messages.append(str(err.value))
    sb.faults.reset()
    for text in messages + [r.getMessage() for r in caplog.records]:
        _assert_clean(text)
    assert len(caplog.records) > 10
