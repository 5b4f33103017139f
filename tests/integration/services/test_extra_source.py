"""A source added as docs/adding-a-source.md says is seen by the services, the CLI and the API.

CSV Shop (tests/integration/extra_source/csvshop.py) is one module: a spec, its mappings,
its connector. Registered, it is a sync type like WooCommerce: connectors of it can be added
and tested, its previews computed, and the CLI and the API accept ``csvshop``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core import sources
from core.api.tokens import issue_token
from core.bootstrap import Services
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.delta import to_canonical
from core.services.actors import UserContext
from tests.integration.extra_source import csvshop
from tests.integration.services.conftest import ROOT, core_env, run_core

TOKEN = "csv-token-5e1f0c2a"
API_SECRET = "x" * 48
RUN_WITH_CSVSHOP = ("-m", "tests.integration.extra_source.run_core")


def _customer(n: int, city: str) -> dict[str, str]:
    return {
        "id": str(n),
        "email": f"Buyer{n}@Example.com ",
        "first_name": f"Buyer{n}",
        "last_name": "Smith",
        "phone": f"+33 1 00 00 00 0{n}",
        "city": city,
        "country": "fr",
    }


@pytest.fixture
def shop() -> Iterator[csvshop.CsvShopServer]:
    server = csvshop.CsvShopServer(TOKEN).start()
    server.records["customers"] = [_customer(n, "Lyon") for n in range(1, 6)]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def with_csvshop() -> Iterator[None]:
    csvshop.register()
    try:
        yield
    finally:
        sources.unregister(csvshop.SPEC.key)


def _run_with_csvshop(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *RUN_WITH_CSVSHOP, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_registered_source_is_a_sync_type_everywhere(
    services: Services,
    admin: UserContext,
    shop: csvshop.CsvShopServer,
    with_csvshop: None,
    db_url: str,
    tmp_path: Path,
) -> None:
    # Services: a connector of the new source, tested with its secret credential.
    connector = services.connectors.add(admin, "csvshop", "Shop export", shop.url, {"token": TOKEN})
    assert services.connectors.test(admin, connector.id) == (
        f"Connected to CSV Shop at {shop.url}: 5 customers."
    )
    assert connector.shown_credentials["token"] != TOKEN

    # Local records that differ: #3 moved, #5 is not here yet, #9 is gone from the shop.
    local = [to_canonical("csvshop", "customers", row) for row in shop.records["customers"]]
    local[2]["city"] = "Paris"
    gone = dict(local[0], external_id="9", email="former@example.com")
    with tenant_session(services.sessions, admin.org_id) as s:
        LocalRecords(s).upsert("csvshop", "customers", [*local[:4], gone])

    snap = services.previews.get_preview_snapshot(admin, "csvshop", "customers")
    assert snap.refresh_error is None
    assert snap.counts == {"new": 1, "updated": 1, "deleted": 1, "unchanged": 3}
    (updated,) = snap.records["updated"]
    assert updated["external_id"] == "3"
    assert updated["changes"] == [{"field": "city", "old": "Paris", "new": "Lyon"}]
    assert [r["email"] for r in snap.records["new"]] == ["buyer5@example.com"]

    # The CLI: a process that has the source accepts --sync-type csvshop ...
    env = core_env(db_url, tmp_path / "cli", API_JWT_SECRET=API_SECRET)
    org = str(admin.org_id)
    preview = ("preview", "--org", org, "--sync-type", "csvshop", "--entity", "customers")
    out = _run_with_csvshop(env, *preview, "--json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["data"]["syncType"] == "csvshop"
    assert {k: v["count"] for k, v in body["data"]["delta"].items()} == {
        "new": 1,
        "updated": 1,
        "deleted": 1,
    }
    # ... one without it does not know it (nothing else was changed to add it).
    plain = run_core(env, *preview)
    assert plain.returncode != 0
    assert "Invalid sync_type. Must be one of: woocommerce, odoo" in plain.stderr

    # The API: sync_type=csvshop passes its validation; an unknown one is refused with the
    # list of the process's sources.
    port = _free_port()
    with open(tmp_path / "api.log", "w") as log:
        api = subprocess.Popen(
            [sys.executable, *RUN_WITH_CSVSHOP, "api", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/api/v1/integrations/sync/preview"
            grant = services.api_tokens.issue(
                services.accounts.operator(admin.org_id), "reports", days=1
            )
            signed = issue_token(
                API_SECRET,
                admin.org_id,
                grant.subject,
                token_id=grant.token_id,
                kind=grant.kind,
                expires_at=int(time.time()) + 600,
            )
            headers = {"Authorization": f"Bearer {signed}"}
            deadline = time.monotonic() + 60
            while True:
                try:
                    answer = requests.get(
                        url,
                        params={"sync_type": "csvshop", "entity_type": "customers"},
                        headers=headers,
                        timeout=10,
                    )
                    break
                except requests.ConnectionError:
                    assert api.poll() is None and time.monotonic() < deadline, (
                        tmp_path / "api.log"
                    ).read_text()
                    time.sleep(0.2)
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["delta"]["updated"]["count"] == 1
            select = requests.post(
                url,
                params={"action": "select", "sync_type": "csvshop", "entity_type": "customers"},
                json={"includeNew": True, "includeUpdated": True, "includeDeleted": False},
                headers=headers,
                timeout=10,
            )
            assert select.status_code == 200, select.text
            unknown = requests.get(
                url,
                params={"sync_type": "shopify", "entity_type": "customers"},
                headers=headers,
                timeout=10,
            )
            assert unknown.status_code == 400
            assert unknown.json()["error"] == (
                "Invalid sync_type. Must be one of: woocommerce, odoo, csvshop"
            )
        finally:
            api.terminate()
            api.wait(10)


def test_an_incomplete_source_is_refused_when_registered(with_csvshop: None) -> None:
    from dataclasses import replace

    from core.errors import ConfigError

    mappings = {**csvshop.SPEC.mappings, "orders": {}}
    with pytest.raises(ConfigError, match="must map every orders field"):
        sources.register(replace(csvshop.SPEC, key="halfshop", mappings=mappings))
    with pytest.raises(ConfigError, match="Two sources have the key 'csvshop'"):
        sources.register(replace(csvshop.SPEC))
    assert [spec.key for spec in sources.specs()] == ["woocommerce", "odoo", "csvshop"]


def test_a_record_the_engine_cannot_read_fails_the_refresh_as_a_bad_response(
    services: Services, admin: UserContext, shop: csvshop.CsvShopServer, with_csvshop: None
) -> None:
    from core.errors import BadResponse

    shop.records["products"] = [
        {"id": "1", "sku": "A-1", "title": "Lamp", "price": "12.50", "stock": "3"},
        {"id": "2", "sku": "B-2", "title": "Desk", "price": "abc", "stock": "1"},
    ]
    services.connectors.add(admin, "csvshop", "Shop export", shop.url, {"token": TOKEN})
    with pytest.raises(BadResponse) as failed:
        services.previews.get_preview_snapshot(admin, "csvshop", "products", force_refresh=True)
    assert str(failed.value) == "Record 2 from CSV Shop (products) has an unreadable price 'abc'."
