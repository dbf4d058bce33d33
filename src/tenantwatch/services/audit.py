"""Reading the audit log (entries are written by the use cases that change things)."""

from __future__ import annotations

from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.pagination import Page, page_from
from tenantwatch.services.access import cursor_key, require
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Invalid


class AuditService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def list(
        self,
        who: Principal,
        *,
        cursor: str | None = None,
        limit: int = 50,
        object_type: str | None = None,
        object_id: str | None = None,
    ) -> Page[AuditEntry]:
        """Return entries newest first; a tenant-bound key sees only its tenant's."""
        require(who, Scope.ADMIN)
        before_id = cursor_key(cursor)
        if before_id is not None and not isinstance(before_id, int):
            raise Invalid("invalid cursor; pass the next_cursor of a previous page", "cursor")
        async with self._ctx.uow() as uow:
            rows = await uow.audit.list(
                before_id=before_id,
                limit=limit + 1,
                tenant_id=who.tenant_id,
                object_type=object_type,
                object_id=object_id,
            )
        return page_from(rows, limit, lambda e: e.id or 0)
