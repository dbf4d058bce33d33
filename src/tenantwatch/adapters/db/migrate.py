"""Apply Alembic migrations on a live async engine."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x7457_0001  # "tw" migrations


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def migrate(engine: AsyncEngine, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the database to revision; return (revision before, revision after)."""
    # Alembic announces its dialect at info level on every start; only problems matter here
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    before = await current_revision(engine)

    def upgrade(conn: Connection) -> None:
        if conn.dialect.name == "postgresql":  # several processes may start at once
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        command.upgrade(_alembic_config(conn), revision)

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)
    return before, await current_revision(engine)
