"""The notification outbox in SQL: enqueue (idempotent), claim with a lease, record results.

A claim moves due rows (pending and due, or `sending` with a lapsed lease: a worker died
holding them) to `sending` with a lease, in one conditional UPDATE ... RETURNING, so two
workers never take the same row and a killed worker's rows come back after the lease.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.tables import notifications as t

Row = dict[str, Any]


class SqlNotificationRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        self._insert = insert(t).on_conflict_do_nothing(index_elements=["idempotency_key"])

    async def enqueue_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        async with self.engine.begin() as conn:
            await conn.execute(self._insert, [dict(r) for r in rows])

    def _due(self, now: float) -> Any:
        return or_(
            and_(t.c.status == "pending", t.c.next_attempt_at <= now),
            and_(t.c.status == "sending", t.c.lease_until < now),
        )

    async def claim(self, now: float, lease_s: float, limit: int) -> list[Row]:
        async with self.engine.begin() as conn:
            ids = (
                (
                    await conn.execute(
                        select(t.c.id)
                        .where(self._due(now))
                        .order_by(t.c.next_attempt_at)
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return []
            result = await conn.execute(
                update(t)
                .where(t.c.id.in_(ids), self._due(now))
                .values(status="sending", lease_until=now + lease_s)
                .returning(t.c.id, t.c.kind, t.c.target, t.c.request, t.c.attempts)
            )
            return [dict(r._mapping) for r in result]

    async def next_due(self) -> float | None:
        async with self.engine.connect() as conn:
            value = (
                await conn.execute(
                    select(func.min(t.c.next_attempt_at)).where(t.c.status == "pending")
                )
            ).scalar()
            lease = (
                await conn.execute(select(func.min(t.c.lease_until)).where(t.c.status == "sending"))
            ).scalar()
        found = [v for v in (value, lease) if v is not None]
        return min(found) if found else None

    async def record(self, notification_id: int, **values: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t).where(t.c.id == notification_id).values(lease_until=None, **values)
            )

    async def list(
        self,
        *,
        before: int | None,
        limit: int,
        tenant_id: str | None,
        status: str | None = None,
        receiver: str | None = None,
        kind: str | None = None,
    ) -> list[Row]:
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(t.c.id < before)
        for column, value in (
            (t.c.tenant_id, tenant_id),
            (t.c.status, status),
            (t.c.receiver, receiver),
            (t.c.kind, kind),
        ):
            if value is not None:
                query = query.where(column == value)
        async with self.engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    async def get(self, notification_id: int) -> Row | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(t).where(t.c.id == notification_id))).first()
        return dict(row._mapping) if row is not None else None

    async def counts(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(t.c.status, func.count()).group_by(t.c.status))
            return {str(status): int(n) for status, n in rows}
