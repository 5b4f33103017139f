"""The Preview screen: counts, cache status, refresh, tabs, search, paging, diff, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.bootstrap import Services
from core.db.models import Job
from core.db.tenancy import tenant_session
from core.sandbox import SandboxServer
from core.services.activity import ActivityFilter
from core.services.actors import UserContext
from core.services.demo import WOO_CREDENTIALS
from tests.ui.appkit import open_page, texts
from tests.ui.workers import Worker, rerun_until, until
from ui.format import FIELD_LABEL as LABELS
from ui.format import md
from ui.preview import csv_export

UPDATED_TAB = {"sp_preview_kind": "updated"}


def _counts(at) -> dict[str, str]:  # noqa: ANN001
    return {m.label.split(" ", 1)[1].lower(): m.value for m in at.metric}


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_counts_match_the_stored_preview(
    role: str, services: Services, ctx: Callable[[str], UserContext]
) -> None:
    at = open_page("preview", role)
    snap = services.previews.latest(ctx(role), "woocommerce", "customers")
    assert snap is not None
    assert _counts(at) == {k: f"{v:,}" for k, v in snap.counts.items()}
    assert "served from the cache" in texts(at) and "fresh until" in texts(at)
    refresh_shown = any(b.key == "refresh" for b in at.button)
    assert refresh_shown == (role != "viewer")


def _run_queued(services: Services, user: UserContext) -> int:
    """Run the organization's queued jobs as a worker does; how many."""
    ran = 0
    for job in services.jobs.recent(user, 10):
        if job.active and services.jobs.run(user.org_id, job.id) is not None:
            ran += 1
    return ran


