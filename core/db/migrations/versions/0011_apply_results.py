"""apply results: what became of each journal row, in a table of its own

Revision ID: apply_results
Revises: warming_stops
Create Date: 2026-12-03 11:00:00

- sync_apply_result: one row per handled journal row (state, before- and after-images, what a
  conflict found, when; the undo's outcome), inserted by the batch that handled it. Before,
  these were columns of sync_apply_journal, and writing them rewrote each journal row with
  its planned values and every index entry: the most costly statement of an apply.
- sync_apply_journal keeps the planned operations; its index for the next rows to do is
  (run_id, id) now that the state is not one of its columns.
- sync_apply_runs.done_through: the last journal id handled (the rows to do are those after
  it: a batch handles the next rows in id order and records them all in one transaction).

Existing outcomes move to the new table (a pending row has none); the downgrade moves them
back.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "apply_results"
down_revision = "warming_stops"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: the outcome columns, in both tables
OUTCOME = ("state", "before", "after", "found", "message", "applied_at", "undo_state", "undo_found")


def _outcome_columns(state_nullable: bool) -> list[sa.Column[Any]]:
    return [
        sa.Column("state", sa.String(length=16), nullable=state_nullable),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("found", JSON, nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undo_state", sa.String(length=16), nullable=True),
        sa.Column("undo_found", JSON, nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "sync_apply_result",
        sa.Column("journal_id", sa.Integer(), autoincrement=False, nullable=False),
        *_outcome_columns(state_nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_sync_apply_result_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("journal_id", name=op.f("pk_sync_apply_result")),
    )
    with op.batch_alter_table("sync_apply_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_apply_result_org_id"), ["org_id"], unique=False)
    with op.batch_alter_table("sync_apply_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_through", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE sync_apply_runs SET done_through = (SELECT max(j.id) FROM sync_apply_journal "
        "AS j WHERE j.run_id = sync_apply_runs.id AND j.state <> 'pending')"
    )
    columns = ", ".join(OUTCOME)
    op.execute(
        f"INSERT INTO sync_apply_result (journal_id, org_id, {columns}) "
        f"SELECT id, org_id, {columns} FROM sync_apply_journal WHERE state <> 'pending'"
    )
    with op.batch_alter_table("sync_apply_journal", schema=None) as batch_op:
        batch_op.drop_index("ix_apply_journal_work")
        for column in OUTCOME:
            batch_op.drop_column(column)
        batch_op.create_index("ix_apply_journal_run", ["run_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_apply_journal", schema=None) as batch_op:
        batch_op.drop_index("ix_apply_journal_run")
        for column in _outcome_columns(state_nullable=True):
            batch_op.add_column(column)
    sets = ", ".join(
        f"{c} = (SELECT r.{c} FROM sync_apply_result AS r "
        "WHERE r.journal_id = sync_apply_journal.id)"
        for c in OUTCOME
    )
    op.execute(f"UPDATE sync_apply_journal SET {sets}")
    op.execute("UPDATE sync_apply_journal SET state = 'pending' WHERE state IS NULL")
    with op.batch_alter_table("sync_apply_journal", schema=None) as batch_op:
        batch_op.alter_column("state", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_index("ix_apply_journal_work", ["run_id", "state", "id"], unique=False)
    with op.batch_alter_table("sync_apply_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_apply_result_org_id"))
    op.drop_table("sync_apply_result")
    with op.batch_alter_table("sync_apply_runs", schema=None) as batch_op:
        batch_op.drop_column("done_through")
