"""Your own data in a real browser: a store's customers that our own tables do not have (every
one "new"), then your SQLite file connected, customers mapped with drop-downs, a sample, a
save — and the preview shows them matched and updated instead of all new."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from tests.e2e.conftest import ADMIN, PASSWORD, Server
from tests.e2e.test_dashboard import SLOW, idle, login, metric, shot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def newcomer(workdir: Path, seeded_dir: Path) -> Iterator[tuple[Server, Path]]:
    """A server whose own WooCommerce customers are gone (the preview says all are new), and
    the organization's SQLite file holding them in its own layout."""
    data_dir = workdir / "your-data" / "data"
    shutil.copytree(seeded_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    srv = Server(data_dir)
    shop = workdir / "your-data" / "shop.sqlite"
    services = srv.services()
    try:
        admin = services.accounts.user_context(ADMIN["username"])
        with tenant_session(services.sessions, admin.org_id) as s:
            rows = list(LocalRecords(s).iter_rows("woocommerce", "customers"))
            LocalRecords(s).clear("woocommerce", "customers")
        before = services.previews.get_preview_snapshot(
            admin, "woocommerce", "customers", force_refresh=True
        )
        assert before.counts["updated"] == 0 and before.counts["unchanged"] == 0
    finally:
        services.close()
    conn = sqlite3.connect(shop)
    conn.execute(
        "CREATE TABLE clients (cust_no INTEGER PRIMARY KEY, woo_id TEXT, mail TEXT, "
        "full_name TEXT, town TEXT, land TEXT)"
    )
    conn.executemany(
        "INSERT INTO clients (woo_id, mail, full_name, town, land) VALUES (?, ?, ?, ?, ?)",
        [(r["external_id"], r["email"], r["name"], r["city"], r["country"]) for r in rows],
    )
    # one of your rows shares another's e-mail and has no store id
    conn.execute(
        "INSERT INTO clients (woo_id, mail, full_name) VALUES (NULL, ?, 'Twin')",
        (next(r["email"] for r in rows if r["email"]).upper(),),
    )
    conn.commit()
    conn.close()
    srv.start().wait_ready()
    yield srv, shop
    srv.stop()


def press(page: Page, key: str) -> None:
    """Click the button of ``key`` once the rerun before has replaced its stale copy."""
    button = page.locator(f".st-key-{key} button")
    expect(button).to_have_count(1)
    button.click()


def choose(page: Page, key: str, option: str) -> None:
    """Pick ``option`` in the select box with ``key`` (again if a rerun replaced it)."""
    for attempt in range(3):
        idle(page)
        try:
            page.locator(f".st-key-{key} input").click(timeout=10_000)
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            break
        except Exception:
            if attempt == 2:
                raise
    idle(page)


def test_connect_map_sample_save_and_preview(
    page: Page, newcomer: tuple[Server, Path], artifacts: Path
) -> None:
    server, shop = newcomer
    page.set_default_timeout(SLOW)
    page.goto(server.url)
    login(page, ADMIN["username"], PASSWORD)
    expect(page.get_by_text("Signed in as")).to_be_visible()
    page.wait_for_timeout(500)  # the cookie component reruns the script once
    idle(page)
    all_new = int(metric(page, "New").replace(",", ""))
    assert all_new > 0 and metric(page, "Updated") == "0"

    page.get_by_role("link", name=re.compile("Connectors")).click()
    expect(page.get_by_text("No database of yours is connected")).to_be_visible()
    page.get_by_text("✏️ Connect your database").click()
    page.locator(".st-key-localdb_kind").get_by_text("SQLite file").click()
    idle(page)
    page.get_by_role("textbox", name="File path").fill(str(shop))
    press(page, "localdb_try")
    expect(page.get_by_text(re.compile("read-only: 1 table or view visible"))).to_be_visible()
    idle(page)
    press(page, "localdb_save")
    expect(page.get_by_text("Your database is set")).to_be_visible()
    idle(page)

    key = "map_woocommerce_customers"
    choose(page, f"{key}_table", "clients")
    choose(page, f"{key}_idcol", "woo_id")
    choose(page, f"{key}_f_email", "mail")
    choose(page, f"{key}_f_name", "full_name")
    choose(page, f"{key}_f_city", "town")
    choose(page, f"{key}_f_country", "land")
    page.locator(f".st-key-{key}_sample button").click()
    expect(page.get_by_text(re.compile("as the preview compares them"))).to_be_visible()
    idle(page)
    page.get_by_text(re.compile("as the preview compares them")).scroll_into_view_if_needed()
    page.mouse.wheel(0, 250)  # the sample's rows and the Save button below it
    shot(page, artifacts, "10-your-database")
    page.locator(f".st-key-{key}_save button").click()
    expect(page.get_by_text(re.compile(r"Mapping saved \(version 1\)"))).to_be_visible()
    idle(page)

    page.get_by_role("link", name=re.compile("Preview")).first.click()
    expect(page.get_by_text(re.compile("Compared with your database"))).to_be_visible()
    idle(page)
    new = int(metric(page, "New").replace(",", ""))
    updated = int(metric(page, "Updated").replace(",", ""))
    unchanged = int(metric(page, "Unchanged").replace(",", ""))
    assert new < all_new and updated > 0 and unchanged > 0
    expect(page.get_by_text(re.compile("fields compared: E-mail"))).to_be_visible()
    assert metric(page, "Your rows without a key") == "1"  # the twin has no store id
    shot(page, artifacts, "11-preview-your-data")

    # Never linked by id: match by e-mail; the twin's e-mail is ambiguous, listed apart.
    page.get_by_role("link", name=re.compile("Connectors")).click()
    page.locator(f".st-key-{key}_match").get_by_text("by e-mail").click()
    idle(page)
    page.locator(f".st-key-{key}_save button").click()
    expect(page.get_by_text(re.compile(r"Mapping saved \(version 2\)"))).to_be_visible()
    idle(page)
    page.get_by_role("link", name=re.compile("Preview")).first.click()
    expect(page.get_by_text(re.compile("matched by E-mail"))).to_be_visible()
    idle(page)
    assert metric(page, "Ambiguous") == "1"
    page.get_by_text(re.compile("Ambiguous keys")).click()
    # (a table drawn on a canvas: its cells are in the page, hidden)
    expect(page.get_by_text(re.compile("2 local rows have this e-mail"))).to_be_attached()
    shot(page, artifacts, "12-preview-ambiguous")
