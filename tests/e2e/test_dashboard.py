"""The dashboard in a real browser, as a newcomer uses it after `streamlit run app.py`."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from core.connectors import ConnectorConfig, build_connector
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.delta import to_canonical
from core.sandbox import SandboxServer
from core.services.demo import DEMO_SEED, DEMO_SIZE, WOO_CREDENTIALS
from tests.e2e.conftest import ADMIN, DEEP_LINK_PAGES, PASSWORD, Server
from ui.activity import action_word
from ui.format import FIELD_LABEL

pytestmark = pytest.mark.e2e
COOKIE = "sync_preview_auth"
SLOW = 60_000
expect.set_options(timeout=30_000)


def idle(page: Page) -> None:
    expect(page.locator("[data-testid=stApp][data-test-script-state=notRunning]")).to_be_attached(
        timeout=SLOW
    )


def shot(page: Page, artifacts: Path, name: str, focus: Locator | None = None) -> None:
    """Save a screenshot (of the part of the page around ``focus``) as a test artifact."""
    idle(page)
    if focus is not None:
        focus.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # let charts and tables finish drawing
    page.screenshot(path=str(artifacts / f"{name}.png"))


def _until_new(services: Any, admin: Any, old_id: int, timeout: float = 60) -> Any:
    """The preview once a refresh replaced snapshot ``old_id``."""
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        latest = services.previews.latest(admin, "woocommerce", "customers")
        if latest is not None and latest.snapshot_id != old_id:
            return latest
        time.sleep(0.2)
    raise AssertionError("the refresh did not finish")


def click_key(page: Page, key: str) -> None:
    """Click the button of the widget with ``key`` (its element has the class st-key-<key>)."""
    page.locator(f".st-key-{key} button").first.click()


def metric(page: Page, label: str) -> str:
    card = page.locator("[data-testid=stMetric]").filter(has_text=label).first
    return card.locator("[data-testid=stMetricValue]").inner_text().strip()


def expected_customer_counts(services: Any, org_id: int) -> dict[str, int]:
    """The delta computed here from the sandbox's wire records and the local table."""
    with SandboxServer(size=DEMO_SIZE, seed=DEMO_SEED) as sandbox:
        connector = build_connector(
            ConnectorConfig("woocommerce", sandbox.url, WOO_CREDENTIALS, {})
        )
        try:
            external = {
                rec["external_id"]: rec
                for page in connector.iter_pages("customers")
                for rec in (to_canonical("woocommerce", "customers", raw) for raw in page)
            }
        finally:
            connector.close()
    with tenant_session(services.sessions, org_id) as s:
        local = {
            rec["external_id"]: rec
            for rec in (
                to_canonical("local", "customers", row)
                for row in LocalRecords(s).iter_rows("woocommerce", "customers")
            )
        }
    common = external.keys() & local.keys()
    updated = sum(1 for k in common if external[k] != local[k])
    return {
        "new": len(external.keys() - local.keys()),
        "updated": updated,
        "deleted": len(local.keys() - external.keys()),
        "unchanged": len(common) - updated,
    }


def login(page: Page, username: str, password: str) -> None:
    idle(page)
    page.get_by_role("textbox", name="Username", exact=True).fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Login").click()


