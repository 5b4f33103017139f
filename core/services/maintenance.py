"""What an operator does to the installation itself: bring the database schema up to date."""

from __future__ import annotations

from core.config import Settings
from core.db.migrate import upgrade_to_head
from core.db.tenancy import store_errors


def migrate(settings: Settings) -> None:
    """Apply the database migrations up to the newest (safe to repeat); a database that does
    not answer is a transient StoreError."""
    with store_errors():
        upgrade_to_head(settings.sqlalchemy_url)
