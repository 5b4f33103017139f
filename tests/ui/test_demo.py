"""Pages never compute: the demo is loaded, and a missing or expired preview computed, by real
workers (`python -m core worker` processes); the page queues the job and follows it. What a
user checks: the sentence while it waits, the demo's preview when it is done (not every
record "new"), and that nothing was computed in the page meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.bootstrap import Services, build_services
from core.config import load_settings
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.services.actors import UserContext
from tests.ui.appkit import PASSWORD, USERS, open_page, texts
from tests.ui.workers import Worker, rerun_until, until

NO_WORKER = "No worker is running"


def _counts(at) -> dict[str, int]:  # noqa: ANN001
    return {m.label.split(" ", 1)[1].lower(): int(m.value.replace(",", "")) for m in at.metric}


@pytest.fixture
def newcomer(empty_dir: Path) -> Iterator[tuple[Services, UserContext]]:
    """An organization just set up (no connectors yet), and services over its database."""
    services = build_services(load_settings(data_dir=empty_dir))
    admin = services.accounts.create_organization(
        "Globex",
        admin_username=USERS["admin"],
        admin_name="Ada Admin",
        admin_email="ada@globex.example",
        admin_password=PASSWORD,
    )
    yield services, admin
    services.close()


def _demo_preview_is_whole(at, services: Services, admin: UserContext) -> None:  # noqa: ANN001
    """The demo's first preview, as the page shows it: new, updated, deleted and unchanged
    records (a demo whose local records were missing would show every record as new)."""
    rerun_until(at, "the demo's preview", lambda a: bool(a.metric))
    counts = _counts(at)
    assert counts["updated"] and counts["deleted"] and counts["unchanged"], counts
    assert counts["new"] < counts["unchanged"], counts
    names = sorted(c.name for c in services.connectors.list(admin))
    assert names == ["Demo Odoo", "Demo WooCommerce store"]


def test_the_demo_waits_for_a_worker_and_loads_when_one_starts(
    newcomer: tuple[Services, UserContext], start_worker: Callable[..., Worker]
) -> None:
    services, admin = newcomer
    at = open_page("preview", "admin")
    at.button(key="load_demo").click().run()
    assert not at.exception
    assert NO_WORKER in texts(at) and "python -m core worker" in texts(at)
    (job,) = services.jobs.recent(admin, 5, kind="demo")
    assert job.state == "queued"
    # another tab of the organization sees it waiting too (no second button, no second job)
    other = open_page("preview", "admin")
    assert NO_WORKER in texts(other) and not any(b.key == "load_demo" for b in other.button)
    at.run()
    assert services.jobs.get(admin, job.id).state == "queued"  # the page ran nothing
    assert services.connectors.list(admin) == []

    first = start_worker()
    rerun_until(at, "the demo loaded", lambda a: "Demo data loaded" in texts(a))
    _demo_preview_is_whole(at, services, admin)
    assert len(services.jobs.recent(admin, 5, kind="demo")) == 1

    # the worker restarts: its sandbox ended with it, the next worker serves the demo
    before = services.previews.latest(admin, "woocommerce", "customers")
    assert before is not None
    address = {c.name: c.base_url for c in services.connectors.list(admin)}
    first.stop()
    start_worker("restarted")
    at.button(key="refresh").click().run()
    assert not at.exception
    rerun_until(
        at,
        "the refreshed preview",
        lambda a: (
            "Refreshing" not in texts(a)
            and (new := services.previews.latest(admin, "woocommerce", "customers")) is not None
            and new.snapshot_id != before.snapshot_id
        ),
    )
    assert not at.error and _counts(at) == before.counts  # the same demo records
    assert {c.name: c.base_url for c in services.connectors.list(admin)} != address


def test_a_demo_load_whose_worker_was_killed_is_finished_by_another(
    newcomer: tuple[Services, UserContext], start_worker: Callable[..., Worker]
) -> None:
    services, admin = newcomer
    first = start_worker("doomed", REFRESH_LEASE_SECONDS="2")
    at = open_page("preview", "admin")
    at.button(key="load_demo").click().run()
    (job,) = services.jobs.recent(admin, 5, kind="demo")
    # SIGKILL once it wrote the first entity's local records, before it finished (a fast
    # machine may finish the load between two looks: then the rescuer has nothing to do)
    until(
        "the load halfway",
        lambda: (
            (j := services.jobs.get(admin, job.id)).state in ("succeeded", "failed")
            or (j.state == "running" and j.fraction > 0)
        ),
        timeout=120,
    )
    first.kill()
    killed = services.jobs.get(admin, job.id)
    assert killed.state in ("running", "succeeded"), first.log()
    if killed.state == "running":  # killed mid-load (it may have just finished)
        with tenant_session(services.sessions, admin.org_id) as s:
            assert LocalRecords(s).count("woocommerce", "customers") > 0
        assert services.connectors.list(admin) == []  # nothing half-loaded is visible
        at.run()
        assert not at.exception and not at.metric
    # the page keeps following while another worker takes it over and finishes it
    start_worker("rescuer")
    rerun_until(at, "the demo loaded", lambda a: "Demo data loaded" in texts(a))
    done = services.jobs.get(admin, job.id)
    assert done.state == "succeeded"
    if killed.state == "running":
        assert done.attempts == 2
    _demo_preview_is_whole(at, services, admin)


def test_with_no_worker_the_preview_waits_and_the_page_computes_nothing(
    services: Services, ctx: Callable[[str], UserContext], start_worker: Callable[..., Worker]
) -> None:
    viewer = ctx("viewer")
    odoo = next(c for c in services.connectors.list(viewer) if c.sync_type == "odoo")
    at = open_page("preview", "viewer")
    at.selectbox(key="preview_connector").set_value(odoo.id)
    at.selectbox(key="preview_entity").set_value("products").run()
    assert not at.exception
    assert NO_WORKER in texts(at) and "scripts/run" in texts(at)
    assert not at.metric  # nothing to show yet
    at.run()
    job = services.previews.running_refresh(viewer, "odoo", "products")
    assert job is not None and job.state == "queued"  # it waits: the page computed nothing
    assert services.previews.latest(viewer, "odoo", "products") is None

    start_worker()
    rerun_until(at, "the worker's preview", lambda a: bool(a.metric))
    snap = services.previews.latest(viewer, "odoo", "products")
    assert snap is not None
    assert _counts(at) == snap.counts
    assert NO_WORKER not in texts(at)


def test_an_expired_preview_is_shown_while_it_waits_for_a_worker(
    services: Services, ctx: Callable[[str], UserContext], start_worker: Callable[..., Worker]
) -> None:
    admin = ctx("admin")
    last = services.previews.latest(admin, "woocommerce", "customers")
    assert last is not None
    services.previews.invalidate_preview_cache(admin)
    at = open_page("preview", "viewer")
    assert NO_WORKER in texts(at)
    assert _counts(at) == last.counts and "expired at" in texts(at)  # the last good one
    still = services.previews.latest(admin, "woocommerce", "customers")
    assert still is not None and still.snapshot_id == last.snapshot_id  # not computed here
    job = services.previews.running_refresh(admin, "woocommerce", "customers")
    assert job is not None and job.state == "queued"

    start_worker()
    rerun_until(at, "the recomputed preview", lambda a: "fresh until" in texts(a))
    new = services.previews.latest(admin, "woocommerce", "customers")
    assert new is not None and new.snapshot_id != last.snapshot_id
