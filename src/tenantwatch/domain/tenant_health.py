"""A tenant's health from its checks: healthy / degraded / unhealthy and a 0-100 score.

Rules (also in docs/health-checks.md):
- unhealthy: a check marked `critical` is down, or at least half of the tenant's checks
  (with a known state) are down;
- degraded: any check is down, or failing but not yet past its failure threshold, or
  an http check slower than the tenant tier's SLA response time (the tier's target is
  an API response time: a heartbeat job's run time or a database query is not one);
- healthy: otherwise; a tenant without any checks that ran is "unknown".
Score: seed 000's weighted health score (domain/health_score.py), fed with what the checks
with a known state tell now:
- uptime: the share of them that are up;
- p95 response time: the nearest-rank 95th percentile of the last durations of those
  that time a round trip (not heartbeat jobs' run times, nor python checks'), 0 without any;
- error rate: the percent of them that are down, or up but failing (their latest run
  failed, the failure threshold not yet reached);
- CPU and memory: the tenant's `cpu_percent` and `memory_percent` resource figures, 0
  when no check reports them (connection or client counts are no CPU or memory use).
An unknown tenant has no score and no components. The average response time is over the
same round-trip durations as the p95.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tenantwatch.domain.checks import Check, CheckKind, CheckState, CheckStatus
from tenantwatch.domain.health_score import Component, HealthInputs, HealthScore, health_score

# figures checks report that roll up into a tenant's resource usage
RESOURCE_FIGURES = (
    "connections_in_use",
    "max_connections",
    "connections_used_ratio",
    "used_memory",
    "connected_clients",
    "cpu_percent",
    "memory_percent",
    "disk_percent",
)


# what the tier's response-time target (an API's) is compared with
SLA_TIMED_KINDS = frozenset({CheckKind.HTTP})
# what times a round trip: a heartbeat's duration is its job's run time, a python check's
# whatever its function does
ROUND_TRIP_KINDS = frozenset(CheckKind) - {CheckKind.HEARTBEAT, CheckKind.PYTHON}


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CheckHealth:
    check: Check
    state: CheckState
    details: Mapping[str, Any] = field(default_factory=dict)

    def slow(self, response_time_ms: int) -> bool:
        """Slower than the tier's API response-time target (http checks only)."""
        d = self.state.last_duration_s
        timed = self.check.kind in SLA_TIMED_KINDS
        return timed and d is not None and d * 1000 > response_time_ms

    @property
    def erring(self) -> bool:
        """Counted in the error rate: down, or failing below its threshold."""
        return self.state.status is CheckStatus.DOWN or self.state.failures > 0


@dataclass(frozen=True, slots=True)
class TenantHealth:
    tenant_id: str
    status: HealthStatus
    score: float | None
    checks_total: int
    checks_up: int
    checks_down: int
    reasons: tuple[str, ...]
    avg_response_time_ms: float | None
    resources: Mapping[str, float]
    sla_response_time_ms: int = 500
    components: tuple[Component, ...] = ()  # the score's parts; none while unknown


def tenant_health(
    tenant_id: str, checks: Sequence[CheckHealth], response_time_ms: int
) -> TenantHealth:
    """Roll the tenant's checks up into one verdict (see the module docstring for the rules)."""
    known = [c for c in checks if c.state.status is not CheckStatus.UNKNOWN]
    down = [c for c in known if c.state.status is CheckStatus.DOWN]
    reasons: list[str] = []
    for c in down:
        why = c.state.last_error or c.state.reason or "down"
        reasons.append(f"{c.check.id} is down: {why}")
    critical_down = [c for c in down if c.check.critical]
    failing = [c for c in known if c.state.status is CheckStatus.UP and c.state.failures > 0]
    slow = [c for c in known if c.state.status is CheckStatus.UP and c.slow(response_time_ms)]
    reasons += [f"{c.check.id} failing ({c.state.failures} in a row)" for c in failing]
    reasons += [
        f"{c.check.id} slower than {response_time_ms} ms "
        f"({(c.state.last_duration_s or 0) * 1000:.0f} ms)"
        for c in slow
    ]
    if not known:
        status = HealthStatus.UNKNOWN
    elif critical_down or len(down) * 2 >= len(known):
        status = HealthStatus.UNHEALTHY
    elif down or failing or slow:
        status = HealthStatus.DEGRADED
    else:
        status = HealthStatus.HEALTHY
    durations = [
        c.state.last_duration_s
        for c in known
        if c.state.last_duration_s is not None and c.check.kind in ROUND_TRIP_KINDS
    ]
    figures = resources(checks)
    scored = _score(known, durations, figures) if known else None
    return TenantHealth(
        tenant_id=tenant_id,
        status=status,
        score=scored.score if scored else None,
        checks_total=len(checks),
        checks_up=_up(known),
        checks_down=len(down),
        reasons=tuple(reasons),
        avg_response_time_ms=round(sum(durations) / len(durations) * 1000, 3)
        if durations
        else None,
        resources=figures,
        sla_response_time_ms=response_time_ms,
        components=scored.components if scored else (),
    )


def _up(checks: Sequence[CheckHealth]) -> int:
    return sum(1 for c in checks if c.state.status is CheckStatus.UP)


def _score(
    known: Sequence[CheckHealth], durations: Sequence[float], figures: Mapping[str, float]
) -> HealthScore:
    """Seed 000's score of checks with a known state (at least one), the tenant's round-trip
    durations and its resource figures."""
    return health_score(
        HealthInputs(
            uptime=_up(known) / len(known),
            response_time_p95_s=p95(durations),
            error_rate_pct=100 * sum(1 for c in known if c.erring) / len(known),
            cpu_pct=figures.get("cpu_percent", 0.0),
            memory_pct=figures.get("memory_percent", 0.0),
        )
    )


def p95(values: Sequence[float]) -> float:
    """The nearest-rank 95th percentile (the smallest value at least 95% of the values do
    not exceed); 0 without values."""
    if not values:
        return 0.0
    rank = -(-95 * len(values) // 100)  # ceil(0.95 n) in integers, free of float error
    return sorted(values)[rank - 1]


def resources(checks: Sequence[CheckHealth]) -> dict[str, float]:
    """The resource figures the tenant's checks reported (the last value of each wins)."""
    out: dict[str, float] = {}
    for c in checks:
        for name in RESOURCE_FIGURES:
            value = c.details.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[name] = float(value)
    return out


def platform_status(statuses: Sequence[HealthStatus]) -> HealthStatus:
    """The platform is unhealthy if any tenant is, degraded if any is, healthy otherwise."""
    if HealthStatus.UNHEALTHY in statuses:
        return HealthStatus.UNHEALTHY
    if HealthStatus.DEGRADED in statuses:
        return HealthStatus.DEGRADED
    if HealthStatus.HEALTHY in statuses:
        return HealthStatus.HEALTHY
    return HealthStatus.UNKNOWN
