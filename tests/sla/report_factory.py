"""A realistic TenantReport to render, with any field replaced (tests build their variants)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tenantwatch.domain.health_score import HealthInputs, health_score
from tenantwatch.domain.tiers import SlaTargets
from tenantwatch.sla.compliance import Measured, evaluate
from tenantwatch.sla.credits import DEFAULT_SCHEDULE
from tenantwatch.sla.periods import containing
from tenantwatch.sla.report import Budget, Downtime, PlatformReport, TenantReport, UptimePoint

BERLIN = ZoneInfo("Europe/Berlin")
NOVEMBER = containing("monthly", datetime(2026, 11, 15).date(), BERLIN)


def daily_uptime(values: list[str | None]) -> tuple[UptimePoint, ...]:
    """One point per day of November 2026 (Berlin), from the given percentages."""
    return tuple(
        UptimePoint(NOVEMBER.start + timedelta(days=i), None if v is None else Decimal(v))
        for i, v in enumerate(values)
    )


def tenant_report(**changes: Any) -> TenantReport:
    """Acme's November 2026: availability and recovery missed, one credit step owed."""
    measured = Measured(
        availability_percentage=Decimal("99.52"),
        response_time_ms=Decimal("212.4"),
        error_rate_percentage=Decimal("0.41"),
        recovery_time_minutes=Decimal("21.5"),
    )
    values: list[str | None] = ["100"] * 30
    values[3], values[11], values[12], values[20] = "97.9", "99.95", None, "99.2"
    fields: dict[str, Any] = {
        "tenant_id": "acme",
        "tenant_name": "Acme Corp",
        "tier": "premium",
        "timezone": "Europe/Berlin",
        "period": NOVEMBER,
        "generated_at": datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
        "availability_percentage": measured.availability_percentage,
        "avg_response_time_ms": measured.response_time_ms,
        "p95_response_time_ms": Decimal("480.2"),
        "error_rate_percentage": measured.error_rate_percentage,
        "recovery_time_minutes": measured.recovery_time_minutes,
        "latency_within": (Decimal("300"), Decimal("97.25")),
        "compliance": evaluate(SlaTargets(), measured),
        "health": health_score(
            HealthInputs(uptime=0.9952, response_time_p95_s=0.4802, error_rate_pct=0.41, cpu_pct=40)
        ),
        "budget": Budget(
            allowed_downtime_minutes=Decimal("43.2"),
            downtime_minutes=Decimal("167.4"),
            remaining_ratio=Decimal("-2.875"),
            burn_rate=Decimal("3.875"),
            exhaustion=None,
        ),
        "downtimes": (
            Downtime(
                datetime(2026, 11, 4, 9, 12, tzinfo=UTC),
                datetime(2026, 11, 4, 11, 45, tzinfo=UTC),
                ("api-https", "checkout"),
            ),
            Downtime(
                datetime(2026, 11, 21, 23, 30, tzinfo=UTC),
                datetime(2026, 11, 21, 23, 44, 24, tzinfo=UTC),
                ("api-https",),
            ),
        ),
        "uptime": daily_uptime(values),
        "excluded_minutes": Decimal("60"),
        "unknown_minutes": Decimal("12.5"),
        "credit_percentage": Decimal("10"),
        "credit_schedule": DEFAULT_SCHEDULE,
    }
    fields.update(changes)
    return TenantReport(**fields)


def platform_report(*tenants: TenantReport) -> PlatformReport:
    return PlatformReport("monthly", datetime(2026, 12, 1, 6, 0, tzinfo=UTC), tenants)
