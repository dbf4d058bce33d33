"""JSON shapes of the SLA APIs (seed 002's `/api/v1/monitoring/sla`, reports, metrics)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tenantwatch.domain.health_score import HealthScore
from tenantwatch.sla import budget as budgets
from tenantwatch.sla.report import PlatformReport, TenantReport

_UNITS = {
    "availability_percentage": "%",
    "response_time_ms": "ms",
    "error_rate_percentage": "%",
    "recovery_time_minutes": "min",
}


class PeriodOut(BaseModel):
    kind: str = Field(description="daily, weekly, monthly, quarterly, yearly, 7d, 28d or 30d")
    start: datetime
    end: datetime = Field(description="end of what was measured (now, for a period to date)")
    full_end: datetime = Field(description="where the whole period ends")
    to_date: bool
    timezone: str


class ObjectiveOut(BaseModel):
    objective: str
    target: float
    actual: float | None
    unit: str
    met: bool | None = Field(description="None: nothing measured, so neither met nor violated")


class ComponentOut(BaseModel):
    name: str
    score: float
    weight: float
    weighted: float


class BurnAlertOut(BaseModel):
    severity: str = Field(description="page or ticket")
    long_window: str
    short_window: str
    factor: float = Field(description="burn rate both windows must exceed")
    feasible: bool = Field(
        description="false: the factor is at least 1 / (1 - target), so even 100 % errors "
        "burn slower and the alert can never fire"
    )


class BudgetOut(BaseModel):
    allowed_downtime_minutes: float
    downtime_minutes: float
    remaining_ratio: float = Field(description="1 - spent/allowed; negative when overspent")
    burn_rate: float = Field(description="1 spends exactly the budget by the period's end")
    exhaustion: datetime | None = Field(description="when it runs out at this burn rate")
    burn_alerts: list[BurnAlertOut] = Field(
        description="the multiwindow burn-rate alerts of this target over 30 days"
    )


class DowntimeOut(BaseModel):
    start: datetime
    end: datetime
    minutes: float
    checks: list[str]


class UptimeOut(BaseModel):
    start: datetime
    availability: float | None


class LatencyWithinOut(BaseModel):
    threshold_ms: float
    percentage: float | None


def _window(seconds: int) -> str:
    return f"{seconds // 3600}h" if seconds >= 3600 else f"{seconds // 60}m"


def burn_alerts(r: TenantReport) -> list[BurnAlertOut]:
    target = next(
        o.target for o in r.compliance.objectives if o.objective == "availability_percentage"
    )
    return [
        BurnAlertOut(
            severity=a.severity,
            long_window=_window(a.long_window_s),
            short_window=_window(a.short_window_s),
            factor=round(a.factor, 4),
            feasible=a.feasible,
        )
        for a in budgets.burn_alerts(float(target) / 100, 30 * 86400)
    ]


def components(health: HealthScore) -> list[ComponentOut]:
    return [
        ComponentOut(
            name=c.name, score=round(c.score, 2), weight=c.weight, weighted=round(c.weighted, 2)
        )
        for c in health.components
    ]


class SlaOut(BaseModel):
    """Seed 002's SLA metrics of a tenant, and how each figure was reached."""

    tenant_id: str
    tenant_name: str
    tier: str
    period: PeriodOut
    availability: float | None = Field(description="percent of measured time up")
    avg_response_time: float | None = Field(description="ms")
    p95_response_time: float | None = Field(description="ms")
    error_rate: float | None = Field(description="percent of requests that failed")
    recovery_time: float | None = Field(description="minutes from a down to the next up, mean")
    latency_within: LatencyWithinOut | None
    sla_compliance: bool = Field(description="every measured objective met")
    violations: list[str]
    health_score: float
    health_components: list[ComponentOut]
    objectives: list[ObjectiveOut]
    error_budget: BudgetOut | None
    downtimes: list[DowntimeOut]
    excluded_minutes: float = Field(description="maintenance and probe-side failures")
    unknown_minutes: float = Field(description="time no check reported")
    credit_percentage: float = Field(description="credit owed by the tier's schedule")
    generated_at: datetime

    @classmethod
    def of(cls, r: TenantReport) -> SlaOut:
        b = r.budget
        return cls(
            tenant_id=r.tenant_id,
            tenant_name=r.tenant_name,
            tier=r.tier,
            period=PeriodOut(
                kind=r.period.kind,
                start=r.period.start,
                end=r.period.end,
                full_end=r.period.full_end,
                to_date=r.period.to_date,
                timezone=r.timezone,
            ),
            availability=r.availability_percentage,
            avg_response_time=r.avg_response_time_ms,
            p95_response_time=r.p95_response_time_ms,
            error_rate=r.error_rate_percentage,
            recovery_time=r.recovery_time_minutes,
            latency_within=None
            if r.latency_within is None
            else LatencyWithinOut(threshold_ms=r.latency_within[0], percentage=r.latency_within[1]),
            sla_compliance=r.sla_compliance,
            violations=r.violations,
            health_score=r.health.score,
            health_components=components(r.health),
            objectives=[
                ObjectiveOut(
                    objective=o.objective,
                    target=o.target,
                    actual=o.actual,
                    unit=_UNITS[o.objective],
                    met=o.met,
                )
                for o in r.compliance.objectives
            ],
            error_budget=None
            if b is None
            else BudgetOut(
                allowed_downtime_minutes=b.allowed_downtime_minutes,
                downtime_minutes=b.downtime_minutes,
                remaining_ratio=b.remaining_ratio,
                burn_rate=b.burn_rate,
                exhaustion=b.exhaustion,
                burn_alerts=burn_alerts(r),
            ),
            downtimes=[
                DowntimeOut(start=d.start, end=d.end, minutes=d.minutes, checks=list(d.checks))
                for d in r.downtimes
            ],
            excluded_minutes=r.excluded_minutes,
            unknown_minutes=r.unknown_minutes,
            credit_percentage=r.credit_percentage,
            generated_at=r.generated_at,
        )


