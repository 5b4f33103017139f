"""warming: which previews workers keep warm, and how often

Revision ID: warming
Revises: apply_runs
Create Date: 2026-12-06 10:00:00

- sync_warm_choice: per (connector, entity), refresh every N minutes (None: off), who chose
  it and when.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "warming"
down_revision = "apply_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_warm_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("sync_type", sa.String(length=16), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("every_minutes", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["integration_connector.id"],
            name=op.f("fk_sync_warm_choice_connector_id_integration_connector"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_sync_warm_choice_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_warm_choice")),
        sa.UniqueConstraint(
            "org_id",
            "connector_id",
            "entity_type",
            name=op.f("uq_sync_warm_choice_org_id_connector_id_entity_type"),
        ),
    )
    op.create_index(
        op.f("ix_sync_warm_choice_org_id"), "sync_warm_choice", ["org_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_warm_choice_org_id"), table_name="sync_warm_choice")
    op.drop_table("sync_warm_choice")
