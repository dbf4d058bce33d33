"""/api/v1/rule-groups: Prometheus rule groups managed through the API, tenant-scoped."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from tenantwatch.services.rule_groups import RuleGroupService, RuleGroupView
from tenantwatch.web.deps import DEFAULT_PAGE, Cursor, Limit, Reader, RequestId, RuntimeDep, Writer
from tenantwatch.web.errors import AUTH, responses
from tenantwatch.web.schemas import TenantId

router = APIRouter(prefix="/rule-groups", tags=["rules"], responses=AUTH)
GroupId = Annotated[str, Path(max_length=100, pattern=r"^[a-z0-9-]+$")]

EXAMPLE_GROUP = {
    "name": "checkout-latency",
    "interval": "30s",
    "rules": [
        {
            "alert": "CheckoutSlow",
            "expr": "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 1",
            "for": "5m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": "p95 latency is {{ $value | humanizeDuration }}"},
        }
    ],
}


class RuleGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: TenantId | None = Field(
        None, description="the tenant whose series the group reads; a tenant key's own by default"
    )
    group: dict[str, Any] = Field(
        description="one group as in a Prometheus rule file", examples=[EXAMPLE_GROUP]
    )


class RuleGroupReplace(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: dict[str, Any] = Field(examples=[EXAMPLE_GROUP])


class RuleOut(BaseModel):
    type: str
    name: str
    expr: str
    for_seconds: float
    keep_firing_for_seconds: float
    labels: dict[str, str]
    annotations: dict[str, str]


class RuleGroupOut(BaseModel):
    id: str
    tenant_id: str | None
    name: str
    interval_seconds: float | None
    rules: list[RuleOut]
    source: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: RuleGroupView) -> RuleGroupOut:
        g = view.group
        return cls(
            id=view.stored.id,
            tenant_id=view.stored.tenant_id,
            name=g.name,
            interval_seconds=g.interval_s,
            rules=[
                RuleOut(
                    type="alerting" if r.alert else "recording",
                    name=r.name,
                    expr=r.expr,
                    for_seconds=r.for_s,
                    keep_firing_for_seconds=r.keep_firing_for_s,
                    labels=r.labels,
                    annotations=r.annotations,
                )
                for r in g.rules
            ],
            source=view.stored.source,
            created_at=view.stored.created_at,
            updated_at=view.stored.updated_at,
        )


class RuleGroupPage(BaseModel):
    items: list[RuleGroupOut]
    next_cursor: str | None


def service(rt: RuntimeDep) -> RuleGroupService:
    return rt.rule_groups


@router.get("", response_model=RuleGroupPage, summary="List rule groups")
async def list_groups(
    rt: RuntimeDep,
    who: Reader,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
    tenant: TenantId | None = None,
) -> RuleGroupPage:
    page = await service(rt).list(who, cursor=cursor, limit=limit, tenant_id=tenant)
    return RuleGroupPage(
        items=[RuleGroupOut.of(v) for v in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "",
    response_model=RuleGroupOut,
    status_code=201,
    summary="Create a rule group (validated as promtool check rules does)",
    responses=responses(404, 409),
)
async def create_group(
    body: RuleGroupIn, rt: RuntimeDep, who: Writer, rid: RequestId
) -> RuleGroupOut:
    created = await service(rt).create(who, body.tenant_id, body.group, request_id=rid)
    return RuleGroupOut.of(created)


@router.get(
    "/{group_id}", response_model=RuleGroupOut, summary="Get a rule group", responses=responses(404)
)
async def get_group(group_id: GroupId, rt: RuntimeDep, who: Reader) -> RuleGroupOut:
    return RuleGroupOut.of(await service(rt).get(who, group_id))


@router.put(
    "/{group_id}",
    response_model=RuleGroupOut,
    summary="Replace a rule group's rules",
    responses=responses(404),
)
async def replace_group(
    group_id: GroupId, body: RuleGroupReplace, rt: RuntimeDep, who: Writer, rid: RequestId
) -> RuleGroupOut:
    return RuleGroupOut.of(await service(rt).replace(who, group_id, body.group, request_id=rid))


@router.delete(
    "/{group_id}", status_code=204, summary="Delete a rule group", responses=responses(404)
)
async def delete_group(group_id: GroupId, rt: RuntimeDep, who: Writer, rid: RequestId) -> Response:
    await service(rt).delete(who, group_id, request_id=rid)
    return Response(status_code=204)
