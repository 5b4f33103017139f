"""What a business user trips over, in a real browser: the chosen tab, a click on a row,
names typed with Markdown, a reload that is not a sign-in."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from core.db.models import Organization
from core.db.tenancy import system_session
from tests.e2e.conftest import ADMIN, PASSWORD, Server
from tests.e2e.test_dashboard import SLOW, idle, login
from ui.format import WORD_JOINER

pytestmark = pytest.mark.e2e
TYPED = "Acme **bold** [click](https://evil.example) :red[x]"


@pytest.fixture(scope="module")
def shop(workdir: Path, seeded_dir: Path) -> Iterator[Server]:
    """A server over a copy of the seeded data; the organization's name has Markdown in it."""
    data_dir = workdir / "business-user" / "data"
    shutil.copytree(seeded_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    srv = Server(data_dir)
    services = srv.services()
    try:
        org_id = services.accounts.user_context(ADMIN["username"]).org_id
        with system_session(services.sessions) as s:
            s.get_one(Organization, org_id).name = TYPED
    finally:
        services.close()
    srv.start().wait_ready()
    yield srv
    srv.stop()


def signed_in(page: Page, shop: Server) -> None:
    page.set_default_timeout(SLOW)
    page.goto(shop.url)
    login(page, ADMIN["username"], PASSWORD)
    expect(page.get_by_text("Signed in as")).to_be_visible()
    page.wait_for_timeout(500)  # the cookie component reruns the script once
    settled(page)


def settled(page: Page) -> None:
    """The script is idle and no element of the previous run is left on the page."""
    idle(page)
    expect(page.locator("[data-stale=true]")).to_have_count(0)


def current(page: Page, selector: str) -> Locator:
    """The element of the latest script run: while a run (a followed job ending, say) is under
    way, Streamlit keeps the previous run's element too, marked stale."""
    return page.locator(f"{selector}:not([data-stale=true])")


def shown(page: Page) -> None:
    """The preview is on the page: no job is followed any more (its end reruns the script)."""
    settled(page)
    expect(page.locator(".st-key-refresh_job")).to_have_count(0, timeout=60_000)
    expect(page.get_by_role("tab", name=re.compile("Updated"))).to_be_visible()
    settled(page)


def selected_tab(page: Page) -> str:
    return page.get_by_role("tab", selected=True).first.inner_text()


def test_the_chosen_tab_stays_after_the_first_action(page: Page, shop: Server) -> None:
    signed_in(page, shop)
    shown(page)
    # a preview opened for the first time in this session (computed by a worker, followed)
    current(page, ".st-key-preview_entity").click()
    page.get_by_role("option", name="Products").click()
    shown(page)
    page.get_by_role("tab", name=re.compile("Updated")).click()
    expect(current(page, ".st-key-search_updated").locator("input")).to_be_visible()
    settled(page)
    current(page, ".st-key-search_updated").locator("input").fill("a")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"Rows 1–\d+ of"))).to_be_visible()
    idle(page)
    page.wait_for_timeout(500)
    assert "Updated" in selected_tab(page)
    expect(current(page, ".st-key-search_updated").locator("input")).to_have_value("a")


def test_a_click_on_a_row_shows_its_changes(page: Page, shop: Server) -> None:
    signed_in(page, shop)
    page.get_by_role("tab", name=re.compile("Updated")).click()
    grid = page.locator("[data-testid=stDataFrame]").first
    expect(grid).to_be_visible()
    idle(page)
    services = shop.services()
    try:
        admin = services.accounts.user_context(ADMIN["username"])
        snap = services.previews.latest(admin, "woocommerce", "customers")
        assert snap is not None
        records = services.previews.page_records(admin, snap.snapshot_id, "updated").records
    finally:
        services.close()
    caption = page.get_by_text("click another row to see its changes")
    expect(caption).to_contain_text(f"(#{records[0]['external_id']})")
    box = grid.bounding_box()
    assert box is not None
    row = 3  # the header and each row are 35 px high; the first column holds the checkboxes
    page.mouse.click(box["x"] + 16, box["y"] + 35 * (row + 1) + 17)
    expect(caption).to_contain_text(f"(#{records[row]['external_id']})")
    idle(page)
    diff = page.locator("[data-testid=stTable]").first
    for change in records[row]["changes"]:
        expect(diff).to_contain_text(str(change["new"]))


def test_markdown_in_a_name_shows_as_typed(page: Page, shop: Server) -> None:
    signed_in(page, shop)
    sidebar = page.locator("[data-testid=stSidebar]")
    expect(sidebar).to_contain_text("bold")
    # as typed (an invisible word joiner keeps the address from becoming a link)
    assert TYPED in sidebar.inner_text().replace(WORD_JOINER, "")
    assert sidebar.locator("a[href*='evil.example']").count() == 0
    assert sidebar.locator("strong", has_text=re.compile(r"^bold$")).count() == 0


def test_a_reload_signed_in_by_the_cookie_is_not_a_sign_in(page: Page, shop: Server) -> None:
    services = shop.services()
    try:
        admin = services.accounts.user_context(ADMIN["username"])

        def sign_ins() -> int:
            events, _ = services.activity.list_activity(admin, limit=1000)
            return sum(1 for e in events if e.action == "login" and e.status == "ok")

        before = sign_ins()
        signed_in(page, shop)
        page.wait_for_function("document.cookie.includes('sync_preview_auth=')", timeout=10_000)
        assert sign_ins() == before + 1
        for _ in range(2):
            page.reload()
            expect(page.get_by_text("Signed in as")).to_be_visible()
            idle(page)
        page.wait_for_timeout(500)
        assert sign_ins() == before + 1
    finally:
        services.close()
