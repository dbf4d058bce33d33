"""Bulk writes compiled from a table for SQLite's driver store what SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from tenantwatch.adapters.db.repos.check_rows import SQLITE_INSERT_PING
from tenantwatch.adapters.db.sqlite_bulk import driver_value, execute_many, for_sqlite
from tenantwatch.adapters.db.tables import heartbeat_pings, metadata

AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_the_statement_names_its_values_in_order() -> None:
    assert SQLITE_INSERT_PING.sql == (
        "INSERT INTO heartbeat_pings (check_id, tenant_id, at, kind, exit_status, remote_addr) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    assert SQLITE_INSERT_PING.names == (
        "check_id",
        "tenant_id",
        "at",
        "kind",
        "exit_status",
        "remote_addr",
    )


def test_values_are_encoded_as_sqlalchemy_stores_them() -> None:
    assert driver_value(AT) == "2026-03-01 12:30:00.000000"
    assert driver_value(True) == 1
    assert driver_value({"a": [1]}) == '{"a": [1]}'
    assert driver_value(None) is None


async def test_rows_written_through_the_driver_read_back_through_sqlalchemy(
    tmp_path: Path,
) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    row = {
        "check_id": "c",
        "tenant_id": "t",
        "at": AT,
        "kind": "success",
        "exit_status": None,
        "remote_addr": "1.2.3.4",
    }
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: metadata.create_all(sync, [heartbeat_pings]))
            await execute_many(conn, SQLITE_INSERT_PING, [row])
            await conn.execute(insert(heartbeat_pings), [{**row, "check_id": "d"}])
            rows = (await conn.execute(select(heartbeat_pings).order_by("id"))).all()
            raw = (await conn.exec_driver_sql("SELECT at FROM heartbeat_pings")).all()
    finally:
        await engine.dispose()
    assert [r.at for r in rows] == [AT, AT]
    assert raw[0] == raw[1]
    assert for_sqlite(select(heartbeat_pings.c.id)).names == ()
