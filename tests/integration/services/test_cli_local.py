"""`python -m core localdb / mapping / import` in a real process, on a real database, with an
SQLite file of the organization's own (its own column names) and the sandbox store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from tests.integration.services.conftest import core_env, make_services, run_core


@pytest.fixture
def cli_env(db_url, tmp_path):
    return core_env(db_url, tmp_path / "data")


def _shop_file(db_url: str, tmp_path: Path) -> Path:
    """The demo's local WooCommerce customers in an SQLite file laid out unlike our tables."""
    services = make_services(db_url, tmp_path / "svc")
    try:
        org = services.accounts.operator("demo")
        with tenant_session(services.sessions, org.org_id) as s:
            rows = list(LocalRecords(s).iter_rows("woocommerce", "customers"))
    finally:
        services.close()
    path = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE clients (no INTEGER PRIMARY KEY, woo_id TEXT, mail TEXT, "
        "full_name TEXT, town TEXT)"
    )
    conn.executemany(
        "INSERT INTO clients (woo_id, mail, full_name, town) VALUES (?, ?, ?, ?)",
        [(r["external_id"], r["email"], r["name"], r["city"]) for r in rows],
    )
    conn.commit()
    conn.close()
    return path


def test_an_operator_connects_maps_and_previews_from_the_command_line(
    cli_env, sandbox, db_url, tmp_path
):
    demo = run_core(
        cli_env, "demo", "--sandbox-url", sandbox.url, "--admin-password", "pw-12345678"
    )
    assert demo.returncode == 0, demo.stderr
    shop = _shop_file(db_url, tmp_path)

    # A password from the environment: never on the command line, never printed.
    secret = "Wh1sper-42-secret"
    env = cli_env | {"CRM_PASSWORD": secret}
    out = run_core(
        env,
        "localdb",
        "set",
        "--org",
        "demo",
        "--url",
        "postgresql://reader@127.0.0.1:1/crm",
        "--password-env",
        "CRM_PASSWORD",
    )
    assert out.returncode == 0, out.stderr
    assert "with a password (stored encrypted)" in out.stdout and secret not in out.stdout
    test = run_core(env, "localdb", "test", "--org", "demo")
    assert test.returncode == 2 and "Nothing answers at 127.0.0.1:1" in test.stderr
    assert secret not in test.stderr + test.stdout
    shown = json.loads(run_core(env, "localdb", "show", "--org", "demo", "--json").stdout)
    assert shown["password"] == "••••••" and shown["url"] == "postgresql://reader@127.0.0.1:1/crm"

    out = run_core(cli_env, "localdb", "set", "--org", "demo", "--url", f"sqlite:///{shop}")
    assert out.returncode == 0, out.stderr
    test = run_core(cli_env, "localdb", "test", "--org", "demo")
    assert test.returncode == 0 and "read-only: 1 table or view visible" in test.stdout

    mapping = ["--org", "demo", "--sync-type", "woocommerce", "--entity", "customers"]
    refused = run_core(
        cli_env,
        "mapping",
        "set",
        *mapping,
        "--query",
        "UPDATE clients SET mail = 'x'",
        "--match",
        "natural",
        "--column",
        "email=mail",
    )
    assert refused.returncode == 2 and "Nothing was run" in refused.stderr
    wrong = run_core(
        cli_env,
        "mapping",
        "set",
        *mapping,
        "--table",
        "clients",
        "--match",
        "id:woo_id",
        "--column",
        "email=email",
    )
    assert wrong.returncode == 2 and "has no column 'email'" in wrong.stderr

    saved = run_core(
        cli_env,
        "mapping",
        "set",
        *mapping,
        "--table",
        "clients",
        "--match",
        "id:woo_id",
        "--column",
        "email=mail",
        "--column",
        "name=full_name",
        "--column",
        "city=town",
    )
    assert saved.returncode == 0, saved.stderr
    assert "version 1" in saved.stdout
    shown = json.loads(run_core(cli_env, "mapping", "show", "--org", "demo", "--json").stdout)
    assert [(m["syncType"], m["entityType"], m["version"], m["compared"]) for m in shown] == [
        ("woocommerce", "customers", 1, ["email", "name", "city"])
    ]
    preview = run_core(cli_env, "preview", *mapping, "--json")
    assert preview.returncode == 0, preview.stderr
    data = json.loads(preview.stdout)["data"]
    assert data["localSide"]["kind"] == "database" and data["localSide"]["match"] == "id"
    assert "phone" in data["notCompared"] and "city" not in data["notCompared"]
    assert data["delta"]["updated"]["count"] > 0  # the demo's changed cities and names

    removed = run_core(cli_env, "mapping", "remove", *mapping)
    assert removed.returncode == 0 and "our own tables" in removed.stdout
    data = json.loads(run_core(cli_env, "preview", *mapping, "--json").stdout)["data"]
    assert data["localSide"] == {"kind": "builtin", "match": "id"}
    history = run_core(cli_env, "mapping", "history", *mapping)
    assert history.returncode == 0 and "version 1, saved by the operator" in history.stdout
    assert "version 2" in history.stdout


def test_an_operator_imports_a_spreadsheet(cli_env, sandbox, tmp_path):
    demo = run_core(
        cli_env, "demo", "--sandbox-url", sandbox.url, "--admin-password", "pw-12345678"
    )
    assert demo.returncode == 0, demo.stderr
    sheet = tmp_path / "products.csv"
    sheet.write_text("Article;Label;Price\nA-1;Apple;1.50\nB-2;Bread;two\nC-3;Cheese;12\n")
    args = [
        "import",
        "--org",
        "demo",
        "--entity",
        "products",
        "--file",
        str(sheet),
        "--sync-type",
        "odoo",
        "--column",
        "sku=Article",
        "--column",
        "name=Label",
        "--column",
        "price=Price",
    ]
    refused = run_core(cli_env, *args)
    assert refused.returncode == 1
    assert "row 3, column Price: 'two' is not an amount (price)" in refused.stdout
    assert "Nothing was imported" in refused.stdout
    done = run_core(cli_env, *args, "--valid-only", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["imported"] == 2 and body["syncTypes"] == ["odoo"]
    assert body["version"]["kind"] == "file" and body["version"]["match"] == "natural"
    preview = run_core(
        cli_env, "preview", "--org", "demo", "--sync-type", "odoo", "--entity", "products", "--json"
    )
    data = json.loads(preview.stdout)["data"]
    assert data["localSide"]["kind"] == "file" and data["localSide"]["matchKey"] == "sku"
    assert data["delta"]["deleted"]["count"] <= 2
