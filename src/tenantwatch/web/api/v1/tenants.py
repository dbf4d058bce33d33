"""/api/v1/tenants: tenant CRUD with pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from tenantwatch.domain.tenants import Tenant, TenantStatus
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.tenants import TenantInput, TenantPatch
from tenantwatch.web.deps import DEFAULT_PAGE, Admin, Cursor, Limit, Reader, RequestId, RuntimeDep
from tenantwatch.web.errors import AUTH, responses
from tenantwatch.web.schemas import NO_NUL, TenantCreate, TenantOut, TenantPage, TenantUpdate

router = APIRouter(prefix="/tenants", tags=["tenants"], responses=AUTH)
TenantPath = Annotated[str, Path(max_length=63, pattern=NO_NUL, description="tenant id (slug)")]


def _out(rt: Runtime, t: Tenant) -> TenantOut:
    return TenantOut.of(t, rt.ctx.tiers.effective_sla(t.tier, t.sla_overrides))


@router.get("", response_model=TenantPage, summary="List tenants")
async def list_tenants(
    rt: RuntimeDep,
    who: Reader,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
    tier: Annotated[str | None, Query(max_length=63, pattern=NO_NUL)] = None,
    status: TenantStatus | None = None,
) -> TenantPage:
    page = await rt.tenants.list(
        who, cursor=cursor, limit=limit, tier=tier, status=str(status) if status else None
    )
    return TenantPage(items=[_out(rt, t) for t in page.items], next_cursor=page.next_cursor)


@router.post(
    "",
    response_model=TenantOut,
    status_code=201,
    summary="Create a tenant",
    responses=responses(404, 409),
)
async def create_tenant(
    body: TenantCreate, rt: RuntimeDep, who: Admin, rid: RequestId
) -> TenantOut:
    tenant = await rt.tenants.create(
        who,
        TenantInput(
            id=body.id,
            name=body.name,
            tier=body.tier,
            timezone=body.timezone,
            labels=body.labels,
            status=body.status,
            sla_overrides=body.sla_overrides.given(),
        ),
        request_id=rid,
    )
    return _out(rt, tenant)


@router.get(
    "/{tenant_id}", response_model=TenantOut, summary="Get a tenant", responses=responses(404)
)
async def get_tenant(tenant_id: TenantPath, rt: RuntimeDep, who: Reader) -> TenantOut:
    return _out(rt, await rt.tenants.get(who, tenant_id))


@router.patch(
    "/{tenant_id}",
    response_model=TenantOut,
    summary="Change a tenant",
    responses=responses(404, 409),
)
async def update_tenant(
    tenant_id: TenantPath, body: TenantUpdate, rt: RuntimeDep, who: Admin, rid: RequestId
) -> TenantOut:
    patch = TenantPatch(
        name=body.name,
        tier=body.tier,
        timezone=body.timezone,
        labels=body.labels,
        status=body.status,
        sla_overrides=body.sla_overrides.given() if body.sla_overrides is not None else None,
    )
    return _out(rt, await rt.tenants.update(who, tenant_id, patch, request_id=rid))


@router.delete(
    "/{tenant_id}",
    status_code=204,
    summary="Delete a tenant and everything it owns",
    responses=responses(404, 409),
    response_class=Response,
)
async def delete_tenant(tenant_id: TenantPath, rt: RuntimeDep, who: Admin, rid: RequestId) -> None:
    await rt.tenants.delete(who, tenant_id, request_id=rid)
