"""hardening: usernames per organization, sign-in throttle, issued API tokens, abandoned leases

Revision ID: hardening
Revises: real_stores
Create Date: 2026-12-04 10:00:00

- users: a username is unique within its organization (was: across all); the failed-login
  counter moves to sign_in_throttle (a wait that runs out instead of a lock for good).
- sign_in_throttle: failed sign-ins per account and per client address.
- api_tokens: the JSON API tokens this server issued (ids only), so they can be revoked.
- sync_preview_lock: who started the lease's work, and who started the one it replaced
  when that one was abandoned.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hardening"
down_revision = "real_stores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_username", type_="unique")
        batch_op.create_unique_constraint("uq_users_org_id_username", ["org_id", "username"])
        batch_op.drop_column("failed_logins")

    op.create_table(
        "sign_in_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_throttle")),
        sa.UniqueConstraint("key", name=op.f("uq_sign_in_throttle_key")),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_api_tokens_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_id", name=op.f("uq_api_tokens_token_id")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_org_id"), ["org_id"], unique=False)

    with op.batch_alter_table("sync_preview_lock", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("abandoned_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("abandoned_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_preview_lock", schema=None) as batch_op:
        batch_op.drop_column("abandoned_at")
        batch_op.drop_column("abandoned_by")
        batch_op.drop_column("started_by")

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_org_id"))
    op.drop_table("api_tokens")
    op.drop_table("sign_in_throttle")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.drop_constraint("uq_users_org_id_username", type_="unique")
        # a username taken in two organizations by then cannot go back: the downgrade stops
        batch_op.create_unique_constraint("uq_users_username", ["username"])
