"""Revision 0005 adds the notifications' fingerprints to a database that already has rows."""

from __future__ import annotations

from sqlalchemy import Connection, insert, inspect, select, text

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.migrate import (
    _alembic_config,
    current_revision,
    head_revision,
    migrate,
)
from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.adapters.db.tables import notifications

OLD_ROW = {
    "tenant_id": "alpha",
    "idempotency_key": "before-0005",
    "receiver": "team",
    "integration": "webhook/0",
    "kind": "webhook",
    "target": "http://hooks.example/x",
    "group_key": "{}:{}",
    "alert_status": "firing",
    "request": {"url": "http://hooks.example/x"},
    "status": "dead",
    "attempts": 3,
    "next_attempt_at": 1.0,
    "created_at": 1.0,
}


def _columns(conn: Connection) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns("notifications")}


async def test_0005_adds_fingerprints_keeping_rows_and_can_be_undone(database_url: str) -> None:
    from alembic import command

    engine = create_engine(database_url)
    try:
        await migrate(engine, "0004")
        async with engine.begin() as conn:
            assert "fingerprints" not in await conn.run_sync(_columns)
            await conn.execute(insert(notifications), OLD_ROW)  # names only 0004's columns
        await migrate(engine)
        assert await current_revision(engine) == head_revision()  # 0005 and after
        [row] = await SqlNotificationRepo(engine).list(before_id=None, limit=10)
        assert (row.idempotency_key, row.status, row.fingerprints) == ("before-0005", "dead", None)

        def downgrade(conn: Connection) -> None:
            command.downgrade(_alembic_config(conn), "0004")

        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
            assert "fingerprints" not in await conn.run_sync(_columns)
            count = (await conn.execute(text("SELECT count(*) FROM notifications"))).scalar()
        assert count == 1
        await migrate(engine)
        async with engine.connect() as conn:
            assert "fingerprints" in await conn.run_sync(_columns)
            assert (await conn.execute(select(notifications.c.fingerprints))).scalar() is None
    finally:
        await engine.dispose()
