"""Migrations go up from empty, down to nothing, and up again — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from core.db.engine import make_engine
from core.db.migrate import downgrade_to_base, upgrade_to_head
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


def test_real_stores_marks_the_customers_read_so_far_active(tmp_path):
    """Local customers of WooCommerce and Odoo were read as active records (archived ones
    were not read): the migration that adds ``status`` says so; other sources are left."""
    from alembic import command

    from core.db.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'before.db'}"
    make_engine(url).dispose()
    command.upgrade(alembic_config(url), "0001")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organizations (id, name, slug, created_at) "
                "VALUES (1, 'A', 'a', '2026-01-01')"
            )
        )
        for n, source in enumerate(("woocommerce", "odoo", "csvshop"), start=1):
            conn.execute(
                text(
                    "INSERT INTO customers (id, org_id, source, external_id, updated_at) "
                    "VALUES (:id, 1, :source, '7', '2026-01-01')"
                ),
                {"id": n, "source": source},
            )
    engine.dispose()
    upgrade_to_head(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT source, status FROM customers")).all())
    engine.dispose()
    assert rows == {"woocommerce": "active", "odoo": "active", "csvshop": None}
