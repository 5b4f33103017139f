"""Write-back: applies (and undos) written to the organization's own database — a mapped
PostgreSQL table, a MariaDB table and an SQLite file table — only when an admin switched it
on; refused, with the database untouched, when it is off (our SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.db import models as m
from core.db.apply_runs import ApplyRunRows
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.errors import InvalidRequest, SyncPreviewError
from core.services.activity import ActivityFilter
from core.services.local_data import LocalMapping
from tests.integration.localdb.conftest import Crm
from tests.integration.services.conftest import ROOT, core_env, run_core

SOURCE, ENTITY = "woocommerce", "customers"
COLUMNS = {"email": "mail", "name": "full_name", "phone": "phone_no", "city": "town"}
DUMPED = ("woo_id", "mail", "full_name", "phone_no", "town")
_PK = {
    "postgresql": "cust_no SERIAL PRIMARY KEY",
    "mysql": "cust_no INTEGER AUTO_INCREMENT PRIMARY KEY",
    "sqlite": "cust_no INTEGER PRIMARY KEY",
}
_ACTIVE = {
    "postgresql": "is_active BOOLEAN NOT NULL DEFAULT TRUE",
    "mysql": "is_active TINYINT NOT NULL DEFAULT 1",
    "sqlite": "is_active INTEGER NOT NULL DEFAULT 1",
}
#: an "active" column of 1s and 0s, as many schemas keep one on PostgreSQL too
_ACTIVE_NUMBER = "is_active INTEGER NOT NULL DEFAULT 1"


def _sql(value: Any) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def org_table(services: Any, org_id: int, crm: Crm, *, active: str = "") -> str:
    """The demo's local customers copied into a new table of the organization's database
    (its own key numbering, its own column names; an "active" column when ``active`` says
    of what kind: "native" or "number"); returns the table's name."""
    with tenant_session(services.sessions, org_id) as s:
        rows = list(LocalRecords(s).iter_rows(SOURCE, ENTITY))
    table = crm.table(f"wb_{uuid.uuid4().hex[:8]}")
    columns = ", ".join(f"{c} VARCHAR(300)" for c in COLUMNS.values())
    crm.admin(
        f"CREATE TABLE {table} ({_PK[crm.kind]}, woo_id VARCHAR(64), {columns}"
        + {"": "", "native": f", {_ACTIVE[crm.kind]}", "number": f", {_ACTIVE_NUMBER}"}[active]
        + ")"
    )
    values = ", ".join(
        "(" + ", ".join([_sql(r["external_id"]), *(_sql(r[f]) for f in COLUMNS)]) + ")"
        for r in rows
    )
    crm.admin(f"INSERT INTO {table} (woo_id, {', '.join(COLUMNS.values())}) VALUES {values}")
    return table


def dump(crm: Crm, table: str, *, where: str = "") -> list[tuple[Any, ...]]:
    rows = crm.admin(f"SELECT {', '.join(DUMPED)} FROM {table} {where} ORDER BY woo_id")
    return [tuple(None if v is None else str(v) for v in r) for r in rows]


def by_woo_id(crm: Crm, table: str) -> dict[str, dict[str, Any]]:
    return {r[0]: dict(zip(DUMPED, r, strict=True)) for r in dump(crm, table)}


def mapped(services: Any, actor: Any, crm: Crm, *, active: str = "") -> str:
    table = org_table(services, actor.org_id, crm, active=active)
    services.local_data.set_database(actor, crm.settings)
    services.local_data.save_mapping(
        actor, LocalMapping.create(SOURCE, ENTITY, table=table, match="id:woo_id", columns=COLUMNS)
    )
    return table


def records(services: Any, actor: Any, snap: Any, kind: str) -> list[dict[str, Any]]:
    return services.previews.page_records(actor, snap.snapshot_id, kind, limit=1000).records


def preview(services: Any, actor: Any) -> Any:
    return services.previews.get_preview_snapshot(actor, SOURCE, ENTITY)


def include_deletions(services: Any, actor: Any) -> None:
    services.selective.save_selective_config(
        actor, SOURCE, ENTITY, include_new=True, include_updated=True, include_deleted=True
    )


def test_write_back_off_refuses_and_the_database_is_never_written(services, demo_org, crm):
    table = mapped(services, demo_org, crm)
    include_deletions(services, demo_org)
    snap = preview(services, demo_org)
    assert snap.local["kind"] == "database" and snap.counts["new"] > 0
    before = dump(crm, table)

    for attempt in (services.apply.plan, services.apply.start):
        with pytest.raises(InvalidRequest) as refused:
            attempt(demo_org, SOURCE, ENTITY)
        message = str(refused.value)
        assert f"table {table}" in message and "write-back is off" in message
        assert "Connectors › Your database" in message and "admin" in message
    assert services.apply.runs(demo_org)[1] == 0
    assert dump(crm, table) == before


