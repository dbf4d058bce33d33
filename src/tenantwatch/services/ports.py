"""Ports: what the services need from storage. adapters/db implements them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol

from tenantwatch.domain.apikeys import ApiKey
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.tenants import Tenant


class TenantRepo(Protocol):
    async def get(self, tenant_id: str) -> Tenant | None: ...

    async def list(
        self,
        *,
        after: str | None,
        limit: int,
        only: str | None = None,
        tier: str | None = None,
        status: str | None = None,
    ) -> Sequence[Tenant]: ...

    async def all_ids(self) -> set[str]: ...

    async def counts(self) -> Sequence[tuple[str, str, int]]:
        """Return (tier, status, count) for every tier and status in use."""
        ...

    async def insert(self, tenant: Tenant) -> None: ...

    async def update(self, tenant: Tenant, *, if_updated_at: datetime | None = None) -> bool:
        """Store the tenant; return False when no row matched (gone, or changed since)."""
        ...

    async def delete(self, tenant_id: str) -> bool: ...


class ApiKeyRepo(Protocol):
    async def get(self, key_id: str) -> ApiKey | None: ...

    async def by_hash(self, key_hash: str) -> ApiKey | None: ...

    async def list(
        self, *, after: str | None, limit: int, tenant_id: str | None, include_revoked: bool
    ) -> Sequence[ApiKey]: ...

    async def insert(self, key: ApiKey, key_hash: str) -> None: ...

    async def revoke(self, key_id: str, at: datetime) -> bool:
        """Revoke an active key; return False when it was not active (any more)."""
        ...

    async def touch(self, key_id: str, at: datetime) -> None: ...

    async def count_active_admin(self) -> int: ...


class AuditRepo(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...

    async def list(
        self,
        *,
        before_id: int | None,
        limit: int,
        tenant_id: str | None,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
    ) -> Sequence[AuditEntry]: ...


class UnitOfWork(Protocol):
    """One transaction over every repository: commits on clean exit, rolls back on error."""

    @property
    def tenants(self) -> TenantRepo: ...

    @property
    def api_keys(self) -> ApiKeyRepo: ...

    @property
    def audit(self) -> AuditRepo: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
