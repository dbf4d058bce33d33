"""A tenant's health from its checks: healthy / degraded / unhealthy and a 0-100 score.

Rules (also in docs/health-checks.md):
- unhealthy: a check marked `critical` is down, or at least half of the tenant's checks
  (with a known state) are down;
- degraded: any check is down, or failing but not yet past its failure threshold, or
  an http check slower than the tenant tier's SLA response time (the tier's target is
  an API response time: a heartbeat job's run time or a database query is not one);
- healthy: otherwise; a tenant without any checks that ran is "unknown".
Score: the mean over checks with a known state of 100 (up and fine), 50 (up but failing
below its threshold, or slower than the SLA response time) or 0 (down), rounded to 0.1.
The average response time is over probes that time a round trip (not heartbeat jobs'
run times, nor python checks').
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tenantwatch.domain.checks import Check, CheckKind, CheckState, CheckStatus

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

    def score(self, response_time_ms: int) -> float:
        if self.state.status is CheckStatus.DOWN:
            return 0.0
        if self.state.failures > 0 or self.slow(response_time_ms):
            return 50.0
        return 100.0


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
    score = round(sum(c.score(response_time_ms) for c in known) / len(known), 1) if known else None
    durations = [
        c.state.last_duration_s
        for c in known
        if c.state.last_duration_s is not None and c.check.kind in ROUND_TRIP_KINDS
    ]
    return TenantHealth(
        tenant_id=tenant_id,
        status=status,
        score=score,
        checks_total=len(checks),
        checks_up=sum(1 for c in known if c.state.status is CheckStatus.UP),
        checks_down=len(down),
        reasons=tuple(reasons),
        avg_response_time_ms=round(sum(durations) / len(durations) * 1000, 3)
        if durations
        else None,
        resources=resources(checks),
        sla_response_time_ms=response_time_ms,
    )


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