def test_refresh_queues_a_job_the_page_follows_and_shows_its_preview(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    editor = ctx("editor")
    before = services.previews.latest(editor, "woocommerce", "customers")
    at = open_page("preview", "editor")
    at.button(key="refresh").click().run()
    assert not at.exception
    # the page returned at once: the job waits for a worker, and everyone sees it
    assert "Refreshing — started by eddie" in texts(at)
    assert services.previews.latest(editor, "woocommerce", "customers") == before
    other = open_page("preview", "admin")
    assert "Refreshing — started by eddie" in texts(other)
    assert any(b.key == "cancel_refresh" for b in other.button)

    assert _run_queued(services, editor) == 1  # a worker runs it
    at.run()
    assert not at.exception
    after = services.previews.latest(editor, "woocommerce", "customers")
    assert before is not None and after is not None
    assert after.snapshot_id != before.snapshot_id
    assert "Refreshing" not in texts(at)
    assert all(m.delta == "0" for m in at.metric)  # same data: no change since the last one
    events, _ = services.activity.list_activity(editor, ActivityFilter(action="refresh"))
    assert (events[0].user, events[0].cache_hit) == ("eddie", False)


def test_a_refresh_whose_worker_died_is_taken_over_and_said(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    """A refresh whose worker died left its job running with a lease that ran out: the page
    shows it, another worker takes it over, and the activity log says what happened."""
    editor = ctx("editor")
    shown = next(
        c for c in services.connectors.list(editor) if c.sync_type == "woocommerce" and c.is_default
    )
    started = datetime(2026, 5, 1, 9, 58, 7, tzinfo=UTC)
    with tenant_session(services.sessions, editor.org_id) as s:
        s.add(
            Job(
                org_id=editor.org_id,
                kind="refresh",
                connector_id=shown.id,
                sync_type="woocommerce",
                entity_type="customers",
                active_key=f"refresh:{shown.id}:customers",
                state="running",
                phase="fetching",
                fraction=0.4,
                started_by="ada",
                actor_kind="operator",
                actor_ref="ada",
                created_at=started,
                started_at=started,
                lease_holder="a-worker-that-died",
                lease_until=started + timedelta(seconds=15),
                attempts=1,
            )
        )
    at = open_page("preview", "editor")
    assert "Refreshing — started by ada" in texts(at)
    at.button(key="refresh").click().run()  # joins it: one refresh at a time
    assert [i.value for i in at.info] == ["A refresh started by ada is already running."]
    assert _run_queued(services, editor) == 1
    at.run()
    assert not at.exception and "Refreshing" not in texts(at)
    events, _ = services.activity.list_activity(editor, ActivityFilter(action="refresh"))
    assert [(e.user, e.status) for e in events[:2]] == [("ada", "ok"), ("ada", "failed")]
    assert "stopped without finishing" in (events[1].error or "")


def test_a_rate_limited_refresh_says_when_to_retry_once(
    services: Services, monkeypatch: pytest.MonkeyPatch, ctx: Callable[[str], UserContext]
) -> None:
    monkeypatch.setenv("RATE_LIMIT", "1/minute")
    at = open_page("preview", "admin")
    at.button(key="refresh").click().run()
    assert not at.warning or all("worker" in w.value for w in at.warning)
    _run_queued(services, ctx("admin"))
    at.run()
    at.button(key="refresh").click().run()
    assert not at.exception
    warnings = [w.value for w in at.warning if "worker" not in w.value]
    assert len(warnings) == 1
    assert "You can refresh again in" in warnings[0]
    assert warnings[0].count(" in ") == 1, warnings[0]  # when to retry, said once
    assert "(limit 1/minute)" in warnings[0]
    # no word of a refresh beside the refusal (a toast would outlive its run)
    assert not at.toast and "Refreshing" not in texts(at)
    assert at.metric  # the last preview is still shown


def test_another_entity_is_computed_with_its_own_counts(
    services: Services, ctx: Callable[[str], UserContext], worker: Worker
) -> None:
    odoo = next(c for c in services.connectors.list(ctx("admin")) if c.sync_type == "odoo")
    at = open_page("preview", "viewer")
    at.selectbox(key="preview_connector").set_value(odoo.id)
    at.selectbox(key="preview_entity").set_value("products").run()
    assert not at.exception
    assert "Refreshing — started by vera" in texts(at)  # a worker computes it
    rerun_until(at, "the worker's preview", lambda a: bool(a.metric))
    snap = services.previews.latest(ctx("viewer"), "odoo", "products")
    assert snap is not None
    assert _counts(at) == {k: f"{v:,}" for k, v in snap.counts.items()}
    assert "Demo Odoo · Products" in texts(at)


def test_tabs_page_search_and_show_the_field_diff(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    viewer = ctx("viewer")
    snap = services.previews.latest(viewer, "woocommerce", "customers")
    assert snap is not None and snap.counts["updated"] > 50
    at = open_page("preview", "viewer", session=UPDATED_TAB)
    updated = at.dataframe[0].value
    assert len(updated) == 50
    assert "Rows 1–50 of" in texts(at)

    at.button(key="next_updated").click().run()
    assert f"Rows 51–{min(100, snap.counts['updated'])} of {snap.counts['updated']}" in texts(at)

    first = services.previews.page_records(viewer, snap.snapshot_id, "updated", limit=1).records[0]
    email = first["after"]["email"]
    at.text_input(key="search_updated").input(email).run()
    assert list(at.dataframe[0].value["E-mail"]) == [email]
    diff = at.table[0].value  # the first row is chosen until the user clicks another
    assert list(diff["Field"]) == [LABELS[c["field"]] for c in first["changes"]]
    assert list(diff["After"]) == [c["new"] for c in first["changes"]]


def test_clicking_a_row_shows_its_changes(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    viewer = ctx("viewer")
    snap = services.previews.latest(viewer, "woocommerce", "customers")
    assert snap is not None
    records = services.previews.page_records(viewer, snap.snapshot_id, "updated", limit=50)
    at = open_page("preview", "viewer", session=UPDATED_TAB)
    assert [s.key for s in at.selectbox] == ["preview_connector", "preview_entity"]  # no picker
    table = at.dataframe[0]
    at.session_state[str(table.key)] = {"selection": {"rows": [7], "columns": []}}
    at.run()
    chosen = records.records[7]
    diff = at.table[0].value
    assert list(diff["Before"]) == [c["old"] for c in chosen["changes"]]
    assert list(diff["After"]) == [c["new"] for c in chosen["changes"]]
    assert md(chosen["after"]["email"]) in texts(at)  # named above its changes


def test_the_chosen_kind_stays_open_after_an_action(services: Services) -> None:
    """The Deleted tab stays open when the user searches in it (AppTest draws only the open
    tab's content; the browser test checks the tab itself)."""
    at = open_page("preview", "viewer", session={"sp_preview_kind": "deleted"})
    assert at.text_input(key="search_deleted")
    at.text_input(key="search_deleted").input("a").run()
    assert at.text_input(key="search_deleted").value == "a"
    assert not [t for t in at.text_input if t.key in ("search_new", "search_updated")]


def test_csv_exports_name_the_records(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    viewer = ctx("viewer")
    snap = services.previews.latest(viewer, "woocommerce", "customers")
    assert snap is not None

    def rows(kind: str, *, by_change: bool = False) -> list[dict[str, str]]:
        text = csv_export(viewer, snap, kind, "", by_change=by_change)()
        return list(csv.DictReader(io.StringIO(text)))

    new_rows = rows("new")
    assert len(new_rows) == snap.counts["new"]
    assert list(new_rows[0])[:3] == ["ID", "Name", "E-mail"]
    assert "Address line 1" in new_rows[0] and "address_1" not in new_rows[0]

    by_change = rows("updated", by_change=True)
    assert list(by_change[0]) == ["ID", "Name", "E-mail", "Field", "Before", "After"]
    assert len({r["ID"] for r in by_change}) == snap.counts["updated"]
    assert all(r["E-mail"] and r["Name"] for r in by_change)

    by_record = rows("updated")
    assert len(by_record) == snap.counts["updated"]
    first = by_record[0]
    assert {"Changes", "Phone (before)", "Phone (after)", "City (before)", "City (after)"} <= set(
        first
    )
    changed = [r for r in by_change if r["ID"] == first["ID"]]
    for change in changed:
        assert first[f"{change['Field']} (before)"] == change["Before"]
        assert first[f"{change['Field']} (after)"] == change["After"]


def test_an_unreachable_source_shows_a_sentence_not_a_traceback(
    services: Services, ctx: Callable[[str], UserContext], worker: Worker
) -> None:
    admin = ctx("admin")
    for c in services.connectors.list(admin):
        services.connectors.delete(admin, c.id)
    services.connectors.add(
        admin,
        "woocommerce",
        "Broken shop",
        "http://127.0.0.1:9",
        {"consumer_key": "ck_x", "consumer_secret": "cs_x"},
    )
    services.previews.invalidate_preview_cache(admin)
    at = open_page("preview", "viewer")
    at.selectbox(key="preview_entity").set_value("products").run()
    assert not at.exception
    rerun_until(at, "the worker's failure", lambda a: bool(a.error))
    assert "Traceback" not in at.error[0].value
    assert "check the address" in at.error[0].value
    assert not at.metric

    # said once, and not queued again in a loop: the user may try again
    def products_jobs() -> list[tuple[int, str]]:
        jobs = services.jobs.recent(admin, 50, kind="refresh")
        return [(j.id, j.state) for j in jobs if j.entity_type == "products"]

    assert [state for _, state in products_jobs()] == ["failed"]
    at.run()
    assert [e.value for e in at.error][-1].startswith("The preview could not be computed:")
    assert [state for _, state in products_jobs()] == ["failed"]
    at.button(key="retry_preview").click().run()
    assert len(products_jobs()) == 2  # queued again, once


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_without_connectors_only_admins_get_the_demo_button(
    role: str, services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    for c in services.connectors.list(admin):
        services.connectors.delete(admin, c.id)
    at = open_page("preview", role)
    assert "no connection" in texts(at)
    assert any(b.key == "load_demo" for b in at.button) == (role == "admin")


def test_tables_show_empty_fields_as_empty_cells(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    at = open_page("preview", "viewer")
    snap = services.previews.latest(ctx("viewer"), "woocommerce", "customers")
    assert snap is not None
    shown = at.dataframe[0].value  # the New tab's table
    stored = snap.records["new"]
    assert list(shown["ID"]) == [r["external_id"] for r in stored][: len(shown)]
    empty = [r["external_id"] for r in stored if r.get("address_2") is None]
    assert empty, "the demo has customers without a second address line"
    row = shown[shown["ID"] == empty[0]].iloc[0]
    assert row["Address line 2"] == ""
    assert not shown.isna().any().any()


LIVE = "Acme live shop"


@pytest.fixture
def live_store(services: Services, ctx: Callable[[str], UserContext]) -> Iterator[int]:
    """A second WooCommerce store of the organization, added after the demo's; its id."""
    with SandboxServer(size=120, seed=11) as store:
        added = services.connectors.add(
            ctx("admin"), "woocommerce", LIVE, store.url, WOO_CREDENTIALS
        )
        yield added.id


def test_the_picked_connector_is_shown_and_remembered_for_the_user(
    services: Services, ctx: Callable[[str], UserContext], live_store: int, worker: Worker
) -> None:
    editor = ctx("editor")
    at = open_page("preview", "editor")
    picker = at.selectbox(key="preview_connector")
    assert picker.options == [
        "🛒 WooCommerce — Demo WooCommerce store",
        f"🛒 WooCommerce — {LIVE}",
        "🏭 Odoo — Demo Odoo",
    ]
    assert picker.value != live_store  # the first source's default connector
    assert "Demo WooCommerce store · Customers" in texts(at)

    picker.set_value(live_store).run()
    assert not at.exception
    rerun_until(at, "the worker's preview", lambda a: bool(a.metric))
    live = services.previews.latest(editor, None, "customers", connector=live_store)
    demo = services.previews.latest(editor, "woocommerce", "customers")
    assert live is not None and demo is not None and live.counts != demo.counts
    assert _counts(at) == {k: f"{v:,}" for k, v in live.counts.items()}
    assert f"{LIVE} · Customers" in texts(at)
    assert services.preferences.connector(editor) == live_store

    # signed in again (a new session, as in another browser): the same store
    again = open_page("preview", "editor")
    assert again.selectbox(key="preview_connector").value == live_store
    assert _counts(again) == {k: f"{v:,}" for k, v in live.counts.items()}
    again.button(key="refresh").click().run()
    assert not again.exception
    until(
        "the worker's refresh",
        lambda: (
            (new := services.previews.latest(editor, None, "customers", connector=live_store))
            and new.snapshot_id != live.snapshot_id
            and new
        ),
    )
    after = services.previews.latest(editor, "woocommerce", "customers")
    assert after is not None and after.snapshot_id == demo.snapshot_id  # the other store's

    # another user keeps their own choice
    viewer = open_page("preview", "viewer")
    assert viewer.selectbox(key="preview_connector").value != live_store
    assert _counts(viewer) == {k: f"{v:,}" for k, v in demo.counts.items()}


def test_what_was_read_is_shown_with_the_counts(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    at = open_page("preview", "viewer")
    snap = services.previews.latest(ctx("viewer"), "woocommerce", "customers")
    assert snap is not None and snap.notes
    (read,) = [e for e in at.expander if e.label == "ℹ️ What was read"]
    shown = [m.value for m in read.markdown]
    assert shown == [f"- {md(note)}" for note in snap.notes]  # shown as text, as typed
    assert "users with the role customer" in shown[0]
