"""Each tenant's SLA targets become series in the metric store, overrides included."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.tiers import BUILTIN_TIERS
from tenantwatch.promql.model import Matcher
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.tenants import TenantInput
from tenantwatch.sla.series import (
    AVAILABILITY,
    BUDGET_REMAINING,
    COMPLIANCE,
    TARGET,
    result_samples,
    target_samples,
)


def test_one_sample_per_tenant_and_objective() -> None:
    got = target_samples({"acme": BUILTIN_TIERS["basic"].sla}, 1000)
    assert [(dict(labels)["objective"], v) for labels, _, v in got] == [
        ("availability", 99.0),
        ("response_time_ms", 1000.0),
        ("error_rate", 2.0),
        ("recovery_time_minutes", 15.0),
    ]


async def test_the_runtime_writes_every_tenants_targets(runtime: Runtime) -> None:
    await runtime.tenants.create(
        SYSTEM,
        TenantInput(
            id="acme",
            name="Acme",
            tier="enterprise",
            sla_overrides={"availability_percentage": Decimal("99.95")},
        ),
    )
    await runtime.tenants.create(SYSTEM, TenantInput(id="globex", name="Globex", tier="basic"))
    await runtime.metrics.start()
    assert runtime.sla_targets is not None
    # four targets per tenant, and each tenant's month-to-date compliance (no check data
    # yet: nothing missed, and no budget or availability to write)
    assert await runtime.sla_targets.write_once() == 8 + 2
    found = runtime.metrics.store.select(
        [Matcher.of("__name__", "=", TARGET), Matcher.of("objective", "=", "availability")],
        0,
        2**62,
    )
    assert {dict(s.labels)["tenant"]: float(s.vals[-1]) for s in found} == {
        "acme": 99.95,
        "globex": 99.0,
    }
    compliance = runtime.metrics.store.select([Matcher.of("__name__", "=", COMPLIANCE)], 0, 2**62)
    assert {(dict(s.labels)["tenant"], dict(s.labels)["period"]) for s in compliance} == {
        ("acme", "monthly"),
        ("globex", "monthly"),
    }
    assert all(float(s.vals[-1]) == 1.0 for s in compliance)


def test_results_become_compliance_budget_and_availability_series() -> None:
    from datetime import UTC, datetime

    from tenantwatch.domain.health_score import HealthInputs, health_score
    from tenantwatch.sla.compliance import Compliance
    from tenantwatch.sla.periods import containing
    from tenantwatch.sla.report import Budget, TenantReport

    period = containing("monthly", datetime(2026, 11, 5).date(), ZoneInfo("UTC"))
    report = TenantReport(
        tenant_id="acme",
        tenant_name="Acme",
        tier="basic",
        timezone="UTC",
        period=period,
        generated_at=datetime(2026, 12, 1, tzinfo=UTC),
        availability_percentage=Decimal("98.5"),
        avg_response_time_ms=None,
        p95_response_time_ms=None,
        error_rate_percentage=None,
        recovery_time_minutes=None,
        latency_within=None,
        compliance=Compliance(()),
        health=health_score(HealthInputs(uptime=0.985)),
        budget=Budget(Decimal(432), Decimal(648), Decimal("-0.5"), Decimal("1.5"), None),
        downtimes=(),
        uptime=(),
        excluded_minutes=Decimal(0),
        unknown_minutes=Decimal(0),
        credit_percentage=Decimal(25),
    )
    got = {dict(labels)["__name__"]: v for labels, _, v in result_samples([report], 5)}
    assert got == {COMPLIANCE: 1.0, BUDGET_REMAINING: -0.5, AVAILABILITY: 98.5}
