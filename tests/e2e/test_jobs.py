"""Refreshes in the background, in a real browser: click Refresh, walk away and come back; the
progress is still shown, and the new preview appears when a worker has done it."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN, Server
from tests.e2e.test_business_user import settled, signed_in
from tests.e2e.test_dashboard import click_key, shot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def quiet_shop(workdir: Path, seeded_dir: Path) -> Iterator[Server]:
    """A server over a copy of the seeded data, its worker not started yet."""
    data_dir = workdir / "jobs" / "data"
    shutil.copytree(seeded_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    srv = Server(data_dir, with_worker=False)
    srv.start().wait_ready()
    yield srv
    srv.stop()


def test_a_refresh_goes_on_while_the_user_walks_away(
    page: Page, quiet_shop: Server, artifacts: Path
) -> None:
    services = quiet_shop.services()
    try:
        admin = services.accounts.user_context(ADMIN["username"])
        first = services.previews.latest(admin, "woocommerce", "customers")
        assert first is not None
        signed_in(page, quiet_shop)
        click_key(page, "refresh")
        box = page.locator(".st-key-refresh_job")
        expect(box).to_contain_text(f"Refreshing — started by {ADMIN['username']}")
        expect(box).to_contain_text("Waiting for a worker")
        settled(page)
        shot(page, artifacts, "13-refresh-job", focus=box)

        # walk away: Activity's Jobs tab lists it
        page.get_by_role("link", name=re.compile("Activity")).click()
        page.get_by_role("tab", name=re.compile("Jobs")).click()
        expect(page.get_by_text("No worker is running")).to_be_visible()
        settled(page)
        shot(page, artifacts, "14-jobs")

        # come back: still refreshing, then a worker starts and the new preview appears
        page.get_by_role("link", name=re.compile("Preview")).click()
        expect(page.locator(".st-key-refresh_job")).to_contain_text("Refreshing — started by")
        quiet_shop.start_worker()
        expect(page.locator(".st-key-refresh_job")).to_have_count(0, timeout=60_000)
        until = time.monotonic() + 30
        latest = services.previews.latest(admin, "woocommerce", "customers")
        while latest is not None and latest.snapshot_id == first.snapshot_id:
            assert time.monotonic() < until, "the refresh did not finish"
            time.sleep(0.2)
            latest = services.previews.latest(admin, "woocommerce", "customers")
        settled(page)
        expect(page.get_by_text("served from the cache")).to_be_visible()
        assert latest is not None and latest.computed_at > first.computed_at
        jobs = services.jobs.recent(admin, 5)
        assert (jobs[0].state, jobs[0].started_by) == ("succeeded", ADMIN["username"])
    finally:
        services.close()
