"""A tenant's period measured: availability, response time, error rate, recovery time,
compliance, budget, health score and credit, from what the service read (pure).

Choices, also in docs/sla.md:
- availability: the tenant is down while any of its checks is down (`combine`);
- response time: request-based from the app's latency histogram when one is configured
  and has requests in the period, else the tenant's http checks' probe durations;
- recovery time: the mean time to resolve of the tenant's incidents resolved in the
  period; without any, the mean length of the period's down runs (down to the next up),
  so a period without either has none to report (unmeasured, not a violation);
- the error budget is the availability objective's, over the whole period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from tenantwatch.domain.health_score import HealthInputs, health_score
from tenantwatch.domain.tiers import SlaTargets
from tenantwatch.sla import budget as budgets
from tenantwatch.sla.availability import Availability, Rules, Runs, Window, combine, of_runs
from tenantwatch.sla.availability import runs_of as check_runs
from tenantwatch.sla.compliance import Measured, evaluate
from tenantwatch.sla.credits import credit_percent
from tenantwatch.sla.periods import Period, slices
from tenantwatch.sla.report import Budget, Downtime, TenantReport, UptimePoint

Floats = npt.NDArray[np.float64]
_PCT = Decimal("0.0001")
_MS = Decimal("0.001")


@dataclass(frozen=True)
class CheckSeries:
    """One check's `tenantwatch_check_up` samples."""

    check: str
    ts: npt.NDArray[np.int64]
    values: Floats


@dataclass(frozen=True)
class Requests:
    """What the app's own metrics say about the period (None: not configured or no data)."""

    avg_ms: float | None = None
    p95_ms: float | None = None
    within: tuple[float, float | None] | None = None  # (threshold ms, share 0-1)
    error_ratio: float | None = None
    total: float | None = None  # requests in the period
    cpu_pct: float | None = None
    memory_pct: float | None = None


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    tier: str
    timezone: str
    targets: SlaTargets
    credit_schedule: tuple[tuple[Decimal, Decimal], ...]


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _at(t_ms: float) -> datetime:
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC)


def _decimal(value: float | None, quantum: Decimal) -> Decimal | None:
    if value is None or not np.isfinite(value):
        return None
    return Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_EVEN)


def _percent(got: Availability) -> Decimal | None:
    """up / (up + down) in percent, exact over whole ms, rounded down (never overstated)."""
    measured = got.up_ms + got.down_ms
    if measured <= 0:
        return None
    exact = Decimal(round(got.up_ms)) * 100 / Decimal(round(measured))
    return exact.quantize(_PCT, rounding=ROUND_DOWN)


def _downtimes(avail: Availability, per_check: Sequence[tuple[str, Runs]]) -> list[Downtime]:
    out = []
    for start, end in avail.downtimes:
        down = []
        for check, runs in per_check:
            part = runs.within((start, end))
            if len(part) and bool((part.values < 1).any()):
                down.append(check)
        out.append(Downtime(_at(start), _at(end), tuple(down)))
    return out


def _budget(
    avail: Availability, target_pct: Decimal, period: Period, now: datetime
) -> Budget | None:
    ratio = avail.ratio
    if ratio is None:
        return None
    target = float(target_pct) / 100
    allowed_s = budgets.allowed_downtime_s(target, period.full_seconds)
    spent_s = avail.down_ms / 1000
    remaining = 1 - spent_s / allowed_s
    rate = budgets.burn_rate(1 - ratio, target)
    left_s = budgets.forecast_exhaustion_s(remaining, period.full_seconds, rate)
    exhaustion = None
    if np.isfinite(left_s):
        exhaustion = now if left_s <= 0 else now + timedelta(seconds=left_s)
    return Budget(
        allowed_downtime_minutes=Decimal(repr(allowed_s / 60)).quantize(Decimal("0.01")),
        downtime_minutes=Decimal(repr(spent_s / 60)).quantize(Decimal("0.01")),
        remaining_ratio=Decimal(repr(remaining)).quantize(_PCT),
        burn_rate=Decimal(repr(rate)).quantize(_PCT),
        exhaustion=exhaustion,
    )


