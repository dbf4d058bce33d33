"""Rule groups managed through the API, stored as Prometheus rule-file YAML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.tables import rule_groups
from tenantwatch.services.errors import Conflict
from tenantwatch.services.rule_groups import StoredRuleGroup


class SqlRuleGroupRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def all(self) -> list[StoredRuleGroup]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(rule_groups).order_by(rule_groups.c.id))).all()
        return [StoredRuleGroup(**row._mapping) for row in rows]

    async def list(
        self, *, after: str | None, limit: int, tenant_id: str | None
    ) -> Sequence[StoredRuleGroup]:
        query = select(rule_groups).order_by(rule_groups.c.id).limit(limit)
        if after is not None:
            query = query.where(rule_groups.c.id > after)
        if tenant_id is not None:
            query = query.where(rule_groups.c.tenant_id == tenant_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [StoredRuleGroup(**row._mapping) for row in rows]

    async def get(self, group_id: str) -> StoredRuleGroup | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(rule_groups).where(rule_groups.c.id == group_id))
            ).first()
        return StoredRuleGroup(**row._mapping) if row is not None else None

    async def insert(self, group: StoredRuleGroup) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(rule_groups).values(**asdict(group)))
        except IntegrityError:
            raise Conflict(
                f"rule group {group.id!r} exists (or its tenant is gone); choose another name"
            ) from None

    async def update(self, group: StoredRuleGroup) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(rule_groups)
                .where(rule_groups.c.id == group.id)
                .values(name=group.name, source=group.source, updated_at=group.updated_at)
            )
        return bool(result.rowcount)

    async def delete(self, group_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(rule_groups).where(rule_groups.c.id == group_id))
        return bool(result.rowcount)
