"""`python -m core ...` as an operator runs it: a real process, a real database, the sandbox."""

from __future__ import annotations

import json

import pytest

from core.sandbox import SandboxServer
from core.services.demo import WOO_CREDENTIALS
from tests.integration.services.conftest import core_env, make_services, run_core


@pytest.fixture
def cli_env(db_url, tmp_path):
    return core_env(db_url, tmp_path / "data")


def test_demo_then_preview_json_is_the_api_envelope(cli_env, sandbox):
    demo = run_core(
        cli_env, "demo", "--sandbox-url", sandbox.url, "--admin-password", "demo-pass-123"
    )
    assert demo.returncode == 0, demo.stderr
    assert "Demo organization 'demo' is ready" in demo.stdout

    out = run_core(
        cli_env,
        "preview",
        "--org",
        "demo",
        "--sync-type",
        "woocommerce",
        "--entity",
        "customers",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert set(body) == {"success", "data", "meta"} and body["success"] is True
    assert set(body["meta"]) == {"timestamp", "requestId", "processingTime"}
    assert body["meta"]["timestamp"].endswith("Z") and body["meta"]["processingTime"].endswith("ms")
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
    assert data["notCompared"] == []  # WooCommerce has every customer field
    assert data["notes"] == ["WooCommerce customers read: WordPress users with the role customer."]
    assert (data["syncType"], data["entityType"], data["cacheHit"]) == (
        "woocommerce",
        "customers",
        False,
    )
    assert data["connector"]["name"] == "Demo WooCommerce store"  # the source's default
    assert set(data["delta"]) == {"new", "updated", "deleted"}
    for block in data["delta"].values():
        assert set(block) == {"count", "records"} and block["count"] > 0 and block["records"]
    upd = data["delta"]["updated"]["records"][0]
    assert {"external_id", "before", "after", "changes"} <= set(upd)
    assert data["computedAt"].endswith("Z") and data["expiresAt"] > data["computedAt"]

    again = json.loads(
        run_core(
            cli_env,
            "preview",
            "--org",
            "demo",
            "--sync-type",
            "woocommerce",
            "--entity",
            "customers",
            "--json",
        ).stdout
    )
    assert again["data"]["cacheHit"] is True and again["data"]["delta"] == data["delta"]

    table = run_core(
        cli_env, "preview", "--org", "demo", "--sync-type", "woocommerce", "--entity", "customers"
    )
    assert f"{data['delta']['new']['count']:,} new" in table.stdout
    assert table.stdout.startswith("Demo WooCommerce store (woocommerce) customers:")

    inv = run_core(cli_env, "invalidate", "--org", "demo", "--sync-type", "woocommerce")
    assert inv.returncode == 0 and "Expired 1 cached preview" in inv.stdout

    log = json.loads(run_core(cli_env, "activity", "--org", "demo", "--json").stdout)
    actions = [e["action"] for e in log["events"]]
    assert actions[:4] == ["invalidate", "view", "view", "refresh"]
    assert actions[-1] == "setup" and "demo_loaded" in actions
    # the operator is named as before: unnamed, but "admin" for the demo it loads for them
    users = {e["action"]: e["user"] for e in log["events"]}
    assert users["refresh"] is None and users["invalidate"] is None
    assert users["demo_loaded"] == users["connector_added"] == users["setup"] == "admin"


def test_wrong_arguments_get_the_api_message_and_fail(cli_env):
    out = run_core(
        cli_env, "preview", "--org", "demo", "--sync-type", "shopify", "--entity", "customers"
    )
    assert out.returncode != 0
    assert "Invalid sync_type. Must be one of: woocommerce, odoo" in out.stderr
    out = run_core(
        cli_env, "preview", "--org", "demo", "--sync-type", "odoo", "--entity", "invoices", "--json"
    )
    assert out.returncode != 0
    body = json.loads(out.stdout)
    assert body["success"] is False
    assert body["error"] == "Invalid entity_type. Must be one of: customers, products, orders"
    assert body["details"]["requestId"]
    out = run_core(cli_env, "preview", "--org", "nope", "--sync-type", "odoo", "--entity", "orders")
    assert out.returncode != 0 and "There is no organization 'nope'" in out.stderr


def test_preview_names_the_connector_or_takes_the_default(cli_env, db_url, tmp_path, sandbox):
    """With two WooCommerce stores, --connector picks one (its source comes with it); without
    it, --sync-type's default connector (the first added, not the first by name)."""
    demo = run_core(cli_env, "demo", "--sandbox-url", sandbox.url, "--admin-password", "x" * 12)
    assert demo.returncode == 0, demo.stderr
    with SandboxServer(size=120, seed=11) as live_store:
        services = make_services(db_url, tmp_path / "app")
        try:
            admin = services.accounts.operator("demo")
            live = services.connectors.add(
                admin, "woocommerce", "Acme live shop", live_store.url, WOO_CREDENTIALS
            )
        finally:
            services.close()

        def preview(*args: str) -> dict:
            out = run_core(cli_env, "preview", "--org", "demo", "--entity", "customers", *args)
            assert out.returncode == 0, out.stderr
            return json.loads(out.stdout)["data"]

        by_default = preview("--sync-type", "woocommerce", "--json")
        of_live = preview("--connector", "Acme live shop", "--json")
        assert by_default["connector"]["name"] == "Demo WooCommerce store"
        assert of_live["connector"] == {"id": live.id, "name": "Acme live shop"}
        assert of_live["syncType"] == "woocommerce"
        counts = {k: v["count"] for k, v in of_live["delta"].items()}
        assert counts != {k: v["count"] for k, v in by_default["delta"].items()}
        by_id = preview("--connector", str(live.id), "--sync-type", "woocommerce", "--json")
        assert by_id["cacheHit"] and {k: v["count"] for k, v in by_id["delta"].items()} == counts

    for args, message in (
        (("--connector", "Acme live shop", "--sync-type", "odoo"), "connects to WooCommerce"),
        (("--connector", "Nope"), "There is no connector 'Nope' in this organization."),
        ((), "Give --sync-type"),
    ):
        out = run_core(cli_env, "preview", "--org", "demo", "--entity", "customers", *args)
        assert out.returncode == 2 and message in out.stderr, out.stderr
    wrong = run_core(
        cli_env, "preview", "--org", "demo", "--entity", "orders", "--connector", "Nope", "--json"
    )
    assert wrong.returncode == 2 and "There is no connector" in json.loads(wrong.stdout)["error"]

    inv = run_core(cli_env, "invalidate", "--org", "demo", "--connector", "Acme live shop")
    assert inv.returncode == 0 and "Expired 1 cached preview" in inv.stdout
    log = run_core(cli_env, "activity", "--org", "demo", "--connector", str(live.id), "--json")
    events = json.loads(log.stdout)["events"]
    assert [e["action"] for e in events] == ["invalidate", "view", "refresh", "connector_added"]
    assert {e["connector"] for e in events} == {"Acme live shop"}


def test_sources_lists_each_sources_options(tmp_path) -> None:
    out = run_core(core_env("sqlite:///" + str(tmp_path / "x.db"), tmp_path), "sources", "--json")
    assert out.returncode == 0, out.stderr
    listed = {s["syncType"]: s for s in json.loads(out.stdout)}
    assert list(listed) == ["woocommerce", "odoo"]
    woo = {o["name"]: o for o in listed["woocommerce"]["options"]}
    assert woo["customer_roles"]["default"] == "customer"
    assert woo["include_guests"]["kind"] == "flag"
    odoo = {o["name"]: o for o in listed["odoo"]["options"]}
    assert odoo["companies"]["kind"] == "text"
    assert "allowed_company_ids" in odoo["companies"]["help"]
    text = run_core(core_env("sqlite:///" + str(tmp_path / "x.db"), tmp_path), "sources")
    assert "option query_string_auth (yes or no): Send the keys in the query string" in text.stdout
