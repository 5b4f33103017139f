"""Applying a sync in a real browser: untick two records on the Preview, apply with the
confirmation, see the run, see the preview without what was applied, undo."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN, ROOT, Server
from tests.e2e.test_business_user import settled, signed_in
from tests.e2e.test_dashboard import SLOW, click_key, idle, metric, shot

pytestmark = pytest.mark.e2e
DOCS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def store(workdir: Path, seeded_dir: Path) -> Iterator[Server]:
    """A server over a copy of the seeded data (the demo, a customers preview)."""
    data_dir = workdir / "apply" / "data"
    shutil.copytree(seeded_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    srv = Server(data_dir).start().wait_ready()
    yield srv
    srv.stop()


def _counts(store: Server) -> tuple[dict[str, int], list[str]]:
    services = store.services()
    try:
        admin = services.accounts.user_context(ADMIN["username"])
        snap = services.previews.latest(admin, "woocommerce", "customers")
        assert snap is not None
        new = services.previews.page_records(admin, snap.snapshot_id, "new").records
        return snap.counts, [str(r["external_id"]) for r in new]
    finally:
        services.close()


def _publish(artifacts: Path, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(artifacts / f"{name}.png", DOCS / f"{name}.png")


def test_apply_from_the_preview_then_undo(page: Page, store: Server, artifacts: Path) -> None:
    counts, new_ids = _counts(store)
    signed_in(page, store)
    expect(page.locator("[data-testid=stMetric]")).to_have_count(4)
    assert metric(page, "New") == f"{counts['new']:,}"

    # untick the first two new records in the table
    grid = page.locator("[data-testid=stDataFrame]").first
    expect(grid).to_be_visible()
    grid.scroll_into_view_if_needed()
    idle(page)
    box = grid.bounding_box()
    assert box is not None
    for n, row in enumerate((0, 1), start=1):
        unticked = page.get_by_text(f"{n} record(s) unticked")
        for _attempt in range(3):  # a rerun of the script may take the grid's focus away
            page.mouse.click(box["x"] + 20, box["y"] + 35 * (row + 1) + 17)  # the Sync cell
            page.wait_for_timeout(300)
            page.keyboard.press("Space")  # toggles its tick
            try:
                expect(unticked).to_be_visible(timeout=5_000)
                break
            except AssertionError:
                continue
        expect(unticked).to_be_visible()
        settled(page)

    click_key(page, "apply")
    confirmation = page.locator(".st-key-apply_confirmation")
    sentence = (
        f"will create {counts['new'] - 2:,}, update {counts['updated']:,}, delete 0 customers "
        "in the built-in store"
    )
    expect(confirmation).to_contain_text(sentence)
    expect(confirmation).to_contain_text("Left out by hand (unticked): 2 record(s).")
    expect(confirmation).to_contain_text("Left out by the selective settings: deleted records.")
    shot(page, artifacts, "15-apply-confirmation", focus=confirmation)
    _publish(artifacts, "15-apply-confirmation")

    click_key(page, "apply_confirm")
    expect(page.get_by_text(re.compile(r"Run \d+ succeeded: created"))).to_be_visible(timeout=SLOW)
    settled(page)
    # the preview is computed again: the two unticked records are all that is new
    expect(page.locator("[data-testid=stMetric]").filter(has_text="New")).to_contain_text("2")
    assert metric(page, "New") == "2"
    assert metric(page, "Updated") == "0"
    _, still_new = _counts(store)
    assert sorted(still_new) == sorted(new_ids[:2])

    # the run in Activity › Sync runs, then undo it
    page.get_by_role("link", name=re.compile("Activity")).click()
    expect(page.get_by_role("tab", name=re.compile("Sync runs"))).to_be_visible()
    settled(page)
    page.get_by_role("tab", name=re.compile("Sync runs")).click()
    expect(page.get_by_text("run(s), newest first")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Run \d+ succeeded: created")).last).to_be_visible()
    settled(page)
    click_key(page, "undo")
    expect(page.locator(".st-key-undo_confirmation")).to_be_visible()
    settled(page)
    shot(page, artifacts, "16-sync-runs", focus=page.get_by_text("Records of this run"))
    _publish(artifacts, "16-sync-runs")
    click_key(page, "undo_confirm")
    expect(page.get_by_text(re.compile(r"Run \d+ undone: created")).first).to_be_visible(
        timeout=SLOW
    )
    settled(page)

    page.get_by_role("link", name=re.compile("Preview")).click()
    expect(page.locator("[data-testid=stMetric]")).to_have_count(4)
    # the undo expired the preview: a worker computes it again, the page shows it when done
    new_value = page.locator("[data-testid=stMetric]").filter(has_text="New")
    expect(new_value.locator("[data-testid=stMetricValue]")).to_have_text(
        f"{counts['new']:,}", timeout=SLOW
    )
    settled(page)
    assert metric(page, "New") == f"{counts['new']:,}"
    assert metric(page, "Updated") == f"{counts['updated']:,}"
