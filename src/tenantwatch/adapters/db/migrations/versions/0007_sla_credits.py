"""The SLA credit ledger: one row per tenant and month.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantwatch.adapters.db.types import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_credits",
        sa.Column(
            "tenant_id",
            sa.String(length=63),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("month", sa.String(length=7), primary_key=True),
        sa.Column("tier", sa.String(length=63), nullable=False),
        sa.Column("availability_percentage", sa.String(length=16), nullable=True),
        sa.Column("credit_percentage", sa.String(length=16), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sla_credits")
