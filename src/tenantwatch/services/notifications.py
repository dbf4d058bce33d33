"""The delivery log of the outbox: read it tenant-scoped, put a dead notification back (audited)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.notifications import NotificationRow
from tenantwatch.domain.pagination import Page, page_from
from tenantwatch.domain.tenants import tenant_id_problem
from tenantwatch.services.access import cursor_key, require
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Conflict, Invalid, NotFound


class NotificationLog(Protocol):
    """The outbox's rows as the log shows them (adapters/db/repos/notifications fits)."""

    async def get(self, notification_id: int) -> NotificationRow | None: ...

    async def list(
        self,
        *,
        before_id: int | None,
        limit: int,
        tenant_id: str | None = None,
        status: str | None = None,
        receiver: str | None = None,
        kind: str | None = None,
        failing: bool = False,
    ) -> Sequence[NotificationRow]: ...

    async def counts(self, tenant_id: str | None = None) -> dict[str, int]: ...

    async def superseding(self, notification_id: int) -> int | None:
        """The newer notification of its receiver, integration and group that replaces it."""
        ...

    async def retry_dead(
        self, notification_id: int, now: float, audit: AuditEntry | None = None
    ) -> bool:
        """Queue a dead notification again and append `audit` in one transaction."""
        ...


class NotificationService:
    def __init__(
        self,
        ctx: ServiceContext,
        log: NotificationLog,
        *,
        now: Callable[[], float],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._ctx = ctx
        self._log = log
        self._now = now
        self._wake = wake

    async def list(
        self,
        who: Principal,
        *,
        cursor: str | None = None,
        limit: int = 50,
        tenant: str | None = None,
        status: str | None = None,
        receiver: str | None = None,
        kind: str | None = None,
        failing: bool = False,
    ) -> Page[NotificationRow]:
        """Notifications newest first; `failing` keeps those not sent whose last attempt
        failed. A tenant-bound key sees its tenant's only."""
        require(who, Scope.READ)
        before_id = cursor_key(cursor)
        if before_id is not None and not isinstance(before_id, int):
            raise Invalid("invalid cursor; pass the next_cursor of a previous page", "cursor")
        rows = await self._log.list(
            before_id=before_id,
            limit=limit + 1,
            tenant_id=_tenant_scope(who, tenant),
            status=status,
            receiver=receiver,
            kind=kind,
            failing=failing,
        )
        return page_from(rows, limit, lambda r: r.id)

    async def counts(self, who: Principal, tenant: str | None = None) -> dict[str, int]:
        """How many notifications are in each status."""
        require(who, Scope.READ)
        return await self._log.counts(_tenant_scope(who, tenant))

    async def get(self, who: Principal, notification_id: int) -> NotificationRow:
        require(who, Scope.READ)
        return await self._visible(who, notification_id)

    async def retry(
        self, who: Principal, notification_id: int, *, request_id: str | None = None
    ) -> NotificationRow:
        """Queue a dead notification again with fresh attempts, recorded in the audit log.
        Raise Conflict when it is not dead, or when a newer notification of its group
        replaces it (sending it now would leave the receiver with a stale state)."""
        require(who, Scope.ADMIN)
        row = await self._visible(who, notification_id)
        newer = await self._log.superseding(notification_id) if row.status == "dead" else None
        if newer is not None:
            raise Conflict(
                f"notification {notification_id} is replaced by the newer notification "
                f"{newer} of the same receiver and group; retrying it would send a stale "
                f"state after a newer one, so retry {newer} if it is dead"
            )
        now = self._now()
        audit = AuditEntry.of(
            at=self._ctx.clock(),
            actor=who.actor,
            action="notification.retry",
            object_type="notification",
            object_id=str(notification_id),
            tenant_id=row.tenant_id,
            before=row.snapshot(),
            after=row.put_back(now).snapshot(),
            request_id=request_id,
        )
        if row.status != "dead" or not await self._log.retry_dead(notification_id, now, audit):
            current = await self._visible(who, notification_id)
            raise Conflict(
                f"notification {notification_id} is {current.status}, not dead; "
                "only dead notifications can be retried"
            )
        self._wake()
        return await self._visible(who, notification_id)

    async def _visible(self, who: Principal, notification_id: int) -> NotificationRow:
        row = await self._log.get(notification_id)
        if row is None or not who.sees_tenant(row.tenant_id):
            raise NotFound(f"notification {notification_id} not found")
        return row


def _tenant_scope(who: Principal, tenant: str | None) -> str | None:
    """The tenant to filter by; NotFound for a tenant the caller cannot see."""
    if tenant is not None and (tenant_id_problem(tenant) or not who.sees_tenant(tenant)):
        raise NotFound(f"tenant {tenant!r} not found")
    return tenant if tenant is not None else who.tenant_id
