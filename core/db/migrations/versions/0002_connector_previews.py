"""previews belong to a connector; each source's default connector; user preferences

Snapshots, leases and selective-sync settings gain ``connector_id``; the existing ones are
given to their organization's first connector of that source (by id), which also becomes
that source's default connector. Snapshots and settings of a source without any connector
could never be shown again and are removed; leases are short-lived and are dropped. The
activity log gains a ``connector_id`` column (older rows keep none: which connector they
used is not known). ``user_preferences`` remembers a user's choices.

Revision ID: connector_previews
Revises: 0001
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from sqlalchemy.dialects import postgresql

revision = "connector_previews"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
IS_DEFAULT = sa.text("is_default")
#: The organization's first connector (by id) of the row's source.
FIRST_CONNECTOR = (
    "(SELECT MIN(c.id) FROM integration_connector c "
    "WHERE c.org_id = {table}.org_id AND c.sync_type = {table}.sync_type)"
)


def _delete(table: str, where: str) -> None:
    """Delete rows, and the records of deleted snapshots (SQLite's foreign keys are off while
    migrating: see env.py)."""
    if table == "sync_preview_cache":
        op.execute(
            f"DELETE FROM sync_preview_record WHERE cache_id IN "
            f"(SELECT id FROM sync_preview_cache WHERE {where})"
        )
    op.execute(f"DELETE FROM {table} WHERE {where}")


def _give_rows_to_the_first_connector(table: str) -> None:
    op.execute(f"UPDATE {table} SET connector_id = {FIRST_CONNECTOR.format(table=table)}")
    _delete(table, "connector_id IS NULL")


def _connector_fk(batch: BatchOperations, table: str) -> None:
    batch.create_foreign_key(
        f"fk_{table}_connector_id_integration_connector",
        "integration_connector",
        ["connector_id"],
        ["id"],
        ondelete="CASCADE",
    )


def upgrade() -> None:
    # --- the default connector of each source: the first added --------------------------------
    with op.batch_alter_table("integration_connector") as batch:
        batch.add_column(
            sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE integration_connector SET is_default = "
        f"(id = {FIRST_CONNECTOR.format(table='integration_connector')})"
    )
    op.create_index(
        "uq_integration_connector_default",
        "integration_connector",
        ["org_id", "sync_type"],
        unique=True,
        sqlite_where=IS_DEFAULT,
        postgresql_where=IS_DEFAULT,
    )

    # --- snapshots (and so their records) ----------------------------------------------------
    with op.batch_alter_table("sync_preview_cache") as batch:
        batch.add_column(sa.Column("connector_id", sa.Integer(), nullable=True))
    _give_rows_to_the_first_connector("sync_preview_cache")
    with op.batch_alter_table("sync_preview_cache") as batch:
        batch.alter_column("connector_id", existing_type=sa.Integer(), nullable=False)
        _connector_fk(batch, "sync_preview_cache")
        batch.drop_index("ix_preview_cache_lookup")
        batch.create_index(
            "ix_preview_cache_lookup", ["org_id", "connector_id", "entity_type", "id"]
        )

    # --- leases: held for seconds; whoever holds one now retries ------------------------------
    op.execute("DELETE FROM sync_preview_lock")
    with op.batch_alter_table("sync_preview_lock") as batch:
        batch.add_column(sa.Column("connector_id", sa.Integer(), nullable=False))
        _connector_fk(batch, "sync_preview_lock")
        batch.drop_constraint("uq_sync_preview_lock_org_id_sync_type_entity_type", type_="unique")
        batch.create_unique_constraint(
            "uq_sync_preview_lock_org_id_connector_id_entity_type",
            ["org_id", "connector_id", "entity_type"],
        )

    # --- selective-sync settings -------------------------------------------------------------
    with op.batch_alter_table("sync_selective_config") as batch:
        batch.add_column(sa.Column("connector_id", sa.Integer(), nullable=True))
    _give_rows_to_the_first_connector("sync_selective_config")
    with op.batch_alter_table("sync_selective_config") as batch:
        batch.alter_column("connector_id", existing_type=sa.Integer(), nullable=False)
        _connector_fk(batch, "sync_selective_config")
        batch.drop_constraint(
            "uq_sync_selective_config_org_id_sync_type_entity_type", type_="unique"
        )
        batch.create_unique_constraint(
            "uq_sync_selective_config_org_id_connector_id_entity_type",
            ["org_id", "connector_id", "entity_type"],
        )

    # --- the activity log names the connector -------------------------------------------------
    with op.batch_alter_table("sync_activity_log") as batch:
        batch.add_column(sa.Column("connector_id", sa.Integer(), nullable=True))
        batch.create_index(
            "ix_activity_org_connector_time", ["org_id", "connector_id", "created_at"]
        )

    # --- what each user chose last -------------------------------------------------------------
    op.create_table(
        "user_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_user_preferences_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_preferences_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_preferences"),
        sa.UniqueConstraint("user_id", "name", name="uq_user_preferences_user_id_name"),
    )
    op.create_index("ix_user_preferences_org_id", "user_preferences", ["org_id"])


def _keep_only_the_default_connectors_rows(table: str) -> None:
    _delete(table, "connector_id NOT IN (SELECT id FROM integration_connector WHERE is_default)")


def downgrade() -> None:
    op.drop_index("ix_user_preferences_org_id", table_name="user_preferences")
    op.drop_table("user_preferences")

    with op.batch_alter_table("sync_activity_log") as batch:
        batch.drop_index("ix_activity_org_connector_time")
        batch.drop_column("connector_id")

    # one row per (source, entity) again: the default connector's
    _keep_only_the_default_connectors_rows("sync_selective_config")
    with op.batch_alter_table("sync_selective_config") as batch:
        batch.drop_constraint(
            "uq_sync_selective_config_org_id_connector_id_entity_type", type_="unique"
        )
        batch.drop_constraint(
            "fk_sync_selective_config_connector_id_integration_connector", type_="foreignkey"
        )
        batch.drop_column("connector_id")
        batch.create_unique_constraint(
            "uq_sync_selective_config_org_id_sync_type_entity_type",
            ["org_id", "sync_type", "entity_type"],
        )

    op.execute("DELETE FROM sync_preview_lock")
    with op.batch_alter_table("sync_preview_lock") as batch:
        batch.drop_constraint(
            "uq_sync_preview_lock_org_id_connector_id_entity_type", type_="unique"
        )
        batch.drop_constraint(
            "fk_sync_preview_lock_connector_id_integration_connector", type_="foreignkey"
        )
        batch.drop_column("connector_id")
        batch.create_unique_constraint(
            "uq_sync_preview_lock_org_id_sync_type_entity_type",
            ["org_id", "sync_type", "entity_type"],
        )

    _keep_only_the_default_connectors_rows("sync_preview_cache")
    with op.batch_alter_table("sync_preview_cache") as batch:
        batch.drop_index("ix_preview_cache_lookup")
        batch.drop_constraint(
            "fk_sync_preview_cache_connector_id_integration_connector", type_="foreignkey"
        )
        batch.drop_column("connector_id")
        batch.create_index("ix_preview_cache_lookup", ["org_id", "sync_type", "entity_type", "id"])

    op.drop_index("uq_integration_connector_default", table_name="integration_connector")
    with op.batch_alter_table("integration_connector") as batch:
        batch.drop_column("is_default")