class TenantReportOut(SlaOut):
    uptime: list[UptimeOut] = Field(description="availability per day (per hour for a day)")

    @classmethod
    def of_report(cls, r: TenantReport) -> TenantReportOut:
        return cls(
            **SlaOut.of(r).model_dump(),
            uptime=[
                UptimeOut(start=p.start, availability=p.availability_percentage) for p in r.uptime
            ],
        )


class PlatformReportOut(BaseModel):
    period: str
    generated_at: datetime
    total_tenants: int
    compliant_tenants: int
    overall_compliance: float | None = Field(
        description="percent of tenants meeting every objective"
    )
    tenants: list[SlaOut]

    @classmethod
    def of(cls, r: PlatformReport) -> PlatformReportOut:
        return cls(
            period=r.period_kind,
            generated_at=r.generated_at,
            total_tenants=len(r.tenants),
            compliant_tenants=sum(1 for t in r.tenants if t.sla_compliance),
            overall_compliance=r.overall_compliance,
            tenants=[SlaOut.of(t) for t in r.tenants],
        )


class DayOut(BaseModel):
    date: str
    availability: float | None
    avg_response_time: float | None
    p95_response_time: float | None
    error_rate: float | None
    throughput_rpm: float | None
    health_score: float
    downtime_minutes: float
    sla_compliance: bool


class TenantMetricsOut(BaseModel):
    tenant_id: str
    timezone: str
    start_date: str
    end_date: str
    days: list[DayOut]


class PlatformFiguresOut(BaseModel):
    total_tenants: int
    active_tenants: int
    total_requests_per_minute: float | None
    average_response_time: float | None = Field(description="ms")
    error_rate: float | None = Field(description="percent")


class ResourceFiguresOut(BaseModel):
    cpu_utilization: float | None
    memory_utilization: float | None
    disk_utilization: float | None = None
    network_throughput: float | None = None


class PlatformMetricsOut(BaseModel):
    timestamp: datetime
    platform_metrics: PlatformFiguresOut
    resource_metrics: ResourceFiguresOut


class TrendSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    direction: str
    change_per_week: float | None
    ols_slope_per_day: float | None
    theil_sen_slope_per_day: float | None
    cold_start: bool
    in_a_week: float | None = Field(description="the linear trend a week ahead (OLS)")
    in_a_week_low: float | None = Field(description="its 95 % prediction band")
    in_a_week_high: float | None


class ForecastSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    figure: str
    horizon_hours: int
    value: float | None
    low: float | None
    high: float | None
    peak: float | None
    cold_start: bool


class ScalingSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str = Field(description="scale_up, scale_down or maintain")
    current_replicas: int
    recommended_replicas: int
    basis: str


class AnomalySchema(BaseModel):
    figure: str
    timestamp: datetime
    value: float
    score: float


class PredictionsSchema(BaseModel):
    trend: TrendSchema
    scaling_recommendation: ScalingSchema
    capacity_forecast: list[ForecastSchema]
    potential_issues: list[str]
    anomalies: list[AnomalySchema]


class InsightsOut(BaseModel):
    tenant_id: str
    predictions: PredictionsSchema


class CreditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    month: str = Field(description="YYYY-MM, in the tenant's timezone")
    tier: str
    availability_percentage: float | None
    credit_percentage: float
    final: bool = Field(description="false while the month runs (provisional)")
    computed_at: datetime


class CreditPageOut(BaseModel):
    tenant_id: str
    items: list[CreditOut]
    next_cursor: str | None
