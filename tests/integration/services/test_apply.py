"""Applying a sync: the selected changes of a preview written to the built-in store, in
batches, with conflicts, resumption, idempotence and undo (real SQLite and PostgreSQL, a
real sandbox store)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.delta import COMPARABLE_FIELDS
from core.errors import InvalidRequest, PermissionDenied
from core.services.activity import ActivityFilter
from tests.integration.services.conftest import ROOT, SECRET_KEY

SOURCE, ENTITY = "woocommerce", "customers"


def local_rows(services, org_id: int, entity: str = ENTITY) -> dict[str, dict[str, Any]]:
    with tenant_session(services.sessions, org_id) as s:
        return {
            r["external_id"]: {f: r[f] for f in COMPARABLE_FIELDS[entity]}
            for r in LocalRecords(s).iter_rows(SOURCE, entity)
        }


def set_local(services, org_id: int, external_id: str, **values: Any) -> None:
    """Someone changes a local record (as our own tables' writer does)."""
    with tenant_session(services.sessions, org_id) as s:
        row = next(
            r for r in LocalRecords(s).iter_rows(SOURCE, ENTITY) if r["external_id"] == external_id
        )
        LocalRecords(s).upsert(SOURCE, ENTITY, [{**row, **values}])


def preview(services, actor, entity: str = ENTITY):
    return services.previews.get_preview_snapshot(actor, SOURCE, entity)


def all_records(services, actor, snap, kind: str) -> list[dict[str, Any]]:
    return services.previews.page_records(actor, snap.snapshot_id, kind, limit=1000).records


def test_apply_writes_the_selected_changes_minus_the_unticked_ones(services, demo_org):
    snap = preview(services, demo_org)
    new = all_records(services, demo_org, snap, "new")
    updated = all_records(services, demo_org, snap, "updated")
    deleted = all_records(services, demo_org, snap, "deleted")
    unticked = [new[0]["external_id"], updated[0]["external_id"]]
    before = local_rows(services, demo_org.org_id)

    plan = services.apply.plan(demo_org, SOURCE, ENTITY, exclude=unticked)
    assert plan.counts == {
        "create": len(new) - 1,
        "update": len(updated) - 1,
        "delete": 0,  # deletions are left out by default
    }
    assert plan.sentence() == (
        f"will create {len(new) - 1}, update {len(updated) - 1}, delete 0 customers in the "
        "built-in store"
    )
    run = services.apply.start(demo_org, SOURCE, ENTITY, exclude=unticked)
    assert run.state == "queued" and run.planned == plan.counts and run.excluded == 2
    done = services.apply.execute(demo_org, run.id)
    assert done.state == "succeeded"
    assert done.counts == {
        "created": len(new) - 1,
        "updated": len(updated) - 1,
        "deleted": 0,
        "conflicts": 0,
        "skipped": 0,
    }

    after = local_rows(services, demo_org.org_id)
    fields = [f for f in COMPARABLE_FIELDS[ENTITY] if f not in snap.not_compared]
    for rec in new[1:]:
        assert {f: after[rec["external_id"]][f] for f in ("email", "name")} == {
            "email": rec["email"],
            "name": rec["name"],
        }
    for rec in updated[1:]:
        for change in rec["changes"]:
            assert after[rec["external_id"]][change["field"]] == change["new"]
    assert new[0]["external_id"] not in after  # unticked: left alone
    assert after[updated[0]["external_id"]] == before[updated[0]["external_id"]]
    assert all(rec["external_id"] in after for rec in deleted)  # not selected
    assert fields  # the snapshot compared something

    # the preview is recomputed and shows only what was not applied
    again = preview(services, demo_org)
    assert again.snapshot_id != snap.snapshot_id
    assert again.counts["new"] == 1 and again.counts["updated"] == 1
    assert again.counts["deleted"] == len(deleted)

    actions = [e.action for e in services.activity.list_activity(demo_org, ActivityFilter())[0]]
    assert "apply_started" in actions and "apply" in actions


def test_selective_settings_decide_the_kinds(services, demo_org):
    services.selective.save_selective_config(
        demo_org, SOURCE, ENTITY, include_new=False, include_updated=False, include_deleted=True
    )
    snap = preview(services, demo_org)
    deleted = {r["external_id"] for r in all_records(services, demo_org, snap, "deleted")}
    before = local_rows(services, demo_org.org_id)
    run = services.apply.start(demo_org, SOURCE, ENTITY)
    assert run.planned == {"create": 0, "update": 0, "delete": len(deleted)}
    done = services.apply.execute(demo_org, run.id)
    after = local_rows(services, demo_org.org_id)
    assert done.counts["deleted"] == len(deleted)
    assert after.keys() == before.keys() - deleted
    assert all(after[k] == before[k] for k in after)  # nothing else was touched


def test_a_local_change_after_the_preview_is_a_conflict_and_not_overwritten(services, demo_org):
    snap = preview(services, demo_org)
    target = all_records(services, demo_org, snap, "updated")[0]
    key = target["external_id"]
    set_local(services, demo_org.org_id, key, city="Changed Meanwhile")

    run = services.apply.start(demo_org, SOURCE, ENTITY)
    done = services.apply.execute(demo_org, run.id)
    assert done.state == "partly_succeeded" and done.counts["conflicts"] == 1
    assert local_rows(services, demo_org.org_id)[key]["city"] == "Changed Meanwhile"
    page = services.apply.journal(demo_org, run.id, states=["conflict"])
    assert page.total == 1
    entry = page.entries[0]
    assert entry.external_id == key and entry.message
    assert entry.found is not None and entry.found["city"] == "Changed Meanwhile"
    assert entry.expected == target["before"]


def test_a_stale_preview_cannot_be_applied(services, demo_org, clock):
    old = preview(services, demo_org)
    newer = services.previews.get_preview_snapshot(demo_org, SOURCE, ENTITY, force_refresh=True)
    with pytest.raises(InvalidRequest, match="no longer the newest"):
        services.apply.start(demo_org, SOURCE, ENTITY, snapshot_id=old.snapshot_id)
    clock.advance(2 * 3600)  # past the preview's hour
    with pytest.raises(InvalidRequest, match="out of date"):
        services.apply.start(demo_org, SOURCE, ENTITY, snapshot_id=newer.snapshot_id)


def test_running_again_never_applies_a_record_twice(services, demo_org):
    preview(services, demo_org)
    run = services.apply.start(demo_org, SOURCE, ENTITY)
    first = services.apply.execute(demo_org, run.id)
    state = local_rows(services, demo_org.org_id)
    second = services.apply.execute(demo_org, run.id)  # a retried job
    assert second.counts == first.counts
    assert local_rows(services, demo_org.org_id) == state
    with pytest.raises(InvalidRequest):  # the preview is spent: refresh to apply again
        services.apply.start(demo_org, SOURCE, ENTITY, snapshot_id=run.snapshot_id)


def test_a_cancelled_run_resumes_to_the_same_state(services, demo_org, tmp_path):
    from tests.integration.services.conftest import make_services

    small = make_services(
        services.settings.sqlalchemy_url, tmp_path, rate_limit="1000/minute", apply_batch_size=7
    )
    try:
        preview(small, demo_org)
        run = small.apply.start(demo_org, SOURCE, ENTITY)
        batches = iter(range(1000))
        stopped = small.apply.execute(demo_org, run.id, cancelled=lambda: next(batches) >= 2)
        assert stopped.state == "cancelled" and stopped.processed == 14
        again = small.apply.start(demo_org, SOURCE, ENTITY)  # the same run, to continue
        assert again.id == run.id
        done = small.apply.execute(demo_org, run.id)
        assert done.state == "succeeded" and done.processed == done.total
        assert sum(done.counts.values()) == done.total
    finally:
        small.close()


def test_undo_restores_what_nobody_changed_since_and_reports_the_rest(services, demo_org):
    services.selective.save_selective_config(
        demo_org, SOURCE, ENTITY, include_new=True, include_updated=True, include_deleted=True
    )
    original = local_rows(services, demo_org.org_id)
    snap = preview(services, demo_org)
    touched = all_records(services, demo_org, snap, "updated")[1]["external_id"]
    run = services.apply.start(demo_org, SOURCE, ENTITY)
    services.apply.execute(demo_org, run.id)
    set_local(services, demo_org.org_id, touched, phone="+1 555 0100")  # after the apply

    undone = services.apply.undo(demo_org, run.id)
    assert undone.state == "undone" and undone.undone_by == demo_org.username
    assert undone.undo_counts == {"restored": run.total - 1, "conflicts": 1}
    now = local_rows(services, demo_org.org_id)
    assert now.keys() == original.keys()
    assert {k: v for k, v in now.items() if k != touched} == {
        k: v for k, v in original.items() if k != touched
    }
    assert now[touched]["phone"] == "+1 555 0100"
    conflict = services.apply.journal(demo_org, run.id, states=["undo_conflict"]).entries
    assert [e.external_id for e in conflict] == [touched]
    assert conflict[0].undo_found["phone"] == "+1 555 0100"
    assert conflict[0].after is not None  # what the run wrote, beside what was found
    with pytest.raises(InvalidRequest, match="undone already"):
        services.apply.undo(demo_org, run.id)
    actions = [e.action for e in services.activity.list_activity(demo_org, ActivityFilter())[0]]
    assert "undo" in actions


def test_a_viewer_cannot_apply_or_undo(services, demo_org):
    services.accounts.add_user(demo_org, "vic", "Vic", "v@acme.io", "a long password 1", "viewer")
    viewer_ctx = services.accounts.user_context(f"{demo_org.org_id}/vic")
    preview(services, demo_org)
    with pytest.raises(PermissionDenied):
        services.apply.start(viewer_ctx, SOURCE, ENTITY)
    run = services.apply.start(demo_org, SOURCE, ENTITY)
    with pytest.raises(PermissionDenied):
        services.apply.execute(viewer_ctx, run.id)
    services.apply.execute(demo_org, run.id)
    with pytest.raises(PermissionDenied):
        services.apply.undo(viewer_ctx, run.id)
    assert services.apply.runs(viewer_ctx)[1] == 1  # a viewer sees the runs


def test_an_apply_never_touches_another_organization(services, demo_org, sandbox):
    other = services.accounts.create_organization(
        "Other",
        admin_username="olga",
        admin_name="Olga",
        admin_email="o@other.io",
        admin_password="correct horse battery",
    )
    services.demo.load(other, sandbox_url=sandbox.url)
    theirs = local_rows(services, other.org_id)
    preview(services, demo_org)
    run = services.apply.start(demo_org, SOURCE, ENTITY)
    services.apply.execute(demo_org, run.id)
    services.apply.undo(demo_org, run.id)
    assert local_rows(services, other.org_id) == theirs
    assert services.apply.runs(other)[1] == 0
    with pytest.raises(Exception, match="no apply run"):
        services.apply.run(other, run.id)


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tests.integration.services.conftest import make_services

    db_url, data_dir, org_id, run_id = sys.argv[1:5]
    services = make_services(db_url, Path(data_dir), apply_batch_size=5)
    operator = services.accounts.operator(int(org_id))

    def progress(phase, fraction):
        print(phase, fraction, flush=True)
        time.sleep(0.3)  # the parent kills us between two batches

    services.apply.execute(operator, int(run_id), progress=progress)
    print("finished", flush=True)
    """
)


def test_an_apply_killed_mid_run_resumes_to_the_state_of_an_uninterrupted_one(
    services, demo_org, sandbox, tmp_path
):
    twin = services.accounts.create_organization(
        "Twin",
        admin_username="tom",
        admin_name="Tom",
        admin_email="t@twin.io",
        admin_password="correct horse battery",
    )
    services.demo.load(twin, sandbox_url=sandbox.url)
    assert local_rows(services, twin.org_id) == local_rows(services, demo_org.org_id)
    for org in (demo_org, twin):
        services.selective.save_selective_config(
            org, SOURCE, ENTITY, include_new=True, include_updated=True, include_deleted=True
        )
        preview(services, org)

    # the twin: uninterrupted
    services.apply.execute(twin, services.apply.start(twin, SOURCE, ENTITY).id)

    run = services.apply.start(demo_org, SOURCE, ENTITY)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            services.settings.sqlalchemy_url,
            str(tmp_path),
            str(demo_org.org_id),
            str(run.id),
        ],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": SECRET_KEY},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("applying")  # one batch committed
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    killed = services.apply.run(demo_org, run.id)
    assert killed.state == "running" and 0 < killed.processed < killed.total

    done = services.apply.execute(demo_org, run.id)  # resumed where it stopped
    assert done.state == "succeeded" and done.processed == done.total
    assert local_rows(services, demo_org.org_id) == local_rows(services, twin.org_id)
    twin_run = services.apply.runs(twin)[0][0]
    assert done.counts == twin_run.counts
