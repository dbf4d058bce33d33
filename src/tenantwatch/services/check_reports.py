"""SLA reports on checks: a tenant's checks run now, the platform, the health dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tenantwatch.domain.apikeys import Principal
from tenantwatch.domain.check_reports import (
    PlatformReport,
    RunReport,
    platform_report,
    run_report,
    run_sla_compliant,
)
from tenantwatch.domain.checks import CheckRun
from tenantwatch.domain.tenant_health import TenantHealth
from tenantwatch.services.checks import CheckService

DASHBOARD_RUNS = 20  # the latest runs of the last hour on the dashboard


@dataclass(frozen=True, slots=True)
class TenantRunReport:
    """A tenant's checks run at once, its health after them and the SLA verdict."""

    health: TenantHealth
    runs: tuple[CheckRun, ...]
    report: RunReport


@dataclass(frozen=True, slots=True)
class DashboardReport:
    platform: PlatformReport
    recent: tuple[tuple[CheckRun, bool], ...]  # the latest runs, with SLA compliance


async def tenant_run_report(
    checks: CheckService, who: Principal, tenant_id: str, runs: Sequence[CheckRun]
) -> TenantRunReport:
    """The SLA verdict on runs of a tenant's checks, against its tier's response time."""
    health = await checks.health(who, tenant_id)
    return TenantRunReport(health, tuple(runs), run_report(runs, health.sla_response_time_ms))


async def platform(checks: CheckService, who: Principal) -> PlatformReport:
    """The health of every tenant the principal sees, rolled up."""
    return platform_report(await checks.platform(who))


async def dashboard(checks: CheckService, who: Principal) -> DashboardReport:
    """The platform's health and the latest runs of the last hour, each judged by the SLA."""
    healths = await checks.platform(who)
    recent = await checks.history(who, tenant_id=None, hours=1, limit=DASHBOARD_RUNS)
    by_tenant = {h.tenant_id: h for h in healths}
    return DashboardReport(
        platform_report(healths),
        tuple((r, run_sla_compliant(r, by_tenant.get(r.tenant_id))) for _, r in recent.items),
    )
