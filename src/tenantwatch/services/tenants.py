"""Tenant use cases: create, read, update, delete, and sync from the config file."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.pagination import Page, page_from
from tenantwatch.domain.tenants import (
    Tenant,
    TenantStatus,
    label_name_problem,
    tenant_id_problem,
    timezone_problem,
)
from tenantwatch.domain.text import storable, text_problem
from tenantwatch.domain.tiers import SLA_OBJECTIVES
from tenantwatch.services.access import cursor_key, require
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Conflict, Forbidden, Invalid, NotFound
from tenantwatch.services.ports import UnitOfWork

CONFIG_ACTOR = "config"


@dataclass(frozen=True)
class TenantInput:
    id: str
    name: str
    tier: str
    timezone: str = "UTC"
    labels: Mapping[str, str] = field(default_factory=dict)
    status: TenantStatus = TenantStatus.ACTIVE
    sla_overrides: Mapping[str, Decimal | int] = field(default_factory=dict)

    def to_tenant(self, managed_by: str, created_at: datetime, updated_at: datetime) -> Tenant:
        return Tenant(
            id=self.id,
            name=self.name,
            tier=self.tier,
            timezone=self.timezone,
            labels=dict(self.labels),
            status=self.status,
            sla_overrides=dict(self.sla_overrides),
            managed_by=managed_by,
            created_at=created_at,
            updated_at=updated_at,
        )


@dataclass(frozen=True)
class TenantPatch:
    """Fields to change; None leaves a field as it is."""

    name: str | None = None
    tier: str | None = None
    timezone: str | None = None
    labels: Mapping[str, str] | None = None
    status: TenantStatus | None = None
    sla_overrides: Mapping[str, Decimal | int] | None = None


@dataclass(frozen=True)
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)


def not_found(tenant_id: str) -> NotFound:
    return NotFound(f"tenant {tenant_id!r} not found")


class TenantService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def _validate(
        self,
        *,
        name: str | None = None,
        tier: str | None = None,
        timezone: str | None = None,
        labels: Mapping[str, str] | None = None,
        sla_overrides: Mapping[str, Decimal | int] | None = None,
    ) -> None:
        if name is not None and (problem := text_problem(name, what="name", max_length=200)):
            raise Invalid(problem, field="name")
        if tier is not None and self._ctx.tiers.get(tier) is None:
            known = ", ".join(self._ctx.tiers.names())
            raise Invalid(f"unknown tier {tier!r}; use one of {known}", field="tier")
        if timezone is not None and (problem := timezone_problem(timezone)):
            raise Invalid(problem, field="timezone")
        for label, value in (labels or {}).items():
            problem = label_name_problem(label) or text_problem(
                value, what=f"label {label!r}", max_length=500, min_length=0
            )
            if problem:
                raise Invalid(problem, field="labels")
        for objective in sla_overrides or {}:
            if objective not in SLA_OBJECTIVES:
                raise Invalid(
                    f"unknown SLA objective {objective!r}; use {', '.join(SLA_OBJECTIVES)}",
                    field="sla_overrides",
                )

    def _validate_input(self, data: TenantInput) -> None:
        if problem := tenant_id_problem(data.id):
            raise Invalid(problem, field="id")
        self._validate(
            name=data.name,
            tier=data.tier,
            timezone=data.timezone,
            labels=data.labels,
            sla_overrides=data.sla_overrides,
        )

    async def _visible(self, uow: UnitOfWork, who: Principal, tenant_id: str) -> Tenant:
        visible = who.sees_tenant(tenant_id) and tenant_id_problem(tenant_id) is None
        tenant = await uow.tenants.get(tenant_id) if visible else None
        if tenant is None:
            raise not_found(tenant_id)
        return tenant

    async def list(
        self,
        who: Principal,
        *,
        cursor: str | None = None,
        limit: int = 50,
        tier: str | None = None,
        status: str | None = None,
    ) -> Page[Tenant]:
        key = cursor_key(cursor)
        after = None if key is None else str(key)
        for value, name in ((tier, "tier"), (status, "status")):
            if value is not None and not storable(value):
                raise Invalid(f"{name} filter is not valid text", field=name)
        async with self._ctx.uow() as uow:
            rows = await uow.tenants.list(
                after=after, limit=limit + 1, only=who.tenant_id, tier=tier, status=status
            )
        return page_from(rows, limit, lambda t: t.id)

    async def all(
        self, who: Principal, *, tier: str | None = None, status: str | None = None
    ) -> builtins.list[Tenant]:
        """Every tenant `who` may see (list, page after page)."""
        out: builtins.list[Tenant] = []
        cursor = None
        while True:
            page = await self.list(who, cursor=cursor, limit=500, tier=tier, status=status)
            out.extend(page.items)
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    async def get(self, who: Principal, tenant_id: str) -> Tenant:
        async with self._ctx.uow() as uow:
            return await self._visible(uow, who, tenant_id)

    async def create(
        self, who: Principal, data: TenantInput, *, request_id: str | None = None
    ) -> Tenant:
        require(who, Scope.ADMIN)
        if who.tenant_id is not None:
            raise Forbidden("creating tenants needs an admin key that is not bound to a tenant")
        self._validate_input(data)
        now = self._ctx.clock()
        tenant = data.to_tenant("api", created_at=now, updated_at=now)
        async with self._ctx.uow() as uow:
            if await uow.tenants.get(data.id) is not None:
                raise Conflict(f"tenant {data.id!r} already exists; choose another id")
            await uow.tenants.insert(tenant)
            await uow.audit.append(_audit(now, who.actor, "create", None, tenant, request_id))
        return tenant

    async def update(
        self, who: Principal, tenant_id: str, patch: TenantPatch, *, request_id: str | None = None
    ) -> Tenant:
        require(who, Scope.ADMIN)
        if who.tenant_id is not None and (
            patch.tier is not None or patch.status is not None or patch.sla_overrides is not None
        ):
            raise Forbidden(
                "tier, status and SLA overrides are the platform's to set; use an admin key "
                "that is not bound to a tenant"
            )
        self._validate(
            name=patch.name,
            tier=patch.tier,
            timezone=patch.timezone,
            labels=patch.labels,
            sla_overrides=patch.sla_overrides,
        )
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            before = await self._visible(uow, who, tenant_id)
            _refuse_config_managed(before)
            changes = {k: v for k, v in vars(patch).items() if v is not None}
            after = replace(before, **changes, updated_at=now)
            if after.snapshot() == before.snapshot():
                return before
            if not await uow.tenants.update(after, if_updated_at=before.updated_at):
                raise Conflict(
                    f"tenant {tenant_id!r} was changed or deleted meanwhile; read it and retry"
                )
            await uow.audit.append(_audit(now, who.actor, "update", before, after, request_id))
        return after

    async def delete(
        self, who: Principal, tenant_id: str, *, request_id: str | None = None
    ) -> None:
        require(who, Scope.ADMIN)
        async with self._ctx.uow() as uow:
            before = await self._visible(uow, who, tenant_id)
            if who.tenant_id is not None:
                raise Forbidden(
                    "deleting a tenant needs an admin key that is not bound to a tenant"
                )
            _refuse_config_managed(before)
            await uow.checks.delete_tenant_data(tenant_id)
            if not await uow.tenants.delete(tenant_id):
                raise not_found(tenant_id)  # a concurrent request deleted it first
            await uow.audit.append(
                _audit(self._ctx.clock(), who.actor, "delete", before, None, request_id)
            )

    async def sync_from_config(self, declared: Sequence[TenantInput]) -> SyncReport:
        """Make the stored tenants match the config file's; undeclared ones are released to the API."""
        report = SyncReport()
        now = self._ctx.clock()
        wanted = {t.id: t for t in declared}
        async with self._ctx.uow() as uow:
            for data in declared:
                self._validate_input(data)
                current = await uow.tenants.get(data.id)
                created_at = current.created_at if current and current.created_at else now
                target = data.to_tenant("config", created_at=created_at, updated_at=now)
                if current is None:
                    await uow.tenants.insert(target)
                    report.created.append(data.id)
                elif current.snapshot() != target.snapshot():
                    await uow.tenants.update(target)
                    report.updated.append(data.id)
                else:
                    report.unchanged.append(data.id)
                    continue
                action = "create" if current is None else "update"
                await uow.audit.append(_audit(now, CONFIG_ACTOR, action, current, target))
            after: str | None = None
            while page := await uow.tenants.list(after=after, limit=500):
                for tenant in page:
                    if tenant.managed_by == "config" and tenant.id not in wanted:
                        released = replace(tenant, managed_by="api", updated_at=now)
                        await uow.tenants.update(released)
                        report.released.append(tenant.id)
                        await uow.audit.append(
                            _audit(now, CONFIG_ACTOR, "release", tenant, released)
                        )
                after = page[-1].id
        return report

    async def counts(self, who: Principal) -> Sequence[tuple[str, str, int]]:
        """Return (tier, status, count) of the tenants this principal sees."""
        async with self._ctx.uow() as uow:
            if who.tenant_id is None:
                return await uow.tenants.counts()
            tenant = await uow.tenants.get(who.tenant_id)
        return [(tenant.tier, str(tenant.status), 1)] if tenant else []


def _audit(
    at: datetime,
    actor: str,
    verb: str,
    before: Tenant | None,
    after: Tenant | None,
    request_id: str | None = None,
) -> AuditEntry:
    subject = after or before
    assert subject is not None
    return AuditEntry.of(
        at=at,
        actor=actor,
        action=f"tenant.{verb}",
        object_type="tenant",
        object_id=subject.id,
        tenant_id=subject.id,
        before=before.snapshot() if before else None,
        after=after.snapshot() if after else None,
        request_id=request_id,
    )


def _refuse_config_managed(tenant: Tenant) -> None:
    if tenant.managed_by == "config":
        raise Conflict(
            f"tenant {tenant.id!r} is declared in the config file; change it there "
            "(or remove it from the file to manage it through the API)"
        )
