from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select, text

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.migrate import current_revision, head_revision, migrate
from tenantwatch.adapters.db.tables import audit_log


async def test_it_migrates_an_empty_database_to_head_and_then_does_nothing(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) is None
        before, after = await migrate(engine)
        assert (before, after) == (None, head_revision())
        assert await migrate(engine) == (head_revision(), head_revision())
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"tenants", "api_keys", "audit_log", "alembic_version"} <= tables
    finally:
        await engine.dispose()


async def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'tw.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 10_000
        assert (tmp_path / "sub" / "tw.db").exists()
    finally:
        await engine.dispose()


async def test_timestamps_come_back_as_the_same_utc_instant(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        berlin = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
        async with engine.begin() as conn:
            await conn.execute(
                audit_log.insert().values(
                    at=berlin, actor="t", action="a", object_type="o", object_id="1"
                )
            )
        async with engine.connect() as conn:
            at = (await conn.execute(select(audit_log.c.at))).scalar_one()
        assert at == berlin
        assert at.tzinfo is not None and at.utcoffset() == timedelta(0)
        assert at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    finally:
        await engine.dispose()


async def test_a_naive_datetime_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        with pytest.raises(Exception, match="naive datetime"):
            async with engine.begin() as conn:
                await conn.execute(
                    audit_log.insert().values(
                        at=datetime(2026, 1, 1),
                        actor="t",
                        action="a",
                        object_type="o",
                        object_id="1",
                    )
                )
    finally:
        await engine.dispose()
