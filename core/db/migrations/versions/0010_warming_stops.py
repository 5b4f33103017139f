"""warming stops: a warm preview whose refresh failed for good stops being warmed, and says why

Revision ID: warming_stops
Revises: write_back
Create Date: 2026-12-02 16:30:00

- sync_warm_choice.stopped_at, stopped_reason, stopped_error: when the scheduler stopped
  keeping the preview warm after a terminal error (``core.errors``), the error's sentence and
  its kind; cleared when an admin saves the choice again or changes the connector.
- sync_warm_choice.resumed_at: when a change of the connector cleared the stop (the
  back-off after the failed refresh does not apply to refreshes after it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "warming_stops"
down_revision = "write_back"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_warm_choice") as batch:
        batch.add_column(sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stopped_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("stopped_error", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_warm_choice") as batch:
        batch.drop_column("resumed_at")
        batch.drop_column("stopped_error")
        batch.drop_column("stopped_reason")
        batch.drop_column("stopped_at")