def _uptime(
    combined: Runs, period: Period, rules: Rules, excluded: Sequence[Window], zone: ZoneInfo
) -> list[UptimePoint]:
    out = []
    for start, end in slices(period, zone):
        got = of_runs(combined, (ms(start), ms(end)), rules=rules, excluded=excluded)
        out.append(UptimePoint(start, _percent(got)))
    return out


def measure(
    tenant: Tenant,
    period: Period,
    up: Sequence[CheckSeries],
    durations_s: Floats,
    requests: Requests,
    *,
    rules: Rules,
    excluded: Sequence[Window],
    now: datetime,
    detail: bool = True,
    incident_recoveries: Sequence[float] = (),
) -> TenantReport:
    """The tenant's report for the period (`detail`: with the uptime chart's slices)."""
    window = (ms(period.start), ms(period.end))
    gap = round(rules.max_gap_s * 1000)
    per_check = [(s.check, check_runs(s.ts, s.values, window, gap)) for s in up]
    combined = combine([r for _, r in per_check])
    avail = of_runs(combined, window, rules=rules, excluded=excluded)
    availability_pct = _percent(avail)
    downtimes = _downtimes(avail, per_check)
    recovery = None
    if incident_recoveries:  # incidents resolved in the period are the source
        recovery = _decimal(sum(incident_recoveries) / len(incident_recoveries), _MS)
    elif downtimes:
        recovery = _decimal(sum(float(d.minutes) for d in downtimes) / len(downtimes), _MS)
    avg_ms, p95_ms = requests.avg_ms, requests.p95_ms
    if avg_ms is None and len(durations_s):
        avg_ms = float(durations_s.mean()) * 1000
    if p95_ms is None and len(durations_s):
        p95_ms = float(np.percentile(durations_s, 95)) * 1000
    error_pct = None if requests.error_ratio is None else requests.error_ratio * 100
    measured = Measured(
        availability_percentage=availability_pct,
        response_time_ms=_decimal(avg_ms, _MS),
        error_rate_percentage=_decimal(error_pct, _PCT),
        recovery_time_minutes=recovery,
    )
    health = health_score(
        HealthInputs(
            uptime=avail.ratio or 0.0,
            response_time_p95_s=(p95_ms or 0.0) / 1000,
            error_rate_pct=error_pct or 0.0,
            cpu_pct=requests.cpu_pct or 0.0,
            memory_pct=requests.memory_pct or 0.0,
        )
    )
    within = None
    if requests.within is not None:
        threshold, share = requests.within
        within = (
            Decimal(repr(threshold)).normalize(),
            None if share is None else _decimal(share * 100, _PCT),
        )
    zone = ZoneInfo(tenant.timezone)
    return TenantReport(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        tier=tenant.tier,
        timezone=tenant.timezone,
        period=period,
        generated_at=now,
        availability_percentage=availability_pct,
        avg_response_time_ms=measured.response_time_ms,
        p95_response_time_ms=_decimal(p95_ms, _MS),
        error_rate_percentage=measured.error_rate_percentage,
        recovery_time_minutes=recovery,
        latency_within=within,
        compliance=evaluate(tenant.targets, measured),
        health=health,
        budget=_budget(avail, tenant.targets.availability_percentage, period, now),
        downtimes=tuple(downtimes),
        uptime=tuple(_uptime(combined, period, rules, excluded, zone)) if detail else (),
        excluded_minutes=Decimal(repr(avail.excluded_ms / 60000)).quantize(Decimal("0.01")),
        unknown_minutes=Decimal(repr(avail.unknown_ms / 60000)).quantize(Decimal("0.01")),
        credit_percentage=Decimal(0)
        if availability_pct is None
        else credit_percent(availability_pct, tenant.credit_schedule),
        credit_schedule=tenant.credit_schedule,
    )


def canary_windows(series: Sequence[CheckSeries], window: Window, max_gap_s: float) -> list[Window]:
    """When a probe canary (a check of a known-good target) was down: the probing side
    failed, so the time counts against nobody."""
    runs = combine([check_runs(s.ts, s.values, window, round(max_gap_s * 1000)) for s in series])
    down = runs.values < 1
    return [(int(s), int(e)) for s, e in zip(runs.starts[down], runs.ends[down], strict=True)]