def test_newcomer_journey(
    page: Page, context: BrowserContext, server: Server, artifacts: Path
) -> None:
    page.set_default_timeout(SLOW)
    # --- first run: setup, demo data ---------------------------------------------------------
    page.goto(server.url)
    expect(page.get_by_text("Welcome to Sync Preview")).to_be_visible()
    page.get_by_role("textbox", name="Organization name").fill("Acme")
    page.get_by_role("textbox", name="Admin username").fill(ADMIN["username"])
    page.get_by_role("textbox", name="Admin full name").fill(ADMIN["name"])
    page.get_by_role("textbox", name="Admin e-mail").fill(ADMIN["email"])
    page.get_by_role("textbox", name="Password (at least 8 characters)").fill(PASSWORD)
    page.get_by_role("textbox", name="Repeat the password").fill(PASSWORD)
    shot(page, artifacts, "01-setup")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("button", name="Load demo data")).to_be_visible()
    idle(page)
    shot(page, artifacts, "02-welcome")
    # a reload right after setup keeps the admin signed in: setup writes the cookie too
    page.wait_for_function(f"document.cookie.includes('{COOKIE}=')", timeout=10_000)
    page.reload()
    expect(page.get_by_role("button", name="Load demo data")).to_be_visible()
    expect(page.locator(".st-key-login_box")).to_have_count(0)
    idle(page)
    page.get_by_role("button", name="Load demo data").click()
    # the worker loads it (scripts/run starts one); the page follows, then says it is done
    expect(page.get_by_text("Demo data loaded")).to_be_visible()

    # --- preview: counts as computed independently ---------------------------------------------
    expect(page.get_by_role("heading", name=re.compile("Sync preview"))).to_be_visible()
    expect(page.locator("[data-testid=stMetric]")).to_have_count(4)
    services = server.services()
    try:
        admin = services.accounts.user_context(ADMIN["username"])
        expected = expected_customer_counts(services, admin.org_id)
        assert expected["new"] and expected["updated"] and expected["deleted"]
        idle(page)
        for label, kind in (
            ("New", "new"),
            ("Updated", "updated"),
            ("Deleted", "deleted"),
            ("Unchanged", "unchanged"),
        ):
            assert metric(page, label) == f"{expected[kind]:,}", label
        shot(page, artifacts, "03-preview")

        # --- refresh ------------------------------------------------------------------------------
        first = services.previews.latest(admin, "woocommerce", "customers")
        click_key(page, "refresh")  # a worker refreshes; the page follows the job
        assert first is not None
        latest = _until_new(services, admin, first.snapshot_id)
        expect(page.get_by_text("Refreshing — started by")).to_have_count(0)
        idle(page)
        assert metric(page, "Updated") == f"{expected['updated']:,}"

        # --- an updated record's field diff ---------------------------------------------------
        record, _, _, fourth = services.previews.page_records(
            admin, latest.snapshot_id, "updated", limit=4
        ).records
        page.get_by_role("tab", name=re.compile("Updated")).click()
        diff = page.locator("[data-testid=stTable]").first
        expect(diff).to_be_visible()
        for change in record["changes"]:  # the first row is chosen until another is clicked
            expect(diff).to_contain_text(FIELD_LABEL[str(change["field"])])
            expect(diff).to_contain_text(str(change["new"]))
            expect(diff).to_contain_text(str(change["old"]))
        table = page.locator("[data-testid=stDataFrame]").first
        table.scroll_into_view_if_needed()
        box = table.bounding_box()
        assert box is not None  # a click on the fourth row (header and rows are 35 px high)
        page.mouse.click(box["x"] + 16, box["y"] + 35 * 4 + 17)
        expect(page.get_by_text(f"(#{fourth['external_id']})")).to_be_visible()
        shot(page, artifacts, "04-preview-diff", focus=diff)

        # --- another connector: picked, named on the page, remembered for the user --------------
        odoo = next(c for c in services.connectors.list(admin) if c.sync_type == "odoo")
        page.get_by_role("tab", name=re.compile("New")).click()
        page.locator(".st-key-preview_connector").first.click()
        page.get_by_role("option", name="🏭 Odoo — Demo Odoo", exact=True).click()
        expect(page.get_by_text("Demo Odoo · Customers")).to_be_visible()
        idle(page)
        odoo_snap = services.previews.latest(admin, None, "customers", connector=odoo.id)
        assert odoo_snap is not None
        assert metric(page, "New") == f"{odoo_snap.counts['new']:,}"
        assert services.preferences.connector(admin) == odoo.id

        # --- selective sync: on the connector picked on the Preview -------------------------------
        page.get_by_role("link", name=re.compile("Selective sync")).click()
        expect(page.get_by_text("Include deleted records")).to_be_visible()
        expect(page.locator(".st-key-sel_connector input")).to_have_value("🏭 Odoo — Demo Odoo")
        idle(page)
        page.locator(f".st-key-inc_deleted_{odoo.id}_customers label").first.click()
        idle(page)
        click_key(page, "save_selective")
        expect(page.get_by_text("Saved. A sync of customers from Demo Odoo")).to_be_visible()
        idle(page)
        saved = services.selective.get_selective_config(admin, "odoo", "customers")
        assert (saved.connector_name, saved.include_deleted) == ("Demo Odoo", True)
        assert (saved.include_new, saved.include_updated) == (True, True)
        assert saved.updated_by == ADMIN["username"]
        untouched = services.selective.get_selective_config(admin, "woocommerce", "customers")
        assert untouched.updated_at is None
        shot(page, artifacts, "05-selective-sync")

        # --- activity shows the refresh and the save ---------------------------------------------
        page.get_by_role("link", name=re.compile("Activity")).click()
        expect(page.get_by_text("How previews performed")).to_be_visible()
        grid = page.locator("[data-testid=stDataFrame]").first
        expect(grid).to_be_visible()
        idle(page)
        shot(page, artifacts, "06-activity", focus=grid)
        events, _ = services.activity.list_activity(admin, limit=100)
        actions = [e.action for e in events]
        assert "refresh" in actions and "select" in actions
        page.locator(".st-key-act_action").first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # a scroll closes an open drop-down: scroll first
        for action in ("refresh", "select"):
            page.locator(".st-key-act_action").first.click()
            page.get_by_role("option", name=action_word(action), exact=True).click()
            n = actions.count(action)
            expect(page.get_by_text(f"Rows 1–{n} of {n}", exact=True)).to_be_visible()
        page.locator(".st-key-act_action").first.click()
        page.get_by_role("option", name="any", exact=True).click()
        idle(page)
        page.get_by_role("tab", name=re.compile("Preview history")).click()
        history = page.get_by_role("tabpanel").locator("[data-testid=stDataFrame]")
        expect(history).to_be_visible()
        idle(page)
        shot(page, artifacts, "09-history", focus=history)

        # --- connectors and users (screenshots) ---------------------------------------------------
        page.get_by_role("link", name=re.compile("Connectors")).click()
        expect(page.get_by_text("🛒 Demo WooCommerce store")).to_be_visible()
        assert "cs_sandbox" not in page.content()
        shot(page, artifacts, "07-connectors")
        page.get_by_role("link", name=re.compile("Users")).click()
        expect(page.get_by_text("Add a user")).to_be_visible()
        shot(page, artifacts, "08-users")

        # --- log out, log in, stay signed in over a reload, log out for real ----------------------
        click_key(page, "logout_btn")
        expect(login_field(page)).to_be_visible()
        idle(page)
        page.wait_for_function(f"!document.cookie.includes('{COOKIE}=')", timeout=30_000)
        page.reload()  # a new session: nothing of the old one may sign it in
        expect(login_field(page)).to_be_visible()
        page.wait_for_timeout(500)  # the cookie component reruns the script once
        login(page, ADMIN["username"], "wrong-password")
        expect(page.get_by_text("Username or password is incorrect.")).to_be_visible()
        shot(page, artifacts, "00-login")
        login(page, ADMIN["username"], PASSWORD)
        expect(page.get_by_text("Signed in as")).to_be_visible()
        idle(page)
        page.wait_for_function(f"document.cookie.includes('{COOKIE}=')", timeout=10_000)
        page.reload()
        expect(page.get_by_text("Signed in as")).to_be_visible()
        expect(page.locator(".st-key-login_box")).to_have_count(0)  # no login form

        click_key(page, "logout_btn")
        expect(login_field(page)).to_be_visible()
        idle(page)
        page.wait_for_function(f"!document.cookie.includes('{COOKIE}=')", timeout=30_000)
        assert COOKIE not in {c["name"] for c in context.cookies()}
        page.reload()
        expect(login_field(page)).to_be_visible()
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        # the server writes the logout row while the browser already shows the login form
        deadline = time.monotonic() + 10
        while True:
            events, _ = services.activity.list_activity(admin, limit=100)
            actions = [e.action for e in events]
            if actions.count("logout") >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert actions.count("logout") == 2
        # the setup (its own row) and the password sign-in; the reload signed in by the
        # cookie is none
        assert actions.count("setup") == 1
        signed_in = [e for e in events if e.action == "login" and e.status == "ok"]
        assert len(signed_in) == 1, [(e.at, e.user) for e in signed_in]
    finally:
        services.close()


