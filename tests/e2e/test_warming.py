"""Keeping a preview warm, in a real browser: an admin chooses "every 15 minutes" on
Selective sync and finds it kept after a reload; when the scheduler stopped the warming after
an error the page says when and why, and the admin switches it on again; a viewer sees the
choice read-only."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from core.errors import AuthError
from tests.e2e.conftest import ADMIN, Server
from tests.e2e.test_business_user import settled, signed_in
from tests.e2e.test_dashboard import SLOW, click_key, login, shot

pytestmark = pytest.mark.e2e

VIEWER, VIEWER_PASSWORD = "vic", "viewer-pass-12"


@pytest.fixture(scope="module")
def shop(workdir: Path, seeded_dir: Path) -> Iterator[Server]:
    """A server over a copy of the seeded data (no worker: nothing is warmed meanwhile)."""
    data_dir = workdir / "warming" / "data"
    shutil.copytree(seeded_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    services = Server(data_dir).services()
    try:
        admin = services.accounts.user_context(ADMIN["username"])
        services.accounts.add_user(
            admin, VIEWER, "Vic Viewer", "vic@acme.example", VIEWER_PASSWORD, "viewer"
        )
    finally:
        services.close()
    srv = Server(data_dir, with_worker=False)
    srv.start().wait_ready()
    yield srv
    srv.stop()


def _selective_sync(page: Page) -> None:
    page.get_by_role("link", name=re.compile("Selective sync")).click()
    expect(page.get_by_text("Keep this preview warm")).to_be_visible()
    settled(page)


def test_an_admin_keeps_a_preview_warm_and_a_viewer_sees_it(
    page: Page, browser: Browser, shop: Server, artifacts: Path
) -> None:
    services = shop.services()
    try:
        admin = services.accounts.user_context(ADMIN["username"])
        woo = services.warming.get_warm_choice(admin, "woocommerce", "customers")
        suffix = f"{woo.connector_id}_customers"
        signed_in(page, shop)
        _selective_sync(page)
        how = page.locator(f".st-key-warm_how_{suffix}")
        how.get_by_text("Every N minutes").click()
        minutes = page.locator(f".st-key-warm_minutes_{suffix} input")
        expect(minutes).to_be_enabled()
        minutes.fill("15")
        minutes.press("Tab")
        settled(page)
        click_key(page, "save_warm")
        expect(page.get_by_text("kept warm: every 15 minutes")).to_be_visible()
        settled(page)
        assert (
            services.warming.get_warm_choice(admin, "woocommerce", "customers").every_minutes == 15
        )

        page.reload()
        expect(page.get_by_text("Signed in as")).to_be_visible()
        if not page.get_by_text("Keep this preview warm").is_visible():
            _selective_sync(page)
        settled(page)
        expect(how.get_by_role("radio", name="Every N minutes")).to_be_checked()
        expect(minutes).to_have_value("15")
        expect(page.get_by_text(re.compile(r"Warming last chosen by \*?\*?ada"))).to_be_visible()

        # the scheduler stopped it after the store refused the keys: the page says why
        scheduler = services.accounts.scheduler(admin.org_id)
        refused = AuthError("The store refused the connector's keys (Consumer key is invalid).")
        stopped_at = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)
        services.warming.stop_after_failure(
            scheduler, woo.connector_id, "customers", refused, stopped_at
        )
        page.reload()
        expect(page.get_by_text("Signed in as")).to_be_visible()
        if not page.get_by_text("Keep this preview warm").is_visible():
            _selective_sync(page)
        warning = page.get_by_text(re.compile("Keeping this preview warm stopped on"))
        expect(warning).to_contain_text("Consumer key is invalid")
        expect(warning).to_contain_text("Fix the connector's credentials")
        settled(page)
        shot(page, artifacts, "30-warming-stopped", focus=warning)
        page.get_by_role("button", name=re.compile("Switch it on again")).click()
        expect(warning).to_have_count(0, timeout=SLOW)
        settled(page)
        choice = services.warming.get_warm_choice(admin, "woocommerce", "customers")
        assert choice.every_minutes == 15 and not choice.stopped
    finally:
        services.close()

    viewer_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        viewer = viewer_context.new_page()
        viewer.set_default_timeout(SLOW)
        viewer.goto(shop.url)
        login(viewer, VIEWER, VIEWER_PASSWORD)
        expect(viewer.get_by_text("Signed in as")).to_be_visible()
        viewer.wait_for_timeout(500)
        settled(viewer)
        _selective_sync(viewer)
        expect(viewer.get_by_text("ahead of time: every 15 minutes")).to_be_visible()
        expect(viewer.get_by_text("Admins choose which previews are kept warm")).to_be_visible()
        expect(viewer.locator(".st-key-save_warm")).to_have_count(0)
        expect(viewer.locator(f".st-key-warm_how_{suffix}")).to_have_count(0)
    finally:
        viewer_context.close()
