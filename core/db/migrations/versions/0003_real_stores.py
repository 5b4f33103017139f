"""real stores: customers.status, products.parent_id, what a preview read

Revision ID: real_stores
Revises: connector_previews
Create Date: 2026-12-03 09:00:00

Customers gain ``status`` (active, archived, guest) and products ``parent_id`` (a
variation's product); a preview snapshot keeps what its refresh read (``scope``: the fields
not compared and the notes shown with it). The local customers of WooCommerce and Odoo were
all read as active records (archived ones were not read), so they are marked "active".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "real_stores"
down_revision = "connector_previews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=32), nullable=True))
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("sync_preview_cache", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scope",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
    op.execute(
        "UPDATE customers SET status = 'active' "
        "WHERE status IS NULL AND source IN ('woocommerce', 'odoo')"
    )


def downgrade() -> None:
    with op.batch_alter_table("sync_preview_cache", schema=None) as batch_op:
        batch_op.drop_column("scope")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("parent_id")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("status")
