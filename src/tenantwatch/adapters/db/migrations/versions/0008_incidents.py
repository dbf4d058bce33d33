"""Incidents: the incident, its affected tenants, linked alerts, timeline and postmortem.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantwatch.adapters.db.types import UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _incident_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "incident_id",
        sa.String(length=24),
        sa.ForeignKey("incidents.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(length=24), primary_key=True),
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("severity", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("group_key", sa.String(length=500), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("detected_at", UtcDateTime(), nullable=False),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("mitigated_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("escalated_at", UtcDateTime(), nullable=True),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("runbook", sa.String(length=2000), nullable=True),
        sa.Column("auto_resolve", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
    )
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_index("ix_incidents_group_key", "incidents", ["group_key"])
    op.create_table(
        "incident_tenants",
        _incident_fk(),
        sa.Column("tenant_id", sa.String(length=63), primary_key=True),
        sa.Column("tier", sa.String(length=63), nullable=True),
        sa.Column("since", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_incident_tenants_tenant_id", "incident_tenants", ["tenant_id"])
    op.create_table(
        "incident_alerts",
        _incident_fk(),
        sa.Column("fingerprint", sa.String(length=64), primary_key=True),
        sa.Column("alertname", sa.String(length=500), nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_incident_alerts_fingerprint", "incident_alerts", ["fingerprint"])
    op.create_table(
        "incident_timeline",
        _incident_fk(),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
    )

    op.create_table(
        "incident_postmortems",
        _incident_fk(),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("incident_postmortems")
    op.drop_table("incident_timeline")
    op.drop_table("incident_alerts")
    op.drop_table("incident_tenants")
    op.drop_table("incidents")
