"""Migrations go up from empty, down to nothing, and up again — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from core.db.engine import make_engine
from core.db.migrate import alembic_config, downgrade_to_base, upgrade_to_head
from core.db.models import Base
from tests.conftest import PG_ADMIN_URL

EXPECTED = {t.name for t in Base.metadata.sorted_tables}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _roundtrip(url: str) -> None:
    upgrade_to_head(url)
    assert _tables(url) == EXPECTED
    downgrade_to_base(url)
    assert _tables(url) == set()
    upgrade_to_head(url)
    assert _tables(url) == EXPECTED


def test_sqlite_upgrade_downgrade_upgrade(tmp_path):
    db = tmp_path / "nested" / "fresh.db"
    _roundtrip(f"sqlite:///{db}")
    assert db.exists()  # the folder and file were created by the first run
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_downgrade_upgrade():
    name = f"syncpreview_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _roundtrip(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_schema_matches_models(db_engine):
    """The migrations create exactly the columns the models declare (no drift)."""
    insp = inspect(db_engine)
    for table in Base.metadata.sorted_tables:
        have = {c["name"] for c in insp.get_columns(table.name)}
        assert have == {c.name for c in table.columns}, table.name


# --- previews belong to a connector: the upgrade keeps what was there -----------------------

BEFORE_CONNECTORS = "0001"
ROWS_BEFORE = [
    "INSERT INTO organizations (id, name, slug, created_at) VALUES (1, 'A', 'a', :at)",
    # the first WooCommerce connector by id is not the first by name
    *(
        "INSERT INTO integration_connector (id, org_id, sync_type, name, base_url, "
        "credentials_encrypted, options, created_at, updated_at) "
        f"VALUES ({cid}, 1, '{source}', '{name}', 'http://x', :blob, '{{}}', :at, :at)"
        for cid, source, name in ((5, "woocommerce", "Zed shop"), (7, "woocommerce", "Acme"))
    ),
    *(
        "INSERT INTO sync_preview_cache (id, org_id, sync_type, entity_type, status, counts, "
        "duplicates_collapsed, computed_at, expires_at, hash_version, duration_ms, error) "
        f"VALUES ({sid}, 1, '{source}', 'customers', '{status}', '{{\"new\": 3}}', 0, :at, "
        f":at, 1, 5, NULL)"
        for sid, source, status in ((1, "woocommerce", "ready"), (2, "woocommerce", "failed"))
    ),
    # a snapshot of a source without any connector can never be shown again
    "INSERT INTO sync_preview_cache (id, org_id, sync_type, entity_type, status, counts, "
    "duplicates_collapsed, computed_at, hash_version, duration_ms) "
    "VALUES (3, 1, 'odoo', 'orders', 'ready', '{}', 0, :at, 1, 5)",
    *(
        "INSERT INTO sync_preview_record (org_id, cache_id, kind, position, external_id, "
        f"search_text, record) VALUES (1, {sid}, 'new', 0, '{sid}', '', '{{}}')"
        for sid in (1, 3)
    ),
    "INSERT INTO sync_selective_config (org_id, sync_type, entity_type, include_new, "
    "include_updated, include_deleted, updated_at) "
    "VALUES (1, 'woocommerce', 'orders', false, true, true, :at)",
    "INSERT INTO sync_preview_lock (org_id, sync_type, entity_type, holder, acquired_at, "
    "lease_until) VALUES (1, 'woocommerce', 'customers', 'h', :at, :at)",
]


def _upgrade_with_data(url: str) -> None:
    cfg = alembic_config(url)
    command.upgrade(cfg, BEFORE_CONNECTORS)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in ROWS_BEFORE:
                conn.execute(text(statement), {"at": "2026-11-30 10:00:00", "blob": b"x"})
        command.upgrade(cfg, "head")
        with engine.connect() as conn:

            def rows(sql: str) -> list[tuple]:
                return [tuple(r) for r in conn.execute(text(sql))]

            assert rows("SELECT id, is_default FROM integration_connector ORDER BY id") == [
                (5, True),  # the first added, not "Acme" (first by name)
                (7, False),
            ]
            assert rows("SELECT id, connector_id FROM sync_preview_cache ORDER BY id") == [
                (1, 5),
                (2, 5),
            ]
            assert rows("SELECT cache_id FROM sync_preview_record") == [(1,)]
            assert rows(
                "SELECT connector_id, include_new, include_deleted FROM sync_selective_config"
            ) == [(5, False, True)]
            assert rows("SELECT COUNT(*) FROM sync_preview_lock") == [(0,)]
            assert rows("SELECT COUNT(*) FROM user_preferences") == [(0,)]
        # and back: one row per source and entity again, the default connector's
        command.downgrade(cfg, BEFORE_CONNECTORS)
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT id FROM sync_preview_cache ORDER BY id")).all()
            assert [r[0] for r in kept] == [1, 2]
            assert conn.execute(text("SELECT COUNT(*) FROM sync_preview_record")).scalar() == 1
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def test_sqlite_upgrade_gives_existing_previews_to_the_first_connector(tmp_path):
    _upgrade_with_data(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_postgres_upgrade_gives_existing_previews_to_the_first_connector():
    name = f"syncpreview_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _upgrade_with_data(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
