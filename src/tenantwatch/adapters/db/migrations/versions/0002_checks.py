"""Health checks: checks, their state, results, state changes, rollups and heartbeat pings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantwatch.adapters.db.types import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "checks",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("interval_s", sa.Float(), nullable=True),
        sa.Column("timeout_s", sa.Float(), nullable=False),
        sa.Column("jitter_s", sa.Float(), nullable=True),
        sa.Column("failure_threshold", sa.Integer(), nullable=False),
        sa.Column("success_threshold", sa.Integer(), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("token", sa.String(64), nullable=True),
        sa.Column("managed_by", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_checks_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_checks"),
        sa.UniqueConstraint("token", name="uq_checks_token"),
    )
    op.create_index("ix_checks_tenant_id_id", "checks", ["tenant_id", "id"])
    op.create_table(
        "check_state",
        sa.Column("check_id", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("since", UtcDateTime(), nullable=True),
        sa.Column("last_run_at", UtcDateTime(), nullable=True),
        sa.Column("last_ok", sa.Boolean(), nullable=True),
        sa.Column("last_duration_s", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("last_slot", sa.BigInteger(), nullable=False),
        sa.Column("worker", sa.String(64), nullable=True),
        sa.Column("hb_last_ping", UtcDateTime(), nullable=True),
        sa.Column("hb_last_start", UtcDateTime(), nullable=True),
        sa.Column("hb_last_fail", UtcDateTime(), nullable=True),
        sa.Column("hb_last_kind", sa.String(16), nullable=True),
        sa.Column("hb_last_duration_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name="fk_check_state_check_id_checks", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("check_id", name="pk_check_state"),
    )
    op.create_index("ix_check_state_tenant_id", "check_state", ["tenant_id"])
    op.create_table(
        "check_results",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("check_id", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("phases", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_check_results"),
    )
    op.create_index("ix_check_results_check_id_at", "check_results", ["check_id", "at"])
    op.create_index("ix_check_results_tenant_id_at", "check_results", ["tenant_id", "at"])
    op.create_table(
        "check_events",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("check_id", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("old", sa.String(16), nullable=False),
        sa.Column("new", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_check_events"),
    )
    op.create_index("ix_check_events_check_id_at", "check_events", ["check_id", "at"])
    op.create_index("ix_check_events_tenant_id_at", "check_events", ["tenant_id", "at"])
    op.create_table(
        "check_rollups",
        sa.Column("check_id", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("resolution", sa.String(4), nullable=False),
        sa.Column("bucket", UtcDateTime(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("ok_runs", sa.Integer(), nullable=False),
        sa.Column("duration_sum", sa.Float(), nullable=False),
        sa.Column("duration_max", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("check_id", "resolution", "bucket", name="pk_check_rollups"),
    )
    op.create_table(
        "heartbeat_pings",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("check_id", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("exit_status", sa.Integer(), nullable=True),
        sa.Column("remote_addr", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_heartbeat_pings"),
    )
    op.create_index("ix_heartbeat_pings_check_id_at", "heartbeat_pings", ["check_id", "at"])


def downgrade() -> None:
    for table in (
        "heartbeat_pings",
        "check_rollups",
        "check_events",
        "check_results",
        "check_state",
        "checks",
    ):
        op.drop_table(table)