def test_apply_conflict_and_undo_in_your_database(services, demo_org, crm, sandbox):
    other = services.accounts.create_organization(
        "Other",
        admin_username="olga",
        admin_name="Olga",
        admin_email="o@other.io",
        admin_password="correct horse battery",
    )
    services.demo.load(other, sandbox_url=sandbox.url)
    with tenant_session(services.sessions, other.org_id) as s:
        theirs = list(LocalRecords(s).iter_rows(SOURCE, ENTITY))

    table = mapped(services, demo_org, crm)
    include_deletions(services, demo_org)
    view = services.local_data.set_write_back(demo_org, SOURCE, ENTITY, enabled=True)
    assert view.enabled and "Write-back is on" in view.describe()
    snap = preview(services, demo_org)
    new = records(services, demo_org, snap, "new")
    updated = records(services, demo_org, snap, "updated")
    deleted = records(services, demo_org, snap, "deleted")
    assert new and len(updated) > 1 and deleted

    # someone changes one of the rows in their own database after the preview
    changed = updated[0]["external_id"]
    crm.admin(f"UPDATE {table} SET town = 'Changed Meanwhile' WHERE woo_id = '{changed}'")
    before = dump(crm, table)

    plan = services.apply.plan(demo_org, SOURCE, ENTITY)
    assert plan.sentence().endswith(f"customers in your database (table {table})")
    run = services.apply.start(demo_org, SOURCE, ENTITY)
    assert run.target == "database" and run.target_label == f"your database (table {table})"
    done = services.apply.execute(demo_org, run.id)
    assert done.state == "partly_succeeded"
    assert done.counts == {
        "created": len(new),
        "updated": len(updated) - 1,
        "deleted": len(deleted),
        "conflicts": 1,
        "skipped": 0,
    }

    rows = by_woo_id(crm, table)
    for rec in new:
        assert rows[rec["external_id"]]["mail"] == rec["email"]
        assert rows[rec["external_id"]]["full_name"] == rec["name"]
    for rec in updated[1:]:
        for change in rec["changes"]:
            if change["field"] in COLUMNS:
                assert rows[rec["external_id"]][COLUMNS[change["field"]]] == change["new"]
    assert not {rec["external_id"] for rec in deleted} & rows.keys()
    assert rows[changed]["town"] == "Changed Meanwhile"  # the conflict: untouched
    conflict = services.apply.journal(demo_org, run.id, states=["conflict"]).entries[0]
    assert conflict.external_id == changed and conflict.found["city"] == "Changed Meanwhile"
    assert len(rows) == len(before) + len(new) - len(deleted)  # no row written twice

    # the next preview shows only what was not applied (the conflict)
    again = preview(services, demo_org)
    assert (again.counts["new"], again.counts["updated"], again.counts["deleted"]) == (0, 1, 0)

    undone = services.apply.undo(demo_org, run.id)
    assert undone.state == "undone"
    assert dump(crm, table) == before
    with tenant_session(services.sessions, other.org_id) as s:
        assert list(LocalRecords(s).iter_rows(SOURCE, ENTITY)) == theirs
    actions = [e.action for e in services.activity.list_activity(demo_org, ActivityFilter())[0]]
    assert "write_back_switched" in actions and "apply" in actions and "undo" in actions


@pytest.mark.parametrize("active", ["native", "number"])
def test_deleted_records_are_marked_inactive_and_undo_reactivates(services, demo_org, crm, active):
    table = mapped(services, demo_org, crm, active=active)
    services.selective.save_selective_config(
        demo_org, SOURCE, ENTITY, include_new=False, include_updated=False, include_deleted=True
    )
    services.local_data.set_write_back(
        demo_org, SOURCE, ENTITY, enabled=True, active_column="is_active"
    )
    snap = preview(services, demo_org)
    deleted = sorted(r["external_id"] for r in records(services, demo_org, snap, "deleted"))
    assert deleted
    count = len(dump(crm, table))
    done = services.apply.execute(demo_org, services.apply.start(demo_org, SOURCE, ENTITY).id)
    assert done.counts["deleted"] == len(deleted)
    off = f"is_active = {_false(crm, active)}"
    inactive = [str(r[0]) for r in crm.admin(f"SELECT woo_id FROM {table} WHERE {off}")]
    assert sorted(inactive) == deleted and len(dump(crm, table)) == count  # kept, inactive
    # the preview no longer counts them (inactive rows are not read)
    assert preview(services, demo_org).counts["deleted"] == 0

    services.apply.undo(demo_org, done.id)
    assert crm.scalar(f"SELECT count(*) FROM {table} WHERE {off}") == 0
    assert preview(services, demo_org).counts["deleted"] == len(deleted)


