"""Facts about this installation (the config file the server syncs from) in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantwatch.adapters.db.tables import instance_state


class SqlInstanceRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, key: str) -> dict[str, Any] | None:
        q = select(instance_state.c.value).where(instance_state.c.key == key)
        value = (await self._conn.execute(q)).scalar()
        return dict(value) if value is not None else None

    async def put(self, key: str, value: dict[str, Any], at: datetime) -> None:
        done = await self._conn.execute(
            update(instance_state)
            .where(instance_state.c.key == key)
            .values(value=value, updated_at=at)
        )
        if not done.rowcount:
            await self._conn.execute(
                insert(instance_state).values(key=key, value=value, updated_at=at)
            )
