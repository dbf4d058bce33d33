"""The seed 002 health APIs: /api/v1/monitoring/health-checks, /health and /dashboard/health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.domain.check_reports import PlatformReport
from tenantwatch.domain.tenant_health import TenantHealth
from tenantwatch.services import check_reports
from tenantwatch.web.check_schemas import (
    HealthComponentOut,
    RunOut,
    StateChangeOut,
    StateOut,
    TenantHealthOut,
    health_components,
)
from tenantwatch.web.deps import Reader, RuntimeDep, Writer
from tenantwatch.web.errors import AUTH, responses

router = APIRouter(prefix="/monitoring", tags=["monitoring"], responses=AUTH)
TenantPath = Annotated[str, Path(max_length=63, pattern=r"^[^\x00]*$", description="tenant id")]


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    check_type: str = "comprehensive"
    include_deep_checks: bool = True


class ComprehensiveResult(BaseModel):
    tenant_id: str
    overall_status: str
    health_score: float | None
    health_components: list[HealthComponentOut]
    response_time: float | None
    checks: dict[str, str | None]
    resource_usage: dict[str, float | None]
    sla_compliant: bool
    violations: list[str]
    timestamp: datetime
    results: list[RunOut]


class HistoryOut(BaseModel):
    tenant_id: str
    hours: float
    count: int
    results: list[RunOut]
    state_changes: list[StateChangeOut]
    next_cursor: str | None


class CheckSummary(BaseModel):
    id: str
    name: str
    kind: str
    critical: bool
    state: StateOut


class SummaryOut(TenantHealthOut):
    tier: str
    checks: list[CheckSummary]
    state_changes: list[StateChangeOut]


class PlatformOut(BaseModel):
    overall_status: str
    total_tenants: int
    healthy_tenants: int
    degraded_tenants: int
    unhealthy_tenants: int
    unknown_tenants: int
    average_health_score: float | None
    tenants: list[TenantHealthOut]


def _resource_usage(health: TenantHealth) -> dict[str, float | None]:
    base: dict[str, float | None] = {
        "cpu_percent": None,
        "memory_percent": None,
        "disk_percent": None,
    }
    return {**base, **health.resources}


@router.post(
    "/health-checks/{tenant_id}",
    response_model=ComprehensiveResult,
    summary="Run a tenant's checks now and return the comprehensive result",
    responses=responses(404),
)
async def run_tenant_checks(
    tenant_id: TenantPath,
    rt: RuntimeDep,
    who: Writer,
    body: Annotated[RunRequest | None, Body()] = None,
) -> ComprehensiveResult:
    checks = await rt.checks.tenant_checks(who, tenant_id)
    runs, _ = await rt.check_engine.run_now(checks)
    verdict = await check_reports.tenant_run_report(rt.checks, who, tenant_id, runs)
    health, report = verdict.health, verdict.report
    return ComprehensiveResult(
        tenant_id=tenant_id,
        overall_status=str(health.status),
        health_score=health.score,
        health_components=health_components(health.components),
        response_time=report.response_time_ms,
        checks=dict(report.categories),
        resource_usage=_resource_usage(health),
        sla_compliant=report.sla_compliant,
        violations=list(report.violations),
        timestamp=rt.ctx.clock(),
        results=[RunOut.of(r) for r in verdict.runs],
    )


@router.get(
    "/health-checks/{tenant_id}",
    response_model=HistoryOut,
    summary="A tenant's check results, newest first",
    responses=responses(404),
)
async def tenant_history(
    tenant_id: TenantPath,
    rt: RuntimeDep,
    who: Reader,
    hours: Annotated[float, Query(gt=0, le=24 * 366)] = 24,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> HistoryOut:
    page = await rt.checks.history(
        who, tenant_id=tenant_id, hours=hours, limit=limit, cursor=cursor or None
    )
    changes = await rt.checks.changes(who, tenant_id=tenant_id, hours=hours, limit=limit)
    return HistoryOut(
        tenant_id=tenant_id,
        hours=hours,
        count=len(page.items),
        results=[RunOut.of(r, i) for i, r in page.items],
        state_changes=[StateChangeOut.of(c) for c in changes],
        next_cursor=page.next_cursor,
    )


def _platform(report: PlatformReport, limit: int) -> PlatformOut:
    return PlatformOut(
        overall_status=str(report.status),
        total_tenants=report.total,
        healthy_tenants=report.healthy,
        degraded_tenants=report.degraded,
        unhealthy_tenants=report.unhealthy,
        unknown_tenants=report.unknown,
        average_health_score=report.average_score,
        tenants=[TenantHealthOut.of(h) for h in report.worst_first[:limit]],
    )


@router.get(
    "/health/platform",
    response_model=PlatformOut,
    summary="Every tenant's health, worst first",
)
async def platform_health(
    rt: RuntimeDep,
    who: Reader,
    limit: Annotated[int, Query(ge=1, le=1000, description="tenants listed")] = 100,
) -> PlatformOut:
    return _platform(await check_reports.platform(rt.checks, who), limit)


@router.get(
    "/health/{tenant_id}/summary",
    response_model=SummaryOut,
    summary="A tenant's health: status, score, checks and recent state changes",
    responses=responses(404),
)
async def tenant_summary(tenant_id: TenantPath, rt: RuntimeDep, who: Reader) -> SummaryOut:
    health = await rt.checks.health(who, tenant_id)
    tier = (await rt.tenants.get(who, tenant_id)).tier
    checks = []
    cursor = None
    while True:
        page = await rt.checks.list(who, tenant_id=tenant_id, limit=500, cursor=cursor)
        checks += [
            CheckSummary(
                id=c.id, name=c.name, kind=str(c.kind), critical=c.critical, state=StateOut.of(s)
            )
            for c, s in page.items
        ]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    changes = await rt.checks.changes(who, tenant_id=tenant_id, hours=24, limit=50)
    base = TenantHealthOut.of(health)
    return SummaryOut(
        **base.model_dump(),
        tier=tier,
        checks=checks,
        state_changes=[StateChangeOut.of(c) for c in changes],
    )


class RecentCheck(BaseModel):
    tenant_id: str
    check_id: str
    status: str
    response_time: float
    timestamp: datetime
    sla_compliant: bool


ACTIVE_ALERTS_SHOWN = 10


class ActiveAlert(BaseModel):
    """A firing alert of the alert manager (the same alerts as /api/v1/monitoring/alerts)."""

    alert_id: str = Field(description="the alert's fingerprint")
    tenant_id: str | None
    alert_name: str
    severity: str | None
    status: str = Field(description="active or acknowledged")
    message: str
    duration: float = Field(description="minutes since it started firing")

    @classmethod
    def of(cls, r: AlertRecord, now: float) -> ActiveAlert:
        labels = r.alert.label_map()
        notes = r.alert.annotation_map()
        name = labels.get("alertname", "")
        return cls(
            alert_id=r.fingerprint,
            tenant_id=r.tenant_id,
            alert_name=name,
            severity=r.severity,
            status=r.status(now),
            message=notes.get("summary") or notes.get("description") or name,
            duration=round(max(0.0, now - r.alert.starts_at) / 60, 2),
        )


class DashboardOut(BaseModel):
    platform_health: dict[str, Any]
    recent_checks: list[RecentCheck]
    active_alerts: list[ActiveAlert]


@router.get(
    "/dashboard/health",
    response_model=DashboardOut,
    summary="The health dashboard: platform summary, latest checks and checks that are down",
)
async def dashboard(rt: RuntimeDep, who: Reader) -> DashboardOut:
    report = await check_reports.dashboard(rt.checks, who)
    platform = report.platform
    firing: list[AlertRecord] = []
    now_s = 0.0
    if rt.alerting is not None:
        now_s = rt.alerting.now()
        firing = rt.alerting.firing(who.tenant_id, now_s)
    alerts = [ActiveAlert.of(r, now_s) for r in firing[:ACTIVE_ALERTS_SHOWN]]
    return DashboardOut(
        platform_health={
            "overall_status": str(platform.status),
            "total_tenants": platform.total,
            "healthy_tenants": platform.healthy,
            "unhealthy_tenants": platform.unhealthy,
            "degraded_tenants": platform.degraded,
            "active_alerts": len(firing),
            "sla_compliance": platform.sla_compliance,
        },
        recent_checks=[
            RecentCheck(
                tenant_id=r.tenant_id,
                check_id=r.check_id,
                status="healthy" if r.ok else "unhealthy",
                response_time=round(r.duration_s * 1000, 3),
                timestamp=r.at,
                sla_compliant=compliant,
            )
            for r, compliant in report.recent
        ],
        active_alerts=alerts,
    )
