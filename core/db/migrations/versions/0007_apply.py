"""apply runs: applying a snapshot to the local side, journaled per record, undoable

Revision ID: apply_runs
Revises: jobs
Create Date: 2026-12-05 10:00:00

- sync_apply_runs: one apply of a snapshot (connector, entity, snapshot, state, planned and
  done counts, who, when, error, undone by/at).
- sync_apply_journal: one planned record operation of a run, with the before-image undo
  restores and what a conflict found.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "apply_runs"
down_revision = "jobs"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _when(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _count(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sync_apply_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("connector_name", sa.String(length=200), nullable=False),
        sa.Column("sync_type", sa.String(length=16), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("planned", JSON, nullable=False),
        *(
            _count(n)
            for n in (
                "excluded",
                "total",
                "processed",
                "created",
                "updated",
                "deleted",
                "conflicts",
                "skipped",
            )
        ),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        _when("created_at", nullable=False),
        _when("started_at"),
        _when("finished_at"),
        _when("heartbeat_at"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        _when("undone_at"),
        sa.Column("undo_counts", JSON, nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_sync_apply_runs_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_apply_runs")),
        sa.UniqueConstraint(
            "org_id", "snapshot_id", name=op.f("uq_sync_apply_runs_org_id_snapshot_id")
        ),
    )
    with op.batch_alter_table("sync_apply_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_apply_runs_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_apply_runs_org_connector",
            ["org_id", "connector_id", "entity_type", "id"],
            unique=False,
        )

    op.create_table(
        "sync_apply_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("planned", JSON, nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("found", JSON, nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        _when("applied_at"),
        sa.Column("undo_state", sa.String(length=16), nullable=True),
        sa.Column("undo_found", JSON, nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_sync_apply_journal_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_apply_runs.id"],
            name=op.f("fk_sync_apply_journal_run_id_sync_apply_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_apply_journal")),
        sa.UniqueConstraint(
            "run_id", "external_id", name=op.f("uq_sync_apply_journal_run_id_external_id")
        ),
    )
    with op.batch_alter_table("sync_apply_journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_apply_journal_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_apply_journal_work", ["run_id", "state", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_apply_journal", schema=None) as batch_op:
        batch_op.drop_index("ix_apply_journal_work")
        batch_op.drop_index(batch_op.f("ix_sync_apply_journal_org_id"))
    op.drop_table("sync_apply_journal")
    with op.batch_alter_table("sync_apply_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_apply_runs_org_connector")
        batch_op.drop_index(batch_op.f("ix_sync_apply_runs_org_id"))
    op.drop_table("sync_apply_runs")
