"""Tenants in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantwatch.adapters.db.tables import tenants
from tenantwatch.domain.tenants import Tenant, TenantStatus
from tenantwatch.services.errors import Conflict


def _row_to_tenant(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        name=row.name,
        tier=row.tier,
        timezone=row.timezone,
        labels=dict(row.labels),
        status=TenantStatus(row.status),
        sla_overrides={
            k: (Decimal(v) if isinstance(v, str) else int(v)) for k, v in row.sla_overrides.items()
        },
        managed_by=row.managed_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _values(t: Tenant) -> dict[str, Any]:
    return {
        "name": t.name,
        "tier": t.tier,
        "timezone": t.timezone,
        "labels": dict(t.labels),
        "status": str(t.status),
        # Decimals keep their exact text in JSON; ints stay ints
        "sla_overrides": {
            k: (str(v) if isinstance(v, Decimal) else v) for k, v in t.sla_overrides.items()
        },
        "managed_by": t.managed_by,
        "updated_at": t.updated_at,
    }


class SqlTenantRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, tenant_id: str) -> Tenant | None:
        row = (await self._conn.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
        return _row_to_tenant(row) if row else None

    async def list(
        self,
        *,
        after: str | None,
        limit: int,
        only: str | None = None,
        tier: str | None = None,
        status: str | None = None,
    ) -> Sequence[Tenant]:
        q = select(tenants).order_by(tenants.c.id).limit(limit)
        if after is not None:
            q = q.where(tenants.c.id > after)
        if only is not None:
            q = q.where(tenants.c.id == only)
        if tier is not None:
            q = q.where(tenants.c.tier == tier)
        if status is not None:
            q = q.where(tenants.c.status == status)
        return [_row_to_tenant(r) for r in await self._conn.execute(q)]

    async def all_ids(self) -> set[str]:
        return set((await self._conn.execute(select(tenants.c.id))).scalars())

    async def counts(self) -> Sequence[tuple[str, str, int]]:
        q = select(tenants.c.tier, tenants.c.status, func.count()).group_by(
            tenants.c.tier, tenants.c.status
        )
        return [(r[0], r[1], int(r[2])) for r in await self._conn.execute(q)]

    async def insert(self, tenant: Tenant) -> None:
        """Insert a new tenant. Raise Conflict when the id is taken (also by a concurrent insert)."""
        try:
            await self._conn.execute(
                insert(tenants).values(
                    id=tenant.id, created_at=tenant.created_at, **_values(tenant)
                )
            )
        except IntegrityError:
            raise Conflict(f"tenant {tenant.id!r} already exists; choose another id") from None

    async def update(self, tenant: Tenant, *, if_updated_at: datetime | None = None) -> bool:
        q = update(tenants).where(tenants.c.id == tenant.id).values(**_values(tenant))
        if if_updated_at is not None:
            q = q.where(tenants.c.updated_at == if_updated_at)
        return (await self._conn.execute(q)).rowcount > 0

    async def delete(self, tenant_id: str) -> bool:
        result = await self._conn.execute(delete(tenants).where(tenants.c.id == tenant_id))
        return result.rowcount > 0
