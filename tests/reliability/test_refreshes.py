"""Refreshes that meet bad luck: a process killed mid-refresh, a NUL from a store, a database
that refuses to store, unreadable local values, and the store faults a refresh outlives."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from core.bootstrap import build_services
from core.config import load_settings
from core.db.tenancy import tenant_session
from core.errors import SyncPreviewError
from core.services.activity import ActivityFilter
from tests.reliability.conftest import (
    ROOT,
    SQLITE_ONLY,
    core_env,
    make_demo,
    run_core,
    services_for,
)

PREVIEW = ("preview", "--org", "demo", "--sync-type", "woocommerce", "--entity", "customers")


def test_a_refresh_killed_mid_way_blocks_its_preview_only_for_seconds(sandbox, tmp_path):
    db = tmp_path / "db.sqlite"
    env = core_env(
        f"sqlite:///{db}",
        tmp_path / "data",
        REFRESH_LEASE_SECONDS="3",
        SINGLE_FLIGHT_WAIT_SECONDS="30",
    )
    services = services_for(env)
    try:
        make_demo(services, sandbox)
    finally:
        services.close()
    sandbox.faults.latency_ms = 5000  # the first refresh is still fetching when it is killed
    doomed = subprocess.Popen(
        [sys.executable, "-m", "core", *PREVIEW, "--refresh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_lease(db)
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    sandbox.faults.latency_ms = 0

    started = time.monotonic()
    again = run_core(env, *PREVIEW, "--refresh", "--json")
    took = time.monotonic() - started
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["data"]["cacheHit"] is False
    assert took < 20, took  # the dead lease lapsed within REFRESH_LEASE_SECONDS, not minutes
    assert "Note: A refresh started at " in again.stderr  # by the operator: no name
    assert "stopped without finishing" in again.stderr
    log = run_core(env, "activity", "--org", "demo", "--action", "refresh", "--json")
    events = json.loads(log.stdout)["events"]
    assert [e["status"] for e in events] == ["ok", "failed"]
    assert "stopped without finishing" in events[1]["error"]


def _wait_for_lease(db) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                # every refresh is a job: its lease is the job's
                sql = "SELECT count(*) FROM jobs WHERE lease_until IS NOT NULL"
                if conn.execute(sql).fetchone()[0]:
                    return
        except sqlite3.OperationalError:  # not migrated yet
            pass
        time.sleep(0.05)
    raise AssertionError("the refresh never started")


def test_a_nul_from_a_store_is_dropped_on_every_database(services, admin, sandbox, db_url):
    services.demo.load(admin, sandbox_url=sandbox.url)
    ident = sandbox.store.add(
        "customers", first_name="Nu\x00ll", last_name="Byte", email="nul\x00@example.com",
        city="Par\x00is", country="FR",
    )  # fmt: skip
    try:
        snap = services.previews.get_preview_snapshot(
            admin, "woocommerce", "customers", force_refresh=True
        )
        assert snap.refresh_error is None
        page = services.previews.page_records(admin, snap.snapshot_id, "new", search="null byte")
        (record,) = page.records
        assert (record["external_id"], record["name"], record["city"]) == (
            str(ident),
            "Null Byte",
            "Paris",
        )
        assert record["email"] == "nul@example.com"
    finally:
        sandbox.store.delete("customers", ident)


def test_a_database_that_refuses_to_store_is_a_recorded_failure(own_postgres, sandbox, tmp_path):
    settings = load_settings(
        data_dir=tmp_path,
        database_url=own_postgres.url,
        cookie_key="k" * 40,
        rate_limit="100/minute",
    )
    services = build_services(settings)
    try:
        admin = make_demo(services, sandbox)
        good = services.previews.get_preview_snapshot(admin, "woocommerce", "customers")
        with services.engine.begin() as conn:  # as a full disk or a broken index would
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ "
                    "LANGUAGE plpgsql; CREATE TRIGGER refuse BEFORE INSERT ON sync_preview_record "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        kept = services.previews.get_preview_snapshot(
            admin, "woocommerce", "customers", force_refresh=True
        )
        assert kept.snapshot_id == good.snapshot_id and kept.counts == good.counts
        assert kept.refresh_error is not None
        assert kept.refresh_error.startswith("The refresh failed because of an internal error")
        failed, _ = services.activity.list_activity(
            admin, ActivityFilter(action="refresh", status="failed")
        )
        assert len(failed) == 1 and failed[0].error == kept.refresh_error
    finally:
        services.close()


@SQLITE_ONLY  # PostgreSQL's typed columns cannot hold these values
def test_unreadable_local_values_name_their_row_and_column(services, admin, sandbox, db_url):
    services.demo.load(admin, sandbox_url=sandbox.url)
    with tenant_session(services.sessions, admin.org_id) as s:
        s.execute(text("UPDATE products SET stock_quantity = 'abc' WHERE external_id = '3'"))
    with pytest.raises(SyncPreviewError) as bad_stock:
        services.previews.get_preview_snapshot(admin, "woocommerce", "products")
    assert str(bad_stock.value) == (
        "The local products row with external id '3' (row 3 of the read): column "
        "'stock_quantity' holds 'abc', which is not a whole number; fix the value in the "
        "local database."
    )
    with tenant_session(services.sessions, admin.org_id) as s:
        s.execute(text("UPDATE products SET stock_quantity = 1e30 WHERE external_id = '3'"))
        s.execute(
            text("UPDATE customers SET name = CAST(X'4E6F7261FF' AS TEXT) WHERE external_id = '5'")
        )
    with pytest.raises(SyncPreviewError, match="holds '1.0e\\+30', which is not a whole number"):
        services.previews.get_preview_snapshot(admin, "woocommerce", "products")
    with pytest.raises(SyncPreviewError) as bad_name:
        services.previews.get_preview_snapshot(admin, "woocommerce", "customers")
    assert str(bad_name.value) == (
        "The local customers row with external id '5': column 'name' holds text that is not "
        "UTF-8; fix the value in the local database."
    )


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"rate_500": 1.0}, "answered with a server error (HTTP 500)"),
        ({"rate_429": 1.0, "retry_after": 0.01}, "kept answering “too many requests”"),
        ({"malformed_page": 1}, "WooCommerce"),
    ],
    ids=["5xx", "429", "malformed"],
)
@SQLITE_ONLY  # the store's faults do not depend on our database
def test_a_store_fault_keeps_the_last_good_preview(services, admin, sandbox, db_url, fault, words):
    """Held before these changes; kept so that it keeps holding."""
    services.demo.load(admin, sandbox_url=sandbox.url)
    good = services.previews.get_preview_snapshot(admin, "woocommerce", "customers")
    for name, value in fault.items():
        setattr(sandbox.faults, name, value)
    kept = services.previews.get_preview_snapshot(
        admin, "woocommerce", "customers", force_refresh=True
    )
    assert kept.snapshot_id == good.snapshot_id and kept.counts == good.counts
    assert kept.refresh_error is not None and words in kept.refresh_error
    assert "ck_" not in kept.refresh_error and "cs_" not in kept.refresh_error
