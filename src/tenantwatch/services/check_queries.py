"""Check use cases that read: checks and their state, history, uptime and tenant health."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.checks import (
    ROLLUPS,
    Check,
    CheckKind,
    CheckRun,
    CheckState,
    StateChangeRecord,
)
from tenantwatch.domain.pagination import Page, page_from
from tenantwatch.domain.tenant_health import CheckHealth, TenantHealth, tenant_health
from tenantwatch.domain.tenants import Tenant, tenant_id_problem
from tenantwatch.services.access import cursor_key, require
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Conflict, Invalid, NotFound
from tenantwatch.services.ports import UnitOfWork


async def all_tenants(uow: UnitOfWork, only: str | None) -> list[Tenant]:
    """Every tenant (or only `only`), in id order."""
    out: list[Tenant] = []
    after: str | None = None
    while page := await uow.tenants.list(after=after, limit=500, only=only):
        out += page
        after = page[-1].id
    return out


async def active_tiers(uow: UnitOfWork, only: str | None) -> dict[str, str]:
    """The tier of every active tenant (or of `only`, if it is active)."""
    return {t.id: t.tier for t in await all_tenants(uow, only) if str(t.status) == "active"}


class CheckQueries:
    """What callers may read of checks; every answer is limited to the tenants they see."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # -- reading -------------------------------------------------------------------------

    async def _visible(self, uow: UnitOfWork, who: Principal, check_id: str) -> Check:
        check = await uow.checks.get(check_id)
        if check is None or not who.sees_tenant(check.tenant_id):
            raise NotFound(f"check {check_id!r} not found")
        return check

    async def get(self, who: Principal, check_id: str) -> tuple[Check, CheckState]:
        async with self._ctx.uow() as uow:
            check = await self._visible(uow, who, check_id)
            states = await uow.checks.states([check_id])
        return check, states.get(check_id, CheckState(check_id))

    async def runnable(self, who: Principal, check_id: str) -> Check:
        """The check to run now; 404 when not visible, 409 when archived."""
        check, _ = await self.get(who, check_id)
        if check.archived_at is not None:
            raise Conflict(
                f"check {check_id!r} is archived (the config file no longer declares it); "
                "declare it again to run it"
            )
        return check

    async def list(
        self,
        who: Principal,
        *,
        cursor: str | None = None,
        limit: int = 50,
        tenant_id: str | None = None,
        kind: CheckKind | None = None,
        archived: bool = False,
    ) -> Page[tuple[Check, CheckState]]:
        """Live checks, or only the archived ones (no longer in the config, history kept)."""
        key = cursor_key(cursor)
        after = None if key is None else str(key)
        scope = self._tenant_filter(who, tenant_id)
        async with self._ctx.uow() as uow:
            rows = await uow.checks.list(
                after=after,
                limit=limit + 1,
                tenant_id=scope,
                kind=str(kind) if kind else None,
                archived=archived,
            )
            states = await uow.checks.states([c.id for c in rows])
        page = page_from(rows, limit, lambda c: c.id)
        return Page(
            items=[(c, states.get(c.id, CheckState(c.id))) for c in page.items],
            next_cursor=page.next_cursor,
        )

    def _tenant_filter(self, who: Principal, tenant_id: str | None) -> str | None:
        if tenant_id is not None and tenant_id_problem(tenant_id):
            raise NotFound(f"tenant {tenant_id!r} not found")
        if who.tenant_id is None:
            return tenant_id
        if tenant_id is not None and tenant_id != who.tenant_id:
            raise NotFound(f"tenant {tenant_id!r} not found")
        return who.tenant_id

    async def _tenant_visible(self, uow: UnitOfWork, who: Principal, tenant_id: str) -> str:
        """Return the tier of a tenant the principal sees; 404 otherwise."""
        visible = who.sees_tenant(tenant_id) and tenant_id_problem(tenant_id) is None
        tenant = await uow.tenants.get(tenant_id) if visible else None
        if tenant is None:
            raise NotFound(f"tenant {tenant_id!r} not found")
        return tenant.tier

    async def _scope(
        self, uow: UnitOfWork, who: Principal, tenant_id: str | None, check_id: str | None
    ) -> str | None:
        """The tenant to filter history by; 404 for a tenant or check the caller cannot see."""
        if tenant_id is not None:
            await self._tenant_visible(uow, who, tenant_id)
        if check_id is not None:
            await self._visible(uow, who, check_id)
        return tenant_id if tenant_id is not None else who.tenant_id

    # -- history and health --------------------------------------------------------------------

    async def history(
        self,
        who: Principal,
        *,
        tenant_id: str | None,
        check_id: str | None = None,
        hours: float = 24,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[tuple[int, CheckRun]]:
        key = cursor_key(cursor)
        if key is not None and not isinstance(key, int):
            raise Invalid("invalid cursor; pass the next_cursor of a previous page", "cursor")
        since = self._ctx.clock() - timedelta(hours=hours)
        async with self._ctx.uow() as uow:
            scope = await self._scope(uow, who, tenant_id, check_id)
            rows = await uow.checks.runs(
                tenant_id=scope, check_id=check_id, since=since, before_id=key, limit=limit + 1
            )
        return page_from(rows, limit, lambda r: r[0])

    async def changes(
        self,
        who: Principal,
        *,
        tenant_id: str | None,
        check_id: str | None = None,
        hours: float = 24,
        limit: int = 100,
    ) -> Sequence[StateChangeRecord]:
        since = self._ctx.clock() - timedelta(hours=hours)
        async with self._ctx.uow() as uow:
            scope = await self._scope(uow, who, tenant_id, check_id)
            return await uow.checks.changes(
                tenant_id=scope, check_id=check_id, since=since, limit=limit
            )

    async def change_page(
        self,
        who: Principal,
        check_id: str,
        *,
        hours: float = 24 * 7,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[StateChangeRecord]:
        """A check's state changes, newest first, paged."""
        key = cursor_key(cursor)
        if key is not None and not isinstance(key, int):
            raise Invalid("invalid cursor; pass the next_cursor of a previous page", "cursor")
        since = self._ctx.clock() - timedelta(hours=hours)
        async with self._ctx.uow() as uow:
            scope = await self._scope(uow, who, None, check_id)
            rows = await uow.checks.changes(
                tenant_id=scope, check_id=check_id, since=since, limit=limit + 1, before_id=key
            )
        return page_from(rows, limit, lambda c: c.id or 0)

    async def uptime(
        self,
        who: Principal,
        check_id: str,
        *,
        resolution: str,
        since: datetime,
        limit: int = 10_000,
    ) -> Sequence[Any]:
        if resolution not in ROLLUPS:
            raise Invalid(f"resolution must be one of {', '.join(ROLLUPS)}", "resolution")
        async with self._ctx.uow() as uow:
            await self._visible(uow, who, check_id)
            return list(
                await uow.checks.rollups(
                    check_id=check_id, resolution=resolution, since=since, limit=limit
                )
            )

    async def health(self, who: Principal, tenant_id: str) -> TenantHealth:
        async with self._ctx.uow() as uow:
            tier = await self._tenant_visible(uow, who, tenant_id)
            rows = await uow.checks.tenant_states(tenant_id)
        return self._health_of(tenant_id, tier, rows)

    def _health_of(
        self, tenant_id: str, tier: str, rows: Sequence[tuple[Check, CheckState, Any]]
    ) -> TenantHealth:
        t = self._ctx.tiers.get(tier)
        rt_ms = t.sla.response_time_ms if t else 500
        checks = [CheckHealth(c, s, d) for c, s, d in rows if c.enabled]
        return tenant_health(tenant_id, checks, rt_ms)

    async def platform(self, who: Principal) -> Sequence[TenantHealth]:
        """The health of every tenant the principal sees (active tenants only)."""
        require(who, Scope.READ)
        async with self._ctx.uow() as uow:
            tiers = await active_tiers(uow, who.tenant_id)
            rows = await uow.checks.tenant_states(who.tenant_id)
        by_tenant: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_tenant[row[0].tenant_id].append(row)
        return [self._health_of(tid, tier, by_tenant.get(tid, [])) for tid, tier in tiers.items()]
