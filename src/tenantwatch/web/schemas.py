"""Request and response bodies of the REST API (pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tenantwatch.domain.apikeys import ApiKey, Scope
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.tenants import (
    LABEL_NAME_PATTERN,
    TENANT_ID_PATTERN,
    Tenant,
    TenantStatus,
)
from tenantwatch.domain.tiers import SlaTargets, Tier

# PostgreSQL stores neither NUL in text nor \u0000 in JSON: refuse it at the edge (422), for
# every free-text value that is stored or compared in SQL, instead of failing there (500)
NO_NUL = r"^[^\x00]*$"
TenantId = Annotated[str, Field(pattern=TENANT_ID_PATTERN, examples=["acme-corp"])]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
TierName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$", examples=["enterprise"])]
Timezone = Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/Berlin"])]
LabelName = Annotated[str, Field(pattern=LABEL_NAME_PATTERN, max_length=100)]
LabelsField = dict[LabelName, Annotated[str, Field(max_length=500, pattern=NO_NUL)]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sla(Strict):
    availability_percentage: Annotated[Decimal, Field(gt=0, le=100)] | None = None
    response_time_ms: Annotated[int, Field(gt=0, le=3_600_000)] | None = None
    error_rate_percentage: Annotated[Decimal, Field(ge=0, le=100)] | None = None
    recovery_time_minutes: Annotated[int, Field(gt=0, le=525_600)] | None = None

    def given(self) -> dict[str, Decimal | int]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class SlaOut(BaseModel):
    availability_percentage: Decimal
    response_time_ms: int
    error_rate_percentage: Decimal
    recovery_time_minutes: int

    @classmethod
    def of(cls, sla: SlaTargets) -> SlaOut:
        return cls.model_validate(sla.as_dict())


class TenantCreate(Strict):
    id: TenantId
    name: Name
    tier: TierName
    timezone: Timezone = "UTC"
    labels: LabelsField = {}
    status: TenantStatus = TenantStatus.ACTIVE
    sla_overrides: Sla = Sla()


class TenantUpdate(Strict):
    name: Name | None = None
    tier: TierName | None = None
    timezone: Timezone | None = None
    labels: LabelsField | None = None
    status: TenantStatus | None = None
    sla_overrides: Sla | None = None


class TenantOut(BaseModel):
    id: str
    name: str
    tier: str
    timezone: str
    labels: dict[str, str]
    status: TenantStatus
    sla_overrides: dict[str, Decimal | int]
    sla: SlaOut = Field(description="effective targets: the tier's, with the overrides on top")
    managed_by: str = Field(description="'config' when declared in tenantwatch.yml, else 'api'")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, t: Tenant, sla: SlaTargets) -> TenantOut:
        assert t.created_at is not None and t.updated_at is not None
        return cls(
            id=t.id,
            name=t.name,
            tier=t.tier,
            timezone=t.timezone,
            labels=dict(t.labels),
            status=t.status,
            sla_overrides=dict(t.sla_overrides),
            sla=SlaOut.of(sla),
            managed_by=t.managed_by,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )


class PageOut(BaseModel):
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at end")


class TenantPage(PageOut):
    items: list[TenantOut]


class TierOut(BaseModel):
    name: str
    description: str
    builtin: bool
    sla: SlaOut
    check_interval_seconds: float
    retention_seconds: float
    max_series: int

    @classmethod
    def of(cls, t: Tier) -> TierOut:
        return cls(
            name=t.name,
            description=t.description,
            builtin=t.builtin,
            sla=SlaOut.of(t.sla),
            check_interval_seconds=t.check_interval_seconds,
            retention_seconds=t.retention_seconds,
            max_series=t.max_series,
        )


class TierList(BaseModel):
    items: list[TierOut]


class ApiKeyCreate(Strict):
    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=3)]
    tenant_id: TenantId | None = None


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="the first characters of the key, to recognise it")
    scopes: list[Scope]
    tenant_id: str | None
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, k: ApiKey) -> ApiKeyOut:
        return cls(
            id=k.id,
            name=k.name,
            prefix=k.prefix,
            scopes=list(k.scopes),
            tenant_id=k.tenant_id,
            created_at=k.created_at,
            created_by=k.created_by,
            last_used_at=k.last_used_at,
            revoked_at=k.revoked_at,
        )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the secret key; shown this once, store it now")


class ApiKeyPage(PageOut):
    items: list[ApiKeyOut]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    tenant_id: str | None
    request_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, e: AuditEntry) -> AuditOut:
        assert e.id is not None
        return cls(
            id=e.id,
            at=e.at,
            actor=e.actor,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            tenant_id=e.tenant_id,
            request_id=e.request_id,
            before=dict(e.before) if e.before is not None else None,
            after=dict(e.after) if e.after is not None else None,
        )


class AuditPage(PageOut):
    items: list[AuditOut]


class Health(BaseModel):
    status: str = Field(examples=["healthy"])
    timestamp: datetime
    version: str


class Ready(BaseModel):
    status: str = Field(examples=["ready"])
    checks: dict[str, str]


class DependencyOut(BaseModel):
    status: str
    latency_ms: float
    error: str | None = None


class HealthDetailed(BaseModel):
    status: str = Field(description="healthy, degraded or unhealthy")
    timestamp: datetime
    version: str
    services: dict[str, str] = Field(description="each dependency's status, as seed 003")
    details: dict[str, DependencyOut]
    workers: dict[str, str]
