"""Notifications keep their order per receiver, integration and group: an order key, a
role (which newer notification may supersede which), the notification that superseded
one, and when its first attempt began (retries go on for a time after it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("order_key", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("role", sa.String(length=16), nullable=False, server_default="notice")
        )
        batch.add_column(sa.Column("superseded_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("first_attempt_at", sa.Float(), nullable=True))
    op.create_index("ix_notifications_order_key_id", "notifications", ["order_key", "id"])
    _backfill()


def _backfill() -> None:
    """Order the notifications not yet sent (sent ones are only kept for the log). Their
    role follows from what they carry: a group's flush is a state, an acknowledgement is
    one, flap and escalation notices (group keys `flapping/...`, `escalation/...`) are not."""
    t = sa.table(
        "notifications",
        sa.column("id", sa.BigInteger()),
        sa.column("receiver", sa.String()),
        sa.column("integration", sa.String()),
        sa.column("group_key", sa.Text()),
        sa.column("alert_status", sa.String()),
        sa.column("status", sa.String()),
        sa.column("order_key", sa.String()),
        sa.column("role", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(t.c.id, t.c.receiver, t.c.integration, t.c.group_key, t.c.alert_status).where(
            t.c.status != "sent", t.c.group_key.is_not(None)
        )
    ).all()
    for r in rows:
        raw = f"{r.receiver}\x00{r.integration}\x00{r.group_key}"  # as outbox_order.order_key
        if r.alert_status == "acknowledged":
            role = "acknowledge"
        elif r.group_key.startswith(("flapping/", "escalation/")):
            role = "notice"
        elif r.alert_status in ("firing", "resolved"):
            role = "state"
        else:
            role = "notice"
        bind.execute(
            sa.update(t)
            .where(t.c.id == r.id)
            .values(order_key=hashlib.sha256(raw.encode()).hexdigest(), role=role)
        )


def downgrade() -> None:
    # superseded notifications were never sent; before 0006 the nearest status is dead
    op.execute(
        "UPDATE notifications SET status = 'dead', "
        "last_error = 'superseded by a newer notification of its group' "
        "WHERE status = 'superseded'"
    )
    op.drop_index("ix_notifications_order_key_id", table_name="notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("first_attempt_at")
        batch.drop_column("superseded_by")
        batch.drop_column("role")
        batch.drop_column("order_key")
