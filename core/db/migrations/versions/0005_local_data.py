"""local data: the organization's own database and the mappings of its records

Revision ID: local_data
Revises: hardening
Create Date: 2026-12-02 13:00:00

- local_database: one per organization; where its own database is (without the password)
  and the password encrypted by the vault.
- local_mapping: versions of where the local side of (source, entity[, connector]) comes
  from — a mapping of that database, or a file imported into our own tables; the newest
  version is in force.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "local_data"
down_revision = "hardening"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"],
        ["organizations.id"],
        name=op.f(f"fk_{table}_org_id_organizations"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "local_database",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("password_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("test_ok", sa.Boolean(), nullable=True),
        sa.Column("test_message", sa.Text(), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        _org_fk("local_database"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_database")),
        sa.UniqueConstraint("org_id", name=op.f("uq_local_database_org_id")),
    )
    with op.batch_alter_table("local_database", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_local_database_org_id"), ["org_id"], unique=False)

    op.create_table(
        "local_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sync_type", sa.String(length=16), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mapping", JSON, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["integration_connector.id"],
            name=op.f("fk_local_mapping_connector_id_integration_connector"),
            ondelete="CASCADE",
        ),
        _org_fk("local_mapping"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_mapping")),
    )
    with op.batch_alter_table("local_mapping", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_local_mapping_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_local_mapping_lookup", ["org_id", "sync_type", "entity_type", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("local_mapping", schema=None) as batch_op:
        batch_op.drop_index("ix_local_mapping_lookup")
        batch_op.drop_index(batch_op.f("ix_local_mapping_org_id"))
    op.drop_table("local_mapping")
    with op.batch_alter_table("local_database", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_local_database_org_id"))
    op.drop_table("local_database")
