"""The SQL unit of work: one connection and transaction shared by every repository."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tenantwatch.adapters.db.repos.apikeys import SqlApiKeyRepo
from tenantwatch.adapters.db.repos.audit import SqlAuditRepo
from tenantwatch.adapters.db.repos.checks import SqlCheckRepo
from tenantwatch.adapters.db.repos.instance import SqlInstanceRepo
from tenantwatch.adapters.db.repos.tenants import SqlTenantRepo


class SqlUnitOfWork:
    tenants: SqlTenantRepo
    api_keys: SqlApiKeyRepo
    audit: SqlAuditRepo
    checks: SqlCheckRepo
    instance: SqlInstanceRepo

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        self._conn = await self._engine.connect()
        await self._conn.begin()
        self.tenants = SqlTenantRepo(self._conn)
        self.api_keys = SqlApiKeyRepo(self._conn)
        self.audit = SqlAuditRepo(self._conn)
        self.checks = SqlCheckRepo(self._conn)
        self.instance = SqlInstanceRepo(self._conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if exc_type is None:
                await self._conn.commit()
            else:
                await self._conn.rollback()
        finally:
            await self._conn.close()
            self._conn = None


class SqlUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)
