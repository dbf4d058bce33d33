"""Seed 002's performance APIs over the SLA engine: a tenant's daily metrics between two
dates, its predictive insights, and the platform snapshot (`collect_platform_metrics`)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from tenantwatch.domain.apikeys import Principal
from tenantwatch.domain.tenants import TenantStatus
from tenantwatch.promql.model import Matcher, MatrixResult, PromQLError
from tenantwatch.services.errors import Invalid
from tenantwatch.services.sla import QUERY_TIMEOUT_S, SlaService, scalar
from tenantwatch.sla import insights as ins
from tenantwatch.sla import measure as m
from tenantwatch.sla.periods import EARLIEST, Period, midnight
from tenantwatch.sla.report import TenantReport

MAX_DAYS = 92
HISTORY_DAYS = 30
SNAPSHOT_WINDOW = "5m"


@dataclass(frozen=True)
class DayMetrics:
    day: date
    report: TenantReport
    throughput_rpm: float | None


@dataclass(frozen=True)
class PlatformSnapshot:
    timestamp: datetime
    total_tenants: int
    active_tenants: int
    total_requests_per_minute: float | None
    average_response_time: float | None  # ms
    error_rate: float | None  # percent
    cpu_utilization: float | None
    memory_utilization: float | None


class SlaInsights:
    def __init__(self, sla: SlaService) -> None:
        self.sla = sla

    async def daily(
        self, who: Principal, tenant_id: str, start: date, end: date
    ) -> list[DayMetrics]:
        """Each local day from start to end (inclusive) measured as a daily period."""
        tenant = await self.sla.tenants.get(who, tenant_id)
        if start < EARLIEST:
            raise Invalid(f"give a start_date from {EARLIEST.isoformat()} on", field="start_date")
        if end < start:
            raise Invalid("end_date comes before start_date", field="end_date")
        if (end - start).days >= MAX_DAYS:
            raise Invalid(f"ask for at most {MAX_DAYS} days at a time", field="end_date")
        zone = ZoneInfo(tenant.timezone)
        now = self.sla.now()
        out = []
        day = start
        while day <= end:
            begin = midnight(day, zone)
            if begin >= now:
                break
            finish = midnight(day + timedelta(days=1), zone)
            period = Period("daily", begin, min(finish, now), finish)
            report = await self.sla.measure(tenant, period)
            minutes = period.seconds / 60
            total = (await self.sla.requests(tenant, period)).total
            rpm = None if total is None or minutes <= 0 else total / minutes
            out.append(DayMetrics(day, report, rpm))
            day += timedelta(days=1)
        return out

    async def _hourly(self, expr: str, tenant_id: str, end_ms: int) -> ins.Hourly:
        start = end_ms - HISTORY_DAYS * 86400_000
        try:
            result = await self.sla.queries.range(
                expr.replace("$__range", "1h"),
                start,
                end_ms,
                3600_000,
                enforce=[Matcher.of("tenant", "=", tenant_id)],
                timeout_s=QUERY_TIMEOUT_S,
            )
        except PromQLError:
            return ins.Hourly(np.empty(0), np.empty(0))
        if not isinstance(result.value, MatrixResult) or not result.value.series:
            return ins.Hourly(np.empty(0), np.empty(0))
        points: dict[int, float] = {}
        for series in result.value.series:
            for t, v in series.points:
                points[t] = points.get(t, 0.0) + v
        ts = np.array(sorted(points), dtype=np.float64)
        return ins.Hourly(ts / 1000, np.array([points[int(t)] for t in ts]))

    async def predictions(self, who: Principal, tenant_id: str) -> ins.Insights:
        tenant = await self.sla.tenants.get(who, tenant_id)
        slis = self.sla.settings.slis
        end = m.ms(self.sla.now())
        requests, errors = await asyncio.gather(
            self._hourly(slis.total, tenant.id, end), self._hourly(slis.errors, tenant.id, end)
        )
        cpu = await self._hourly(slis.cpu_percent, tenant.id, end) if slis.cpu_percent else None
        error_rate = _ratio_pct(errors, requests)
        month = await self.sla.tenant_report(who, tenant_id, "monthly", None)
        left_h = (month.period.full_end - month.period.end).total_seconds() / 3600
        exhaustion_h = None
        if month.budget is not None and month.budget.exhaustion is not None:
            exhaustion_h = (month.budget.exhaustion - month.generated_at).total_seconds() / 3600
        return ins.insights(
            requests,
            error_rate,
            cpu,
            error_target_pct=float(self.sla.facts(tenant).targets.error_rate_percentage),
            budget_exhaustion_hours=exhaustion_h,
            period_left_hours=left_h,
        )

    async def _platform_query(self, expr: str, who: Principal, t: int) -> float | None:
        enforce = [] if who.tenant_id is None else [Matcher.of("tenant", "=", who.tenant_id)]
        try:
            result = await self.sla.queries.instant(
                expr.replace("$__range", SNAPSHOT_WINDOW),
                t,
                enforce=enforce,
                timeout_s=QUERY_TIMEOUT_S,
            )
        except PromQLError:
            return None
        value = scalar(result.value)
        return None if value is None or math.isnan(value) else value

    async def platform(self, who: Principal) -> PlatformSnapshot:
        """Seed 002's collect_platform_metrics over the last five minutes."""
        tenants = await self.sla.tenants.all(who)
        now = self.sla.now()
        t = m.ms(now)
        slis = self.sla.settings.slis
        errors, total = await asyncio.gather(
            self._platform_query(slis.errors, who, t), self._platform_query(slis.total, who, t)
        )
        if slis.histogram:
            name = slis.histogram
            avg = await self._platform_query(
                f"sum(rate({name}_sum[{SNAPSHOT_WINDOW}])) / sum(rate({name}_count[{SNAPSHOT_WINDOW}]))",
                who,
                t,
            )
        else:
            avg = await self._platform_query(
                f'avg(avg_over_time(tenantwatch_check_duration_seconds{{kind="http"}}[{SNAPSHOT_WINDOW}]))',
                who,
                t,
            )
        cpu = await self._platform_query(slis.cpu_percent, who, t) if slis.cpu_percent else None
        memory = (
            await self._platform_query(slis.memory_percent, who, t) if slis.memory_percent else None
        )
        return PlatformSnapshot(
            timestamp=now,
            total_tenants=len(tenants),
            active_tenants=sum(1 for x in tenants if x.status is TenantStatus.ACTIVE),
            total_requests_per_minute=None if total is None else total / 5,
            average_response_time=None if avg is None else avg * 1000,
            error_rate=None if not total else (errors or 0.0) / total * 100,
            cpu_utilization=cpu,
            memory_utilization=memory,
        )


def _ratio_pct(errors: ins.Hourly, totals: ins.Hourly) -> ins.Hourly:
    """Hourly error rate in percent, on the hours with requests."""
    if not len(totals.t):
        return totals
    bad = dict(zip(errors.t.tolist(), errors.v.tolist(), strict=True))
    rates = [
        bad.get(t, 0.0) / v * 100 if v > 0 else math.nan
        for t, v in zip(totals.t.tolist(), totals.v.tolist(), strict=True)
    ]
    return ins.Hourly(totals.t, np.array(rates))
