"""write-back: applies written to the organization's own database

Revision ID: write_back
Revises: warming
Create Date: 2026-12-02 16:30:00

- local_write_back: per (source, entity, connector) mapping, whether applies write to the
  organization's database (off by default), the optional write user and its vault-encrypted
  password, what a deletion does (delete the row or mark it inactive via a column), and the
  last check in words.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "write_back"
down_revision = "warming"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_write_back",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sync_type", sa.String(length=16), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("write_user", sa.String(length=128), nullable=True),
        sa.Column("write_password_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("delete_mode", sa.String(length=16), nullable=False),
        sa.Column("active_column", sa.String(length=128), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_ok", sa.Boolean(), nullable=True),
        sa.Column("check_message", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["integration_connector.id"],
            name=op.f("fk_local_write_back_connector_id_integration_connector"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_local_write_back_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_write_back")),
        sa.UniqueConstraint(
            "org_id",
            "sync_type",
            "entity_type",
            "connector_id",
            name=op.f("uq_local_write_back_org_id_sync_type_entity_type_connector_id"),
        ),
    )
    op.create_index(
        op.f("ix_local_write_back_org_id"), "local_write_back", ["org_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_local_write_back_org_id"), table_name="local_write_back")
    op.drop_table("local_write_back")
