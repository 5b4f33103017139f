"""No secret in anything Sync Preview writes: the database (pg_dump), the logs (a process
logging at DEBUG, the API's), the activity log, error messages and answers."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
import requests

from core.errors import SyncPreviewError
from core.sandbox import SandboxServer
from tests.reliability.conftest import (
    API_SECRET,
    ROOT,
    ApiProcess,
    bearer,
    core_env,
    run_core,
    services_for,
    token_for,
)

DEBUG_REFRESH = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(level=logging.DEBUG, filename=sys.argv[1], format="%(name)s %(message)s")
    from core.bootstrap import build_services
    svc = build_services()
    operator = svc.accounts.operator("acme")
    for sync_type, entity in (("woocommerce", "customers"), ("odoo", "orders")):
        snap = svc.previews.get_preview_snapshot(operator, sync_type, entity, force_refresh=True)
        assert snap.refresh_error is None, snap.refresh_error
    svc.close()
    """
)


@pytest.fixture
def shop() -> Iterator[SandboxServer]:
    server = SandboxServer(
        size=60,
        seed=11,
        woo_key="ck_" + secrets.token_hex(16),
        woo_secret="cs_" + secrets.token_hex(16),
        odoo_password="odoo-pw-" + secrets.token_hex(8),
        odoo_api_key="odoo-key-" + secrets.token_hex(12),
    ).start()
    try:
        yield server
    finally:
        server.stop()


def test_no_secret_is_written_anywhere(own_postgres, shop, tmp_path):
    password = "admin-pw-" + secrets.token_hex(8)
    wrong_secret = "cs_wrong_" + secrets.token_hex(12)
    wrong_password = "wrong-pw-" + secrets.token_hex(8)
    env = core_env(
        own_postgres.url, tmp_path / "data", COOKIE_KEY="cookie-" + secrets.token_hex(20)
    )
    services = services_for(env)
    try:
        admin = services.accounts.create_organization(
            "Acme",
            admin_username="ann",
            admin_name="Ann",
            admin_email="ann@acme.example",
            admin_password=password,
        )
        woo = {"consumer_key": shop.woo_key, "consumer_secret": shop.woo_secret}
        odoo = {
            "database": shop.odoo_db,
            "username": shop.odoo_user,
            "password": shop.odoo_password,
            "api_key": shop.odoo_api_key,
        }
        services.connectors.add(admin, "woocommerce", "Shop", shop.url, woo)  # plain HTTP: OAuth 1
        services.connectors.add(admin, "odoo", "ERP", shop.url, odoo, {"protocol": "xmlrpc"})
        token = token_for(services, admin.org_id, "billing")
        written: list[str] = []

        # a process that logs everything at DEBUG (oauthlib logs its parameters there)
        debug_log = tmp_path / "debug.log"
        refresh = subprocess.run(
            [sys.executable, "-c", DEBUG_REFRESH, str(debug_log)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refresh.returncode == 0, refresh.stderr
        written.append(debug_log.read_text())
        assert "oauth_consumer_key" in written[-1]  # it did log the OAuth parameters

        # failures: connectors with keys and passwords that are wrong (and secret too)
        stale = [
            services.connectors.add(
                admin, "woocommerce", "Old shop", shop.url, {**woo, "consumer_secret": wrong_secret}
            ),
            services.connectors.add(
                admin,
                "odoo",
                "Old ERP",
                shop.url,
                {**odoo, "password": wrong_password, "api_key": wrong_password},
                {"protocol": "json2"},
            ),
        ]
        for connector in stale:
            with pytest.raises(SyncPreviewError) as refused:
                services.connectors.test(admin, connector.id)
            written.append(str(refused.value))
            written.append(repr(refused.value))
        with pytest.raises(SyncPreviewError) as wrong:
            services.accounts.sign_in("ann", password + "x")
        written.append(str(wrong.value))

        api = ApiProcess(env)
        try:
            for params in (
                {"sync_type": "woocommerce", "entity_type": "customers"},
                {"sync_type": "odoo", "entity_type": "orders", "action": "fetch"},
            ):
                answer = requests.request(
                    "POST" if "action" in params else "GET",
                    api.url,
                    params=params,
                    headers=bearer(token),
                    timeout=60,
                )
                written.append(answer.text)
            written.append(requests.get(api.url, headers=bearer(token + "x"), timeout=60).text)
        finally:
            api.stop()
        written.append(api.log())
        # your own database: its password, by the dashboard's way and the command line's
        crm_password = "crm-pw-" + secrets.token_hex(8)
        services.local_data.set_database(
            admin,
            services.local_data.draft_settings(
                url=f"postgresql://reader:{crm_password}@127.0.0.1:1/crm"
            ),
        )
        check = services.local_data.test_database(admin)
        assert not check.ok
        written.append(check.message)
        cli_env = env | {"CRM_PW": crm_password}
        for args in (
            (
                "localdb",
                "set",
                "--org",
                "acme",
                "--url",
                "mysql://reader@127.0.0.1:1/crm",
                "--password-env",
                "CRM_PW",
            ),
            ("localdb", "test", "--org", "acme"),
            ("localdb", "show", "--org", "acme", "--json"),
        ):
            done = run_core(cli_env, *args)
            written.extend((done.stdout, done.stderr))
        activity = run_core(env, "activity", "--org", "acme", "--limit", "500", "--json")
        written.append(activity.stdout)
        assert len(json.loads(activity.stdout)["events"]) > 8
    finally:
        services.close()
    dump = own_postgres.dump()
    assert b"sync_activity_log" in dump and b"integration_connector" in dump
    assert b"local_database" in dump

    values = {
        "WooCommerce consumer key": woo["consumer_key"],
        "WooCommerce consumer secret": woo["consumer_secret"],
        "Odoo password": odoo["password"],
        "Odoo API key": odoo["api_key"],
        "a user's password": password,
        "API_JWT_SECRET": API_SECRET,
        "SECRET_KEY": env["SECRET_KEY"],
        "COOKIE_KEY": env["COOKIE_KEY"],
        "an API token": token,
        "a wrong consumer secret": wrong_secret,
        "a wrong Odoo password": wrong_password,
        "your database's password": crm_password,
    }
    for what, value in values.items():
        assert value.encode() not in dump, f"{what} is in the database"
        for n, text in enumerate(written):
            assert value not in text, f"{what} is in what was written ({n}): {text[:300]}"
