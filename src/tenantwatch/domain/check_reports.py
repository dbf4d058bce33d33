"""SLA verdicts on check runs and tenants' health: a tenant's run report, the platform's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tenantwatch.domain.checks import CheckKind, CheckRun
from tenantwatch.domain.tenant_health import HealthStatus, TenantHealth, platform_status

# seed 002's check categories (HealthCheckType) by check kind
CATEGORY = {
    CheckKind.HTTP: "http_endpoint",
    CheckKind.POSTGRES: "database",
    CheckKind.REDIS: "redis",
    CheckKind.TCP: "external_apis",
    CheckKind.DNS: "external_apis",
    CheckKind.TLS: "external_apis",
    CheckKind.PYTHON: "business_logic",
    CheckKind.HEARTBEAT: "heartbeat",
}
SEED_CATEGORIES = ("http_endpoint", "database", "redis", "kubernetes", "external_apis")


@dataclass(frozen=True, slots=True)
class RunReport:
    """A tenant's checks run at once: each category's status (None: no check of it), the
    average response time of the probed ones and the SLA violations."""

    categories: Mapping[str, str | None]
    response_time_ms: float | None
    violations: tuple[str, ...]

    @property
    def sla_compliant(self) -> bool:
        return not self.violations


def _category_status(runs: Sequence[CheckRun]) -> str:
    ok = sum(1 for r in runs if r.ok)
    if ok == len(runs):
        return "healthy"
    return "unhealthy" if ok == 0 else "degraded"


def run_report(runs: Sequence[CheckRun], limit_ms: int) -> RunReport:
    """Judge runs against the tier's response time: every failed run is a violation, and so
    is an average response time over `limit_ms` (heartbeats are not timed)."""
    by_category: dict[str, list[CheckRun]] = {}
    for r in runs:
        by_category.setdefault(CATEGORY[r.kind], []).append(r)
    categories: dict[str, str | None] = {c: None for c in SEED_CATEGORIES}
    categories.update({c: _category_status(rs) for c, rs in by_category.items()})
    violations = [f"{r.check_id}: {r.error}" for r in runs if not r.ok]
    timed = [r.duration_s * 1000 for r in runs if r.kind is not CheckKind.HEARTBEAT]
    avg = round(sum(timed) / len(timed), 3) if timed else None
    if avg is not None and avg > limit_ms:
        violations.append(f"average response time {avg:.0f} ms is over the tier's {limit_ms} ms")
    return RunReport(categories, avg, tuple(violations))


@dataclass(frozen=True, slots=True)
class PlatformReport:
    """Every visible tenant's health rolled up; `worst_first` orders them by score."""

    status: HealthStatus
    total: int
    healthy: int
    degraded: int
    unhealthy: int
    unknown: int
    average_score: float | None  # mean of the known tenants' scores, to two decimals
    sla_compliance: float  # percent of tenants that are healthy
    worst_first: tuple[TenantHealth, ...]


def platform_report(healths: Sequence[TenantHealth]) -> PlatformReport:
    statuses = [h.status for h in healths]
    scores = [h.score for h in healths if h.score is not None]
    worst_first = sorted(
        healths, key=lambda h: (h.score if h.score is not None else 101.0, h.tenant_id)
    )
    healthy = statuses.count(HealthStatus.HEALTHY)
    return PlatformReport(
        status=platform_status(statuses),
        total=len(healths),
        healthy=healthy,
        degraded=statuses.count(HealthStatus.DEGRADED),
        unhealthy=statuses.count(HealthStatus.UNHEALTHY),
        unknown=statuses.count(HealthStatus.UNKNOWN),
        average_score=round(sum(scores) / len(scores), 2) if scores else None,
        sla_compliance=round(100 * healthy / len(healths), 2) if healths else 0.0,
        worst_first=tuple(worst_first),
    )


def run_sla_compliant(run: CheckRun, health: TenantHealth | None) -> bool:
    """A run meets the SLA when it passed within its tenant tier's response time."""
    limit = float(health.sla_response_time_ms) if health is not None else float("inf")
    return run.ok and run.duration_s * 1000 <= limit
