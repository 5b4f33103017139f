"""Alembic migrations, applied on start-up and by `python -m core migrate`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` that needs no alembic.ini on disk."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_to_head(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (creating an SQLite file if needed)."""
    from core.db.engine import make_engine

    make_engine(url).dispose()  # creates the SQLite folder
    command.upgrade(alembic_config(url), "head")


def downgrade_to_base(url: str) -> None:
    """Remove every table (used by the migration tests)."""
    command.downgrade(alembic_config(url), "base")
