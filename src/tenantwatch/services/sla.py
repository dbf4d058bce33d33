"""SLA use cases: a tenant's period, every tenant's (platform report), read from the metric
store and the app's metrics, measured by the sla wing's pure core (sla/measure.py).

Check results are read raw (every `tenantwatch_check_up` sample of the period, so
backfilled history counts exactly); the app's SLIs are PromQL over `$__range` (the
period) with the tenant's `tenant="<id>"` matcher forced onto every selector.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from tenantwatch.domain.apikeys import Principal
from tenantwatch.domain.tenants import Tenant
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.backend import QueryBackend
from tenantwatch.promql.model import (
    Matcher,
    PromQLError,
    ScalarResult,
    SeriesData,
    VectorResult,
    label_value,
)
from tenantwatch.services.errors import Invalid
from tenantwatch.services.tenants import TenantService
from tenantwatch.sla import measure as m
from tenantwatch.sla import periods
from tenantwatch.sla.availability import Rules, Window
from tenantwatch.sla.credits import DEFAULT_SCHEDULE
from tenantwatch.sla.latency import quantile, share_within
from tenantwatch.sla.maintenance import Maintenance, windows
from tenantwatch.sla.report import PlatformReport, TenantReport

RawReader = Callable[[Sequence[Matcher], int, int], Awaitable[list[SeriesData]]]
# the ids of each tenant's critical checks (one tenant's, or every tenant's for None)
CriticalChecks = Callable[[str | None], Awaitable[dict[str, set[str]]]]
# minutes to resolve of each of a tenant's incidents resolved in [start, end)
Recoveries = Callable[[str, datetime, datetime], Awaitable[list[float]]]


async def no_incidents(tenant_id: str, start: datetime, end: datetime) -> list[float]:
    return []


Progress = Callable[[int, int], None]
UP = "tenantwatch_check_up"
DURATION = "tenantwatch_check_duration_seconds"
QUERY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Slis:
    errors: str
    total: str
    histogram: str | None = None
    within_ms: float | None = None
    cpu_percent: str | None = None
    memory_percent: str | None = None


async def no_critical_checks(tenant_id: str | None) -> dict[str, set[str]]:
    return {}


@dataclass(frozen=True)
class SlaSettings:
    rules: Rules = field(default_factory=Rules)
    # "critical": a tenant with critical checks is measured by those alone (a periodic
    # job's heartbeat is not its customers' availability); "all": by every check
    checks: str = "critical"
    maintenance: tuple[Maintenance, ...] = ()
    canaries: tuple[str, ...] = ()
    slis: Slis = field(
        default_factory=lambda: Slis(
            'sum(increase({__name__=~".+_requests_total",status=~"error|5.."}[$__range]))',
            'sum(increase({__name__=~".+_requests_total"}[$__range]))',
        )
    )
    credits: dict[str, tuple[tuple[Decimal, Decimal], ...]] = field(default_factory=dict)
    default_credits: tuple[tuple[Decimal, Decimal], ...] = DEFAULT_SCHEDULE

    def credit_schedule(self, tier: str) -> tuple[tuple[Decimal, Decimal], ...]:
        return self.credits.get(tier, self.default_credits)


def _range(seconds: float) -> str:
    return f"{max(1, math.ceil(seconds))}s"


def scalar(result: VectorResult | ScalarResult | object) -> float | None:
    """The single number a `sum(...)` answers; None when there is no series."""
    if isinstance(result, ScalarResult):
        return result.v
    if isinstance(result, VectorResult) and result.samples:
        return float(sum(s.v for s in result.samples))
    return None


class SlaService:
    def __init__(
        self,
        tenants: TenantService,
        tiers: TierCatalog,
        raw: RawReader,
        queries: QueryBackend,
        settings: SlaSettings,
        *,
        critical: CriticalChecks = no_critical_checks,
        recoveries: Recoveries = no_incidents,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.critical = critical
        self.recoveries = recoveries
        self.tenants = tenants
        self.tiers = tiers
        self.raw = raw
        self.queries = queries
        self.settings = settings
        self.clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), tz=UTC)

    def period_of(self, tenant: Tenant, kind: str, day: date | None) -> periods.Period:
        if day is not None and day < periods.EARLIEST:
            raise Invalid(f"give a date from {periods.EARLIEST.isoformat()} on", field="date")
        try:
            return periods.select(kind, day, self.now(), ZoneInfo(tenant.timezone))
        except OverflowError as exc:  # the period after 31 December 9999
            raise Invalid("give a date before the year 9999", field="date") from exc
        except ValueError as exc:
            about_period = str(exc).startswith(("unknown period", "a rolling window"))
            raise Invalid(str(exc), field="period" if about_period else "date") from exc

    def facts(self, tenant: Tenant) -> m.Tenant:
        return m.Tenant(
            tenant.id,
            tenant.name,
            tenant.tier,
            tenant.timezone,
            self.tiers.effective_sla(tenant.tier, tenant.sla_overrides),
            self.settings.credit_schedule(tenant.tier),
        )

    async def tenant_report(
        self, who: Principal, tenant_id: str, kind: str = "monthly", day: date | None = None
    ) -> TenantReport:
        """One tenant's period (404 for a tenant `who` may not see)."""
        tenant = await self.tenants.get(who, tenant_id)
        return await self.measure(tenant, self.period_of(tenant, kind, day), detail=True)

    async def measure(
        self, tenant: Tenant, period: periods.Period, *, detail: bool = False
    ) -> TenantReport:
        """One tenant's period, its critical checks and the canaries looked up."""
        canaries = await self._canary_windows(period)
        critical = (await self.critical(tenant.id)).get(tenant.id, set())
        return await self.measure_period(tenant, period, canaries, detail=detail, critical=critical)

    async def platform_report(
        self,
        who: Principal,
        kind: str = "monthly",
        day: date | None = None,
        *,
        progress: Progress | None = None,
        detail: bool = False,
    ) -> PlatformReport:
        """Every active tenant `who` sees (a suspended one is owed nothing), each over
        the period in its own timezone."""
        tenants = await self.tenants.all(who, status="active")
        critical = await self.critical(None) if tenants else {}
        reports = []
        canary_cache: dict[tuple[datetime, datetime], list[Window]] = {}
        for i, tenant in enumerate(tenants):
            period = self.period_of(tenant, kind, day)
            key = (period.start, period.end)
            if key not in canary_cache:
                canary_cache[key] = await self._canary_windows(period)
            reports.append(
                await self.measure_period(
                    tenant,
                    period,
                    canary_cache[key],
                    detail=detail,
                    critical=critical.get(tenant.id, set()),
                )
            )
            if progress is not None:
                progress(i + 1, len(tenants))
        return PlatformReport(kind, self.now(), reports)

    async def _canary_windows(self, period: periods.Period) -> list[Window]:
        if not self.settings.canaries:
            return []
        window = (m.ms(period.start), m.ms(period.end))
        pattern = "|".join(self.settings.canaries)
        data = await self._read(
            [Matcher.of("__name__", "=", UP), Matcher.of("check", "=~", pattern)], window
        )
        series = [m.CheckSeries(label_value(d.labels, "check"), d.ts, d.vals) for d in data]
        return m.canary_windows(series, window, self.settings.rules.max_gap_s)

    async def _read(self, matchers: list[Matcher], window: Window) -> list[SeriesData]:
        """Raw samples from max_gap before the window (a state held into it) to its end."""
        lead = round(self.settings.rules.max_gap_s * 1000)
        return await self.raw(matchers, window[0] - lead, window[1])

    async def measure_period(
        self,
        tenant: Tenant,
        period: periods.Period,
        canaries: list[Window],
        *,
        detail: bool,
        critical: set[str] | None = None,
    ) -> TenantReport:
        """The tenant's period; `critical`: its critical checks' ids (see SlaSettings)."""
        window = (m.ms(period.start), m.ms(period.end))
        own = Matcher.of("tenant", "=", tenant.id)
        up = await self._read([Matcher.of("__name__", "=", UP), own], window)
        if critical and self.settings.checks == "critical":
            up = [d for d in up if label_value(d.labels, "check") in critical]
        timed = await self.raw(
            [Matcher.of("__name__", "=", DURATION), own, Matcher.of("kind", "=", "http")],
            window[0],
            window[1] - 1,
        )
        durations = np.concatenate([d.vals for d in timed]) if timed else np.empty(0)
        durations = durations[np.isfinite(durations)]
        excluded = [
            *canaries,
            *windows(tenant.id, ZoneInfo(tenant.timezone), window, self.settings.maintenance),
        ]
        return m.measure(
            self.facts(tenant),
            period,
            [m.CheckSeries(label_value(d.labels, "check"), d.ts, d.vals) for d in up],
            durations,
            await self.requests(tenant, period),
            rules=self.settings.rules,
            excluded=excluded,
            now=self.now(),
            detail=detail,
            incident_recoveries=await self.recoveries(tenant.id, period.start, period.end),
        )

    async def _query(self, expr: str, tenant_id: str, period: periods.Period) -> float | None:
        text = expr.replace("$__range", _range(period.seconds))
        try:
            result = await self.queries.instant(
                text,
                m.ms(period.end),
                enforce=[Matcher.of("tenant", "=", tenant_id)],
                timeout_s=QUERY_TIMEOUT_S,
            )
        except PromQLError:
            return None  # a metric the app does not expose, a timeout: unmeasured
        value = scalar(result.value)
        return None if value is None or math.isnan(value) else value

    async def requests(self, tenant: Tenant, period: periods.Period) -> m.Requests:
        """The app's SLIs for the tenant over the period (None where not measured)."""
        if period.seconds < 1:
            return m.Requests()
        slis = self.settings.slis
        errors, total = await asyncio.gather(
            self._query(slis.errors, tenant.id, period), self._query(slis.total, tenant.id, period)
        )
        error_ratio = None
        if total is not None and total > 0:
            error_ratio = (errors or 0.0) / total
        avg_ms = p95_ms = None
        within: tuple[float, float | None] | None = None
        if slis.histogram is not None:
            avg_ms, p95_ms, within = await self._latency(tenant, period, slis.histogram)
        cpu = await self._query(slis.cpu_percent, tenant.id, period) if slis.cpu_percent else None
        mem = (
            await self._query(slis.memory_percent, tenant.id, period)
            if slis.memory_percent
            else None
        )
        return m.Requests(avg_ms, p95_ms, within, error_ratio, total, cpu, mem)

    async def _latency(
        self, tenant: Tenant, period: periods.Period, name: str
    ) -> tuple[float | None, float | None, tuple[float, float | None] | None]:
        span = _range(period.seconds)
        threshold = self.settings.slis.within_ms or float(
            self.tiers.effective_sla(tenant.tier, tenant.sla_overrides).response_time_ms
        )
        try:
            result = await self.queries.instant(
                f"sum by (le) (increase({name}_bucket[{span}]))",
                m.ms(period.end),
                enforce=[Matcher.of("tenant", "=", tenant.id)],
                timeout_s=QUERY_TIMEOUT_S,
            )
        except PromQLError:
            return None, None, None
        value = result.value
        if not isinstance(value, VectorResult) or not value.samples:
            return None, None, None
        buckets = []
        for s in value.samples:
            le = label_value(s.labels, "le")
            try:
                buckets.append((float(le), s.v))
            except ValueError:
                continue
        if not buckets or not any(math.isinf(b) for b, _ in buckets):
            return None, None, None
        total = max(c for _, c in buckets)
        sums = await self._query(f"sum(increase({name}_sum[$__range]))", tenant.id, period)
        avg_ms = None if not total or sums is None else sums / total * 1000
        p95 = quantile(0.95, buckets) if total else math.nan
        share = share_within(buckets, threshold / 1000) if total else None
        return avg_ms, None if math.isnan(p95) else p95 * 1000, (threshold, share)
