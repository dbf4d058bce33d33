"""Revision 0006 orders the notifications a database already holds: the unsent ones get
their order key and role, so a newer notification supersedes or waits for them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, inspect, select

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.migrate import (
    _alembic_config,
    current_revision,
    head_revision,
    migrate,
)
from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.adapters.db.tables import notifications as t
from tenantwatch.domain.outbox_order import order_key

GROUP = '{}:{alertname="Down"}'


def old_row(key: str, **values: Any) -> dict[str, Any]:
    """A notification as revision 0005 stored it."""
    return {
        "tenant_id": "alpha",
        "idempotency_key": key,
        "receiver": "team",
        "integration": "pagerduty/0",
        "kind": "pagerduty",
        "target": "https://events.example/<redacted>",
        "group_key": GROUP,
        "fingerprints": ["1d4f2f7a8e0c9b35"],
        "alert_status": "firing",
        "request": {"url": "https://events.example/v2/enqueue"},
        "status": "pending",
        "attempts": 1,
        "next_attempt_at": 100.0,
        "created_at": 1.0,
        **values,
    }


OLD_ROWS = [
    old_row("trigger"),
    old_row("ack", alert_status="acknowledged"),
    old_row("flap", group_key="flapping/1d4f2f7a8e0c9b35", integration="webhook/0"),
    old_row("sent-long-ago", status="sent", sent_at=1.0),
]


def _columns(conn: Connection) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns("notifications")}


async def test_0006_orders_unsent_notifications_and_can_be_undone(database_url: str) -> None:
    from alembic import command

    engine = create_engine(database_url)
    try:
        await migrate(engine, "0005")
        async with engine.begin() as conn:
            # only 0005's columns: the table object would name 0006's role too
            for row in OLD_ROWS:
                await conn.execute(insert(t).values(**row))
        await migrate(engine, "0006")
        assert await current_revision(engine) == "0006"
        async with engine.connect() as conn:
            got = {
                r.idempotency_key: (r.role, r.order_key, r.superseded_by, r.first_attempt_at)
                for r in await conn.execute(
                    select(
                        t.c.idempotency_key,
                        t.c.role,
                        t.c.order_key,
                        t.c.superseded_by,
                        t.c.first_attempt_at,
                    )
                )
            }
        key = order_key("team", "pagerduty/0", GROUP)
        flap_key = order_key("team", "webhook/0", "flapping/1d4f2f7a8e0c9b35")
        assert got == {
            "trigger": ("state", key, None, None),
            "ack": ("acknowledge", key, None, None),
            "flap": ("notice", flap_key, None, None),
            "sent-long-ago": ("notice", None, None, None),  # only kept for the log
        }
        # a resolve queued after the upgrade replaces the old trigger and acknowledge
        repo = SqlNotificationRepo(engine)
        new = old_row("resolve", alert_status="resolved", attempts=0, order_key=key, role="state")
        assert await repo.enqueue_many([new]) == {"resolve"}
        rows = {r.idempotency_key: r for r in await repo.list(before_id=None, limit=10)}
        assert {k: r.status for k, r in rows.items()} == {
            "trigger": "superseded",
            "ack": "superseded",
            "flap": "pending",
            "sent-long-ago": "sent",
            "resolve": "pending",
        }
        assert rows["trigger"].superseded_by == rows["resolve"].id

        def downgrade(conn: Connection) -> None:
            command.downgrade(_alembic_config(conn), "0005")

        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
            assert {"order_key", "role", "superseded_by"}.isdisjoint(await conn.run_sync(_columns))
            before = {
                r.idempotency_key: (r.status, r.last_error)
                for r in await conn.execute(select(t.c.idempotency_key, t.c.status, t.c.last_error))
            }
        # 0005 knows no `superseded`: those never sent read as dead, with the reason
        gone = ("dead", "superseded by a newer notification of its group")
        assert before["trigger"] == before["ack"] == gone
        assert before["resolve"] == ("pending", None)
        await migrate(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
