"""Seed 002's SLA APIs: a tenant's SLA metrics for a period, and SLA reports (one tenant or
the whole platform) as JSON, CSV or PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response

from tenantwatch.runtime.root import Runtime
from tenantwatch.services.sla import SlaService
from tenantwatch.services.sla_insights import SlaInsights
from tenantwatch.sla.report_csv import platform_csv, tenant_csv
from tenantwatch.sla.report_html import platform_html, tenant_html
from tenantwatch.web.deps import Reader, RuntimeDep
from tenantwatch.web.errors import AUTH, responses
from tenantwatch.web.sla_schemas import (
    AnomalySchema,
    CreditOut,
    CreditPageOut,
    DayOut,
    ForecastSchema,
    InsightsOut,
    PlatformFiguresOut,
    PlatformMetricsOut,
    PlatformReportOut,
    PredictionsSchema,
    ResourceFiguresOut,
    ScalingSchema,
    SlaOut,
    TenantMetricsOut,
    TenantReportOut,
    TrendSchema,
)

router = APIRouter(prefix="/monitoring", tags=["sla"], responses=AUTH)
TenantPath = Annotated[str, Path(max_length=63, pattern=r"^[^\x00]*$", description="tenant id")]
PeriodQuery = Annotated[
    str,
    Query(
        max_length=16,
        description="daily, weekly, monthly, quarterly, yearly (calendar, in the tenant's "
        "timezone) or 7d, 28d, 30d (rolling, ending now)",
    ),
]
DateQuery = Annotated[
    date | None,
    Query(
        alias="date",
        description="a local date: the calendar period holding it (default: the current one, "
        "to date)",
    ),
]
Format = Literal["json", "csv", "pdf"]
PDF_RESPONSE = {"content": {"application/pdf": {}}, "description": "the report as a PDF"}
CSV_RESPONSE = {"content": {"text/csv": {}}, "description": "the report as CSV"}


def engine(rt: Runtime) -> SlaService:
    if rt.sla is None:
        raise HTTPException(503, "the SLA engine is not running in this process (role api)")
    return rt.sla


@router.get(
    "/sla/{tenant_id}",
    response_model=SlaOut,
    summary="A tenant's SLA metrics for a period: availability, response time, error rate, "
    "compliance, violations, health score, error budget and credit",
    responses=responses(404),
)
async def tenant_sla(
    tenant_id: TenantPath,
    rt: RuntimeDep,
    who: Reader,
    period: PeriodQuery = "monthly",
    day: DateQuery = None,
) -> SlaOut:
    return SlaOut.of(await engine(rt).tenant_report(who, tenant_id, period, day))


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/reports/sla",
    response_model=TenantReportOut | PlatformReportOut,
    summary="An SLA report: one tenant's (tenant_id) or the whole platform's, as JSON, CSV or PDF",
    responses={**responses(404), 200: {"content": {"application/pdf": {}, "text/csv": {}}}},
)
async def sla_report(
    rt: RuntimeDep,
    who: Reader,
    tenant_id: Annotated[str | None, Query(max_length=63, pattern=r"^[^\x00]*$")] = None,
    period: PeriodQuery = "monthly",
    day: DateQuery = None,
    format: Format = "json",
) -> TenantReportOut | PlatformReportOut | Response:
    sla = engine(rt)
    if tenant_id is not None:
        report = await sla.tenant_report(who, tenant_id, period, day)
        stem = f"sla-{tenant_id}-{period}-{report.period.start.astimezone(ZoneInfo(report.timezone)).date().isoformat()}"
        if format == "csv":
            return Response(
                tenant_csv(report), media_type="text/csv", headers=_attachment(f"{stem}.csv")
            )
        if format == "pdf":
            pdf = await rt.render_pdf(tenant_html(report))
            return Response(pdf, media_type="application/pdf", headers=_attachment(f"{stem}.pdf"))
        return TenantReportOut.of_report(report)
    platform = await sla.platform_report(who, period, day)
    stem = f"sla-platform-{period}"
    if format == "csv":
        return Response(
            platform_csv(platform), media_type="text/csv", headers=_attachment(f"{stem}.csv")
        )
    if format == "pdf":
        pdf = await rt.render_pdf(platform_html(platform))
        return Response(pdf, media_type="application/pdf", headers=_attachment(f"{stem}.pdf"))
    return PlatformReportOut.of(platform)


@router.get(
    "/metrics/platform",
    response_model=PlatformMetricsOut,
    summary="The platform snapshot: tenants, requests per minute, response time, error rate "
    "and resource use over the last five minutes",
)
async def platform_metrics(rt: RuntimeDep, who: Reader) -> PlatformMetricsOut:
    snap = await SlaInsights(engine(rt)).platform(who)
    return PlatformMetricsOut(
        timestamp=snap.timestamp,
        platform_metrics=PlatformFiguresOut(
            total_tenants=snap.total_tenants,
            active_tenants=snap.active_tenants,
            total_requests_per_minute=snap.total_requests_per_minute,
            average_response_time=snap.average_response_time,
            error_rate=snap.error_rate,
        ),
        resource_metrics=ResourceFiguresOut(
            cpu_utilization=snap.cpu_utilization, memory_utilization=snap.memory_utilization
        ),
    )


@router.get(
    "/metrics/{tenant_id}",
    response_model=TenantMetricsOut,
    summary="A tenant's performance day by day (local days, at most 92)",
    responses=responses(404),
)
async def tenant_metrics(
    tenant_id: TenantPath,
    rt: RuntimeDep,
    who: Reader,
    start_date: Annotated[
        date | None, Query(description="first local day (default: 30 days ago)")
    ] = None,
    end_date: Annotated[date | None, Query(description="last local day (default: today)")] = None,
) -> TenantMetricsOut:
    sla = engine(rt)
    tenant = await sla.tenants.get(who, tenant_id)
    today = sla.now().astimezone(ZoneInfo(tenant.timezone)).date()
    end = end_date or today
    start = start_date or end - timedelta(days=29)
    days = await SlaInsights(sla).daily(who, tenant_id, start, end)
    return TenantMetricsOut(
        tenant_id=tenant_id,
        timezone=tenant.timezone,
        start_date=start.isoformat(),
        end_date=end.isoformat(),
        days=[
            DayOut(
                date=d.day.isoformat(),
                availability=d.report.availability_percentage,
                avg_response_time=d.report.avg_response_time_ms,
                p95_response_time=d.report.p95_response_time_ms,
                error_rate=d.report.error_rate_percentage,
                throughput_rpm=None if d.throughput_rpm is None else round(d.throughput_rpm, 3),
                health_score=d.report.health.score,
                downtime_minutes=sum((x.minutes for x in d.report.downtimes), Decimal(0)),
                sla_compliance=d.report.sla_compliance,
            )
            for d in days
        ],
    )


def _when(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


@router.get(
    "/insights/{tenant_id}/predictions",
    response_model=InsightsOut,
    summary="A tenant's predictions from 30 days of hourly history: trend, capacity "
    "forecast, scaling recommendation, potential issues and anomalies",
    responses=responses(404),
)
async def predictions(tenant_id: TenantPath, rt: RuntimeDep, who: Reader) -> InsightsOut:
    got = await SlaInsights(engine(rt)).predictions(who, tenant_id)
    return InsightsOut(
        tenant_id=tenant_id,
        predictions=PredictionsSchema(
            trend=TrendSchema.model_validate(got.trend),
            scaling_recommendation=ScalingSchema.model_validate(got.scaling_recommendation),
            capacity_forecast=[ForecastSchema.model_validate(f) for f in got.capacity_forecast],
            potential_issues=got.potential_issues,
            anomalies=[
                AnomalySchema(figure=a.figure, timestamp=_when(a.t), value=a.value, score=a.score)
                for a in got.anomalies
            ],
        ),
    )


@router.get(
    "/sla/{tenant_id}/credits",
    response_model=CreditPageOut,
    summary="A tenant's SLA credit ledger, newest month first",
    responses=responses(404),
)
async def credit_ledger(
    tenant_id: TenantPath,
    rt: RuntimeDep,
    who: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 24,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> CreditPageOut:
    if rt.sla_credits is None:
        raise HTTPException(503, "the SLA engine is not running in this process (role api)")
    page = await rt.sla_credits.ledger(who, tenant_id, cursor=cursor or None, limit=limit)
    return CreditPageOut(
        tenant_id=tenant_id,
        items=[CreditOut.model_validate(e) for e in page.items],
        next_cursor=page.next_cursor,
    )
