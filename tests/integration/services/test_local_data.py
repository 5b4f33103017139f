"""Your own data on the local side, through the services: the organization's database
(PostgreSQL, MariaDB, an SQLite file), versioned mappings, file imports, and the refresh
comparing the store with them — on our SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from core.db import models as m
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.errors import (
    BadQuery,
    InvalidRequest,
    PermissionDenied,
    UnreadableValue,
    WriteRefused,
)
from core.localdb import DatabaseSettings
from core.services.local_data import LinesMapping, LocalMapping
from tests.integration.localdb.conftest import Crm

CUSTOMER_COLUMNS = {
    "email": "mail",
    "name": "full_name",
    "phone": "phone_no",
    "company": "firm",
    "address_1": "street",
    "address_2": "street2",
    "city": "town",
    "state": "region",
    "postcode": "zip",
    "country": "land",
    "status": "state_word",
}


def _sql(value: Any) -> str:
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def copy_demo_customers(services: Any, org_id: int, crm: Crm) -> tuple[str, list[dict]]:
    """The demo's local WooCommerce customers, copied into a table of the organization's
    database with its own column names; returns the table and the rows."""
    with tenant_session(services.sessions, org_id) as s:
        rows = list(LocalRecords(s).iter_rows("woocommerce", "customers"))
    table = crm.table(f"shop_{uuid.uuid4().hex[:8]}")
    columns = ["woo_id", *CUSTOMER_COLUMNS.values()]
    crm.admin(
        f"CREATE TABLE {table} (cust_no INTEGER PRIMARY KEY, woo_id VARCHAR(64), "
        + ", ".join(f"{c} VARCHAR(300)" for c in CUSTOMER_COLUMNS.values())
        + ")"
    )
    values = [
        "("
        + ", ".join(
            [str(i + 1), _sql(row["external_id"])] + [_sql(row[f]) for f in CUSTOMER_COLUMNS]
        )
        + ")"
        for i, row in enumerate(rows)
    ]
    crm.admin(f"INSERT INTO {table} (cust_no, {', '.join(columns)}) VALUES {', '.join(values)}")
    return table, rows


def connect(services: Any, actor: Any, crm: Crm) -> None:
    services.local_data.set_database(actor, crm.settings)


# --- the database ---------------------------------------------------------------------------


def test_connecting_keeps_the_password_out_of_our_database_and_the_log(services, admin, tmp_path):
    secret = f"S3cret-{uuid.uuid4().hex}"
    settings = DatabaseSettings.from_url(
        f"postgresql://crm_reader:{secret}@127.0.0.1:1/crm", connect_timeout=2
    )
    view = services.local_data.set_database(admin, settings)
    assert view.password_set and view.password_masked == "••••••"
    assert secret not in repr(view) and secret not in str(view.to_dict())
    assert view.url == "postgresql://crm_reader@127.0.0.1:1/crm"
    check = services.local_data.test_database(admin)
    assert not check.ok and "Nothing answers at 127.0.0.1:1" in check.message
    assert secret not in check.message
    with tenant_session(services.sessions, admin.org_id) as s:
        row = s.scalars(select(m.LocalDatabaseRow)).one()
        assert secret.encode() not in row.password_encrypted  # encrypted by the vault
        assert secret not in str(row.settings)
        events = s.scalars(select(m.ActivityLog).order_by(m.ActivityLog.id)).all()
    assert [e.action for e in events][-2:] == ["localdb_set", "localdb_tested"]
    assert events[-1].status == "failed" and secret not in str([e.details for e in events])
    # Changing the host without a password keeps the stored one (same kind).
    services.local_data.set_database(
        admin, DatabaseSettings.from_url("postgresql://crm_reader@127.0.0.2:1/crm")
    )
    assert services.local_data.database(admin).password_set


def test_wrong_password_and_unknown_database_in_words(services, admin, pg_crm):
    wrong = DatabaseSettings(
        kind="postgresql", database="postgres", host="127.0.0.1", user="nobody_here"
    )
    check = services.local_data.test_database(admin, wrong)
    assert not check.ok and "refused user 'nobody_here' or the password" in check.message
    services.local_data.set_database(admin, pg_crm.settings)
    assert services.local_data.test_database(admin).ok
    shown = services.local_data.database(admin)
    assert shown.test_ok and "read-only" in (shown.test_message or "")


def test_another_organization_sees_nothing(services, admin, sqlite_crm):
    connect(services, admin, sqlite_crm)
    mapping = LocalMapping.create(
        "woocommerce",
        "customers",
        table="clients",
        match="id:woo_id",
        columns={"email": "mail", "city": "town"},
    )
    services.local_data.save_mapping(admin, mapping)
    other = services.accounts.create_organization(
        "Other",
        admin_username="olga",
        admin_name="Olga",
        admin_email="olga@other.io",
        admin_password="correct horse battery",
    )
    assert services.local_data.database(other) is None
    assert services.local_data.mappings(other) == []
    assert services.local_data.mapping(other, "woocommerce", "customers") is None
    with pytest.raises(InvalidRequest, match="No database of yours is connected"):
        services.local_data.tables(other)


def test_viewers_read_mappings_and_only_admins_change_them(services, admin, sqlite_crm):
    connect(services, admin, sqlite_crm)
    services.accounts.add_user(
        admin, "vic", "Vic", "vic@acme.io", "correct horse battery", "viewer"
    )
    viewer = services.accounts.user_context(f"{admin.org_id}/vic")
    mapping = LocalMapping.create(
        "woocommerce", "customers", table="clients", match="natural", columns={"email": "mail"}
    )
    with pytest.raises(PermissionDenied):
        services.local_data.save_mapping(viewer, mapping)
    with pytest.raises(PermissionDenied):
        services.local_data.set_database(viewer, sqlite_crm.settings)
    services.local_data.save_mapping(admin, mapping)
    assert services.local_data.mapping(viewer, "woocommerce", "customers").version == 1


# --- mappings -------------------------------------------------------------------------------


def test_mappings_are_checked_against_the_database_and_versioned(services, admin, crm):
    connect(services, admin, crm)
    tables = {t.name for t in services.local_data.tables(admin)}
    assert crm.table("clients") in tables and crm.table("active_clients") in tables
    columns = [c.name for c in services.local_data.columns(admin, crm.table("clients"))]
    assert columns[:3] == ["cust_no", "woo_id", "mail"]
    wrong = LocalMapping.create(
        "odoo",
        "customers",
        table=crm.table("clients"),
        match="id:woo_id",
        columns={"email": "mail", "city": "city"},
    )
    with pytest.raises(BadQuery, match="has no column 'city' \\(for field city\\)"):
        services.local_data.save_mapping(admin, wrong)
    first = LocalMapping.create(
        "odoo",
        "customers",
        table=crm.table("clients"),
        match="id:woo_id",
        columns={"email": "mail", "city": "town"},
    )
    second = LocalMapping.create(
        "odoo",
        "customers",
        query=f"SELECT cust_no, mail, town FROM {crm.table('clients')} WHERE town <> 'Bern'",
        match="natural",
        columns={"email": "mail", "city": "town"},
    )
    services.local_data.save_mapping(admin, first)
    saved = services.local_data.save_mapping(admin, second)
    assert saved.version == 2 and saved.match == "natural"
    history = services.local_data.history(admin, "odoo", "customers")
    assert [(v.version, v.created_by, v.match) for v in history] == [
        (2, "ann", "natural"),
        (1, "ann", "id:woo_id"),
    ]
    assert services.local_data.mapping(admin, "odoo", "customers").mapping == second
    sample = services.local_data.sample(admin, second, limit=3)
    assert sample.compared_fields == ("email", "city")
    assert sample.records[0] == {
        "external_id": "ann@example.org",
        "email": "ann@example.org",
        "city": "Paris",
    }


def test_a_mapping_query_that_writes_is_refused_and_writes_nothing(services, admin, pg_crm):
    connect(services, admin, pg_crm)
    before = pg_crm.scalar("SELECT count(*) FROM crm.clients")
    sneaky = LocalMapping.create(
        "woocommerce",
        "customers",
        query="WITH gone AS (DELETE FROM crm.clients RETURNING *) SELECT cust_no, mail FROM gone",
        match="natural",
        columns={"email": "mail"},
    )
    with pytest.raises(WriteRefused, match="only reads your database, so nothing was changed"):
        services.local_data.sample(admin, sneaky)
    with pytest.raises(WriteRefused):
        services.local_data.save_mapping(admin, sneaky)
    with pytest.raises(WriteRefused, match="starts with UPDATE"):
        LocalMapping.create(
            "woocommerce",
            "customers",
            query="UPDATE crm.clients SET mail = 'x'",
            match="natural",
            columns={"email": "mail"},
        )
    assert pg_crm.scalar("SELECT count(*) FROM crm.clients") == before
    assert services.local_data.mappings(admin) == []


# --- refreshing against your own database ---------------------------------------------------


def _counts(snap: Any) -> dict[str, int]:
    return {k: snap.counts[k] for k in ("new", "updated", "deleted", "unchanged")}


def test_the_preview_compares_the_store_with_your_database(services, demo_org, crm):
    table, rows = copy_demo_customers(services, demo_org.org_id, crm)
    builtin = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "customers", force_refresh=True
    )
    connect(services, demo_org, crm)
    mapping = LocalMapping.create(
        "woocommerce", "customers", table=table, match="id:woo_id", columns=CUSTOMER_COLUMNS
    )
    services.local_data.save_mapping(demo_org, mapping)
    # Saving expired the cached preview: the next open computes it from your database.
    opened = services.previews.get_preview_snapshot(demo_org, "woocommerce", "customers")
    assert not opened.cache_hit
    assert _counts(opened) == _counts(builtin)  # the same rows, in your own layout
    assert opened.local["kind"] == "database" and opened.local["match"] == "id"
    assert any(n.startswith("Fields compared: email, name, phone") for n in opened.notes)

    # Fields a mapping leaves out are not compared, and the preview says which are.
    narrow = LocalMapping.create(
        "woocommerce",
        "customers",
        table=table,
        match="id:woo_id",
        columns={"email": "mail", "name": "full_name"},
    )
    services.local_data.save_mapping(demo_org, narrow)
    snap = services.previews.get_preview_snapshot(demo_org, "woocommerce", "customers")
    assert snap.local["compared"] == ["email", "name"]
    assert "city" in snap.not_compared and "email" not in snap.not_compared
    assert "Fields compared: email, name." in snap.notes
    for updated in snap.records["updated"]:
        assert {c["field"] for c in updated["changes"]} <= {"email", "name"}
    assert snap.counts["new"] == builtin.counts["new"]


def test_matching_by_e_mail_lists_ambiguous_keys_apart(services, demo_org, sqlite_crm):
    table, rows = copy_demo_customers(services, demo_org.org_id, sqlite_crm)
    builtin = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "customers", force_refresh=True
    )
    connect(services, demo_org, sqlite_crm)
    # Two of your rows with one e-mail: never matched by guess.
    twin = next(r for r in rows if r["email"])
    sqlite_crm.admin(
        f"INSERT INTO {table} (cust_no, woo_id, mail, full_name) "
        f"VALUES (99999, NULL, {_sql(twin['email'].upper())}, 'Twin')"
    )
    mapping = LocalMapping.create(
        "woocommerce", "customers", table=table, match="natural", columns=CUSTOMER_COLUMNS
    )
    services.local_data.save_mapping(demo_org, mapping)
    snap = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "customers", force_refresh=True
    )
    assert snap.local["match"] == "natural" and snap.local["key"] == "email"
    assert snap.ambiguous >= 1
    (listed,) = [a for a in snap.local["ambiguous_records"] if a["key"] == twin["email"]]
    assert "2 local rows have this e-mail" in listed["reason"]
    all_ids = {
        r["external_id"] for kind in ("new", "updated", "deleted") for r in snap.records[kind]
    }
    assert twin["email"] not in all_ids and twin["external_id"] not in all_ids
    total = sum(_counts(snap).values())
    assert total <= sum(_counts(builtin).values())
    assert any("ambiguous" in n for n in snap.notes)


def test_a_failing_database_keeps_the_last_good_preview(services, demo_org, sqlite_crm, tmp_path):
    table, _ = copy_demo_customers(services, demo_org.org_id, sqlite_crm)
    connect(services, demo_org, sqlite_crm)
    mapping = LocalMapping.create(
        "woocommerce", "customers", table=table, match="id:woo_id", columns=CUSTOMER_COLUMNS
    )
    services.local_data.save_mapping(demo_org, mapping)
    good = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "customers", force_refresh=True
    )
    services.local_data.set_database(
        demo_org, DatabaseSettings(kind="sqlite", database=str(tmp_path / "gone.sqlite"))
    )
    again = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "customers", force_refresh=True
    )
    assert again.snapshot_id == good.snapshot_id
    assert "There is no SQLite database at" in (again.refresh_error or "")


def test_a_value_that_is_not_its_field_names_the_row_and_column(services, demo_org, sqlite_crm):
    connect(services, demo_org, sqlite_crm)
    mapping = LocalMapping.create(
        "woocommerce",
        "products",
        table="items",
        match="natural",
        columns={"sku": "art_no", "stock_quantity": "stock"},
    )
    services.local_data.save_mapping(demo_org, mapping)
    where = "Row 3 of items \\(art_no = 'C-3'\\): column 'stock' holds 'abc'"
    with pytest.raises(UnreadableValue, match=where):
        services.local_data.sample(demo_org, mapping)
    with pytest.raises(UnreadableValue, match=where):  # no good preview yet to fall back on
        services.previews.get_preview_snapshot(
            demo_org, "woocommerce", "products", force_refresh=True
        )


# --- file imports ---------------------------------------------------------------------------


def test_a_file_with_invalid_rows_is_refused_unless_only_valid_rows_are_asked(services, demo_org):
    body = (
        b"E-mail,Full name,City,Stock\n"
        b"ann@example.org,Ann,Paris,1\n"
        b",No Mail,Oslo,2\n"
        b"bob@example.org,Bob,Lyon,x\n"
    )
    columns = {"email": "E-mail", "name": "Full name", "city": "City"}
    report = services.local_data.check_file(demo_org, "customers", body, "people.csv", columns)
    assert [(p.row, p.column) for p in report.problems] == [(3, "E-mail")]
    refused = services.local_data.import_file(
        demo_org, "customers", body, file_name="people.csv", columns=columns
    )
    assert refused.refused and refused.imported == 0
    with tenant_session(services.sessions, demo_org.org_id) as s:
        assert LocalRecords(s).count("woocommerce", "customers") > 2  # the demo's, untouched
    done = services.local_data.import_file(
        demo_org,
        "customers",
        body,
        file_name="people.csv",
        columns=columns,
        valid_only=True,
        sync_type="woocommerce",
    )
    assert done.imported == 2 and done.sync_types == ("woocommerce",)
    with tenant_session(services.sessions, demo_org.org_id) as s:
        assert LocalRecords(s).count("woocommerce", "customers") == 2
        assert LocalRecords(s).count("odoo", "customers") > 2  # another source: untouched
        actions = [e.action for e in s.scalars(select(m.ActivityLog)).all()]
    assert actions.count("file_imported") == 2
    version = services.local_data.mapping(demo_org, "woocommerce", "customers")
    assert version.kind == "file" and version.compared_fields == ("email", "name", "city")
    snap = services.previews.get_preview_snapshot(demo_org, "woocommerce", "customers")
    assert snap.local["kind"] == "file" and snap.local["match"] == "natural"
    assert snap.counts["deleted"] <= 2 and "phone" in snap.not_compared


def test_orders_take_their_lines_from_a_second_table(services, admin, crm):
    connect(services, admin, crm)
    lines = LinesMapping(
        table=crm.table("sale_lines"),
        order_key="sale_ref",
        parent_key="sale_id",
        sku="article",
        quantity="qty",
        total="line_sum",
    )
    mapping = LocalMapping.create(
        "woocommerce",
        "orders",
        table=crm.table("sales"),
        match="id:woo_order",
        columns={"number": "sale_no", "total": "sum_total", "currency": "cur"},
        lines=lines,
    )
    saved = services.local_data.save_mapping(admin, mapping)
    assert saved.compared_fields == ("number", "currency", "total", "lines")
    sample = services.local_data.sample(admin, mapping)
    first = next(r for r in sample.records if r["external_id"] == "9001")
    assert first["currency"] == "EUR" and first["total"] == "12.50"
    assert "A-1" in str(first["lines"]) and "B-2" in str(first["lines"])
    wrong = LocalMapping.create(
        "woocommerce",
        "orders",
        table=crm.table("sales"),
        match="id:woo_order",
        columns={"number": "sale_no"},
        lines=LinesMapping(
            table=crm.table("sale_lines"),
            order_key="sale_ref",
            parent_key="sale_id",
            sku="article",
            quantity="qtty",
            total="line_sum",
        ),
    )
    with pytest.raises(BadQuery, match="has no column 'qtty' \\(for the lines' quantity\\)"):
        services.local_data.save_mapping(admin, wrong)


def test_a_connector_s_own_mapping_wins_over_its_source_s(services, demo_org, sqlite_crm):
    connect(services, demo_org, sqlite_crm)
    whole = LocalMapping.create(
        "woocommerce", "customers", table="clients", match="natural", columns={"email": "mail"}
    )
    own = LocalMapping.create(
        "woocommerce",
        "customers",
        table="clients",
        match="id:woo_id",
        columns={"email": "mail", "city": "town"},
    )
    services.local_data.save_mapping(demo_org, whole)
    services.local_data.save_mapping(demo_org, own, "Demo WooCommerce store")
    of_connector = services.local_data.mapping(
        demo_org, None, "customers", "Demo WooCommerce store"
    )
    assert of_connector.mapping == own and of_connector.connector_id is not None
    assert services.local_data.mapping(demo_org, "woocommerce", "customers").mapping == whole
    snap = services.previews.get_preview_snapshot(
        demo_org, "woocommerce", "customers", force_refresh=True
    )
    assert snap.local["match"] == "id" and snap.local["compared"] == ["email", "city"]
    # Stop using the connector's own: its source's applies again; then ours.
    services.local_data.remove_mapping(demo_org, None, "customers", "Demo WooCommerce store")
    snap = services.previews.get_preview_snapshot(demo_org, "woocommerce", "customers")
    assert not snap.cache_hit and snap.local["match"] == "natural"
    services.local_data.remove_mapping(demo_org, "woocommerce", "customers")
    snap = services.previews.get_preview_snapshot(demo_org, "woocommerce", "customers")
    assert snap.local is None
    assert services.local_data.mappings(demo_org) == []
    assert [v.kind for v in services.local_data.history(demo_org, "woocommerce", "customers")] == [
        "builtin",
        "database",
    ]
    with pytest.raises(
        InvalidRequest, match="no mapping of woocommerce customers \\(the source's\\) to stop"
    ):
        services.local_data.remove_mapping(demo_org, "woocommerce", "customers")
