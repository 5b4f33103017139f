"""Alembic environment: runs migrations on the URL given by core.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from core.db.engine import make_engine
from core.db.models import Base

config = context.config
target_metadata = Base.metadata


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Switch SQLite's foreign keys (only possible outside a transaction). Batch migrations
    recreate a table on SQLite (copy, drop the old one, rename); with foreign keys enforced,
    dropping the old table would delete every row that references it ON DELETE CASCADE."""
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"The migration left rows without their parent: {broken}")
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)
    engine.dispose()


run_migrations_online()