def _false(crm: Crm, active: str) -> str:
    return "FALSE" if crm.kind == "postgresql" and active == "native" else "0"


def test_a_crash_between_the_two_commits_resumes_without_writing_twice(
    services, demo_org, sqlite_crm, monkeypatch
):
    table = mapped(services, demo_org, sqlite_crm)
    services.local_data.set_write_back(demo_org, SOURCE, ENTITY, enabled=True)
    snap = preview(services, demo_org)
    run = services.apply.start(demo_org, SOURCE, ENTITY)

    # the organization's database commits the batch, then our database fails to mark it
    real_record = ApplyRunRows.record

    def crash(self, *args, **kwargs):
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(ApplyRunRows, "record", crash)
    with pytest.raises(SyncPreviewError):
        services.apply.execute(demo_org, run.id)
    monkeypatch.setattr(ApplyRunRows, "record", real_record)
    written = by_woo_id(sqlite_crm, table)
    assert {r["external_id"] for r in records(services, demo_org, snap, "new")} <= written.keys()

    done = services.apply.execute(demo_org, run.id)
    assert done.state == "succeeded"
    assert done.counts["conflicts"] == 0 and done.counts["created"] == 0
    assert done.counts["skipped"] == done.total  # found written: skipped, not applied again
    assert by_woo_id(sqlite_crm, table) == written
    ids = [r[0] for r in sqlite_crm.admin(f"SELECT woo_id FROM {table}")]
    assert len(ids) == len(set(ids))


