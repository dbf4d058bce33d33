"""The audit log: reading it, and recording for use cases that keep no unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.pagination import Page, page_from
from tenantwatch.domain.text import storable
from tenantwatch.services.access import cursor_key, require
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Invalid

# how a use case without a unit of work of its own (alerts, silences, rule groups) records
Audit = Callable[[AuditEntry], Awaitable[None]]


class AuditService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def record(self, entry: AuditEntry) -> None:
        """Append one entry in its own transaction."""
        async with self._ctx.uow() as uow:
            await uow.audit.append(entry)

    async def list(
        self,
        who: Principal,
        *,
        cursor: str | None = None,
        limit: int = 50,
        object_type: str | None = None,
        object_id: str | None = None,
    ) -> Page[AuditEntry]:
        """Return entries newest first. A tenant-bound key sees only its tenant's, and only
        since that tenant was created: an earlier tenant with the same id is not its history."""
        require(who, Scope.ADMIN)
        before_id = cursor_key(cursor)
        if before_id is not None and not isinstance(before_id, int):
            raise Invalid("invalid cursor; pass the next_cursor of a previous page", "cursor")
        for value, name in ((object_type, "object_type"), (object_id, "object_id")):
            if value is not None and not storable(value):
                raise Invalid(f"{name} filter is not valid text", field=name)
        async with self._ctx.uow() as uow:
            since = None
            if who.tenant_id is not None:
                tenant = await uow.tenants.get(who.tenant_id)
                if tenant is None:
                    return Page(items=[], next_cursor=None)
                since = tenant.created_at
            rows = await uow.audit.list(
                before_id=before_id,
                limit=limit + 1,
                tenant_id=who.tenant_id,
                object_type=object_type,
                object_id=object_id,
                since=since,
            )
        return page_from(rows, limit, lambda e: e.id or 0)
