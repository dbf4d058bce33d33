"""API keys in SQL (hashes only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantwatch.adapters.db.tables import api_keys
from tenantwatch.domain.apikeys import ApiKey, Scope
from tenantwatch.services.errors import NotFound

_PUBLIC = [c for c in api_keys.c if c.name != "key_hash"]


def _row_to_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(Scope(s) for s in row.scopes),
        tenant_id=row.tenant_id,
        created_at=row.created_at,
        created_by=row.created_by,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class SqlApiKeyRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, key_id: str) -> ApiKey | None:
        row = (await self._conn.execute(select(*_PUBLIC).where(api_keys.c.id == key_id))).first()
        return _row_to_key(row) if row else None

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        q = select(*_PUBLIC).where(api_keys.c.key_hash == key_hash)
        row = (await self._conn.execute(q)).first()
        return _row_to_key(row) if row else None

    async def list(
        self, *, after: str | None, limit: int, tenant_id: str | None, include_revoked: bool
    ) -> Sequence[ApiKey]:
        q = select(*_PUBLIC).order_by(api_keys.c.id).limit(limit)
        if after is not None:
            q = q.where(api_keys.c.id > after)
        if tenant_id is not None:
            q = q.where(api_keys.c.tenant_id == tenant_id)
        if not include_revoked:
            q = q.where(api_keys.c.revoked_at.is_(None))
        return [_row_to_key(r) for r in await self._conn.execute(q)]

    async def insert(self, key: ApiKey, key_hash: str) -> None:
        """Insert a key. Raise NotFound when its tenant is gone (deleted concurrently)."""
        try:
            await self._insert(key, key_hash)
        except IntegrityError:
            raise NotFound(f"tenant {key.tenant_id!r} not found") from None

    async def _insert(self, key: ApiKey, key_hash: str) -> None:
        await self._conn.execute(
            insert(api_keys).values(
                id=key.id,
                name=key.name,
                prefix=key.prefix,
                key_hash=key_hash,
                scopes=[str(s) for s in key.scopes],
                tenant_id=key.tenant_id,
                created_at=key.created_at,
                created_by=key.created_by,
            )
        )

    async def revoke(self, key_id: str, at: datetime) -> bool:
        result = await self._conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount > 0

    async def touch(self, key_id: str, at: datetime) -> None:
        await self._conn.execute(
            update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at)
        )

    async def count_active_admin(self) -> int:
        rows = await self._conn.execute(
            select(api_keys.c.scopes).where(
                api_keys.c.revoked_at.is_(None), api_keys.c.tenant_id.is_(None)
            )
        )
        return sum(1 for (scopes,) in rows if str(Scope.ADMIN) in scopes)