def test_a_mapping_that_cannot_be_written_is_refused_in_words(services, admin, pg_crm):
    services.local_data.set_database(admin, pg_crm.settings)

    def refused(mapping: LocalMapping, **options: Any) -> str:
        services.local_data.save_mapping(admin, mapping)
        with pytest.raises(InvalidRequest) as err:
            services.local_data.set_write_back(admin, SOURCE, ENTITY, enabled=True, **options)
        assert "Write-back stays as it was" in str(err.value)
        assert not services.local_data.write_back(admin, SOURCE, ENTITY).enabled
        return str(err.value)

    query = LocalMapping.create(
        SOURCE,
        ENTITY,
        query="SELECT cust_no, mail FROM crm.clients",
        match="id:cust_no",
        columns={"email": "mail"},
    )
    assert "SELECT query" in refused(query)
    view = LocalMapping.create(
        SOURCE, ENTITY, table="crm.active_clients", match="id:cust_no", columns={"email": "mail"}
    )
    assert "is a view, not a table" in refused(view)
    # id numbers itself and has_default has a default: only must_have is missing
    name = f"crm.strict_{uuid.uuid4().hex[:6]}"
    pg_crm.admin(
        f"CREATE TABLE {name} (id SERIAL PRIMARY KEY, woo_id TEXT, mail TEXT, "
        "must_have TEXT NOT NULL, has_default TEXT NOT NULL DEFAULT 'x')"
    )
    strict = LocalMapping.create(
        SOURCE, ENTITY, table=name, match="id:woo_id", columns={"email": "mail"}
    )
    message = refused(strict)
    assert "must_have" in message and "has_default" not in message and "NOT NULL" in message
    assert "no column(s) gone" in refused(strict, active_column="gone")

    # a write user that may only read
    password = "ro-" + uuid.uuid4().hex
    role = f"wb_ro_{uuid.uuid4().hex[:6]}"
    pg_crm.admin(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    pg_crm.admin(f"GRANT USAGE ON SCHEMA crm TO {role}")
    pg_crm.admin(f"GRANT SELECT ON crm.clients TO {role}")
    clients = LocalMapping.create(
        SOURCE, ENTITY, table="crm.clients", match="id:woo_id", columns={"email": "mail"}
    )
    message = refused(clients, write_user=role, write_password=password)
    assert "may not INSERT, UPDATE, DELETE on crm.clients" in message
    assert password not in message


def test_the_write_password_is_never_shown_or_logged(
    services, demo_org, pg_crm, db_url, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    table = mapped(services, demo_org, pg_crm)
    password = "wb-secret-" + uuid.uuid4().hex
    role = f"wb_w_{uuid.uuid4().hex[:6]}"
    pg_crm.admin(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    pg_crm.admin(f"GRANT USAGE ON SCHEMA crm TO {role}")
    pg_crm.admin(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    pg_crm.admin(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA crm TO {role}")

    # from the command line, the password on standard input
    env = core_env(db_url, tmp_path / "cli")
    args = ["mapping", "write-back", "--org", str(demo_org.org_id), "--sync-type", SOURCE]
    args += ["--entity", ENTITY, "--on", "--write-user", role, "--write-password-stdin"]
    out = subprocess.run(
        [sys.executable, "-m", "core", *args],
        input=password + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert f"as user {role}, password ••••••" in out.stdout
    shown = run_core(env, "mapping", "show", "--org", str(demo_org.org_id))
    assert "Write-back is on" in shown.stdout

    snap = preview(services, demo_org)
    done = services.apply.execute(demo_org, services.apply.start(demo_org, SOURCE, ENTITY).id)
    assert done.counts["created"] == snap.counts["new"] > 0

    written = [out.stdout, out.stderr, shown.stdout, shown.stderr, caplog.text]
    written += [repr(e) for e in services.activity.list_activity(demo_org, ActivityFilter())[0]]
    written.append(repr(services.local_data.write_back(demo_org, SOURCE, ENTITY).to_dict()))
    with tenant_session(services.sessions, demo_org.org_id) as s:
        row = s.scalars(select(m.LocalWriteBack)).one()
        assert (
            row.write_password_encrypted and password.encode() not in row.write_password_encrypted
        )
    if db_url.startswith("postgresql"):
        written.append(
            subprocess.run(
                ["pg_dump", "--data-only", db_url.replace("+psycopg2", "")],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    else:
        written.append(Path(db_url.removeprefix("sqlite:///")).read_bytes().decode("latin-1"))
    for text in written:
        assert password not in text


def test_switched_off_after_the_start_the_run_stops_and_writes_nothing(
    services, demo_org, sqlite_crm
):
    table = mapped(services, demo_org, sqlite_crm)
    services.local_data.set_write_back(demo_org, SOURCE, ENTITY, enabled=True)
    preview(services, demo_org)
    run = services.apply.start(demo_org, SOURCE, ENTITY)
    before = dump(sqlite_crm, table)
    services.local_data.set_write_back(demo_org, SOURCE, ENTITY, enabled=False)
    with pytest.raises(InvalidRequest, match="switched off"):
        services.apply.execute(demo_org, run.id)
    assert services.apply.run(demo_org, run.id).state == "failed"
    assert dump(sqlite_crm, table) == before


def test_matching_by_e_mail_writes_by_the_e_mail_column(services, demo_org, sqlite_crm):
    table = org_table(services, demo_org.org_id, sqlite_crm)
    # the e-mails as people type them: the match ignores case and spaces
    sqlite_crm.admin(f"UPDATE {table} SET mail = ' ' || upper(mail) || ' '")
    services.local_data.set_database(demo_org, sqlite_crm.settings)
    services.local_data.save_mapping(
        demo_org, LocalMapping.create(SOURCE, ENTITY, table=table, match="natural", columns=COLUMNS)
    )
    include_deletions(services, demo_org)
    services.local_data.set_write_back(demo_org, SOURCE, ENTITY, enabled=True)
    snap = preview(services, demo_org)
    assert snap.local["match"] == "natural"
    new = records(services, demo_org, snap, "new")
    updated = records(services, demo_org, snap, "updated")
    deleted = records(services, demo_org, snap, "deleted")
    assert new and updated and deleted
    before = dump(sqlite_crm, table)

    done = services.apply.execute(demo_org, services.apply.start(demo_org, SOURCE, ENTITY).id)
    assert done.counts["conflicts"] == 0
    assert (done.counts["created"], done.counts["updated"], done.counts["deleted"]) == (
        len(new),
        len(updated),
        len(deleted),
    )
    mails = {str(r[1]).strip().lower(): r for r in dump(sqlite_crm, table)}
    assert all(rec["email"] in mails for rec in new)
    assert not {rec["external_id"] for rec in deleted} & mails.keys()
    again = preview(services, demo_org)
    assert (again.counts["new"], again.counts["updated"], again.counts["deleted"]) == (0, 0, 0)

    services.apply.undo(demo_org, done.id)
    # the rows are back as the preview saw them (a deleted one inserted again with the mapped
    # columns only): the preview shows the same changes as before the apply
    assert len(dump(sqlite_crm, table)) == len(before)
    undone = preview(services, demo_org)
    assert {k: undone.counts[k] for k in ("new", "updated", "deleted", "unchanged")} == {
        k: snap.counts[k] for k in ("new", "updated", "deleted", "unchanged")
    }
