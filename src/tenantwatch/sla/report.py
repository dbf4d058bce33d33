"""What an SLA report holds: one tenant's measured period, or every tenant's (platform).

The SLA service fills these from the metric store; the JSON API, the CSV and the PDF
renderers and the CLI read them. Figures are Decimal where a customer reads them (percent,
minutes), so a report shows exactly what was computed, and None where nothing was measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tenantwatch.domain.health_score import HealthScore
from tenantwatch.sla.compliance import Compliance
from tenantwatch.sla.periods import Period


@dataclass(frozen=True)
class Downtime:
    """One down run of the tenant (a check's down to up), excluded time left out."""

    start: datetime  # aware, UTC
    end: datetime
    checks: tuple[str, ...]  # the checks that were down

    @property
    def minutes(self) -> Decimal:
        return Decimal(round((self.end - self.start).total_seconds())) / 60


@dataclass(frozen=True)
class UptimePoint:
    """Availability of one slice of the period (a day, or an hour in a daily report)."""

    start: datetime
    availability_percentage: Decimal | None  # None: nothing measured in the slice


@dataclass(frozen=True)
class Budget:
    """The availability objective's error budget over the period."""

    allowed_downtime_minutes: Decimal  # over the whole period
    downtime_minutes: Decimal  # spent so far
    remaining_ratio: Decimal  # 1 - spent/allowed; negative when overspent
    burn_rate: Decimal  # 1 spends exactly the budget by the period's end
    exhaustion: datetime | None  # when the budget runs out at today's burn; None: never


@dataclass(frozen=True)
class TenantReport:
    tenant_id: str
    tenant_name: str
    tier: str
    timezone: str
    period: Period
    generated_at: datetime
    availability_percentage: Decimal | None
    avg_response_time_ms: Decimal | None
    p95_response_time_ms: Decimal | None
    error_rate_percentage: Decimal | None
    recovery_time_minutes: Decimal | None  # mean time from a down to the next up
    # "X % of requests within N ms" from the latency histogram, when one is configured
    latency_within: tuple[Decimal, Decimal | None] | None  # (threshold ms, % within)
    compliance: Compliance
    health: HealthScore
    budget: Budget | None
    downtimes: tuple[Downtime, ...]
    uptime: tuple[UptimePoint, ...]
    excluded_minutes: Decimal  # maintenance and probe-side failures
    unknown_minutes: Decimal  # no check reported
    credit_percentage: Decimal
    credit_schedule: tuple[tuple[Decimal, Decimal], ...] = field(default=())

    @property
    def sla_compliance(self) -> bool:
        return self.compliance.met

    @property
    def violations(self) -> list[str]:
        return self.compliance.violations


@dataclass(frozen=True)
class PlatformReport:
    period_kind: str
    generated_at: datetime
    tenants: Sequence[TenantReport]

    @property
    def overall_compliance(self) -> Decimal | None:
        """The share of tenants (percent) that met every objective; None without tenants."""
        if not self.tenants:
            return None
        met = sum(1 for t in self.tenants if t.sla_compliance)
        return (Decimal(met) * 100 / len(self.tenants)).quantize(Decimal("0.01"))