def login_field(page: Page) -> Locator:
    """The login form's username field (the Users page has a "Username" field too)."""
    return page.locator(".st-key-login_box").get_by_role("textbox", name="Username")


@pytest.mark.parametrize("page_name", DEEP_LINK_PAGES)
def test_a_deep_link_on_a_fresh_server_shows_only_the_login(
    page_name: str, page: Page, fresh_servers: dict[str, Server]
) -> None:
    server = fresh_servers[page_name]
    page.goto(f"{server.url}/{page_name}")  # the server's very first request
    expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=SLOW)
    idle(page)
    page.wait_for_timeout(500)
    body = page.locator("body").inner_text()
    for secret in (
        "Acme",
        "Demo WooCommerce store",
        "Demo Odoo",
        "@example",
        "Unchanged",
        "How previews performed",
        "Add a user",
        "Include new records",
    ):
        assert secret not in body, (page_name, secret)
    assert page.locator("[data-testid=stMetric]").count() == 0
    assert page.locator("[data-testid=stDataFrame]").count() == 0


def test_the_json_api_is_served_on_the_dashboards_port(server: Server) -> None:
    """Other services reach the API at /api of the same host and port as the dashboard."""
    url = f"{server.url}/api/v1/integrations/sync/preview?sync_type=odoo&entity_type=orders"
    try:
        urllib.request.urlopen(url, timeout=10)
        raise AssertionError("an unsigned request was answered")
    except urllib.error.HTTPError as err:
        assert err.code == 401
        body = json.loads(err.read())
    assert body["success"] is False and body["details"]["requestId"]
