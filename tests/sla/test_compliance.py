"""Seed 002's SLA check: each objective against the tier's target, violations in words."""

from __future__ import annotations

from decimal import Decimal

from tenantwatch.domain.tiers import BUILTIN_TIERS
from tenantwatch.sla.compliance import Measured, evaluate

ENTERPRISE = BUILTIN_TIERS["enterprise"].sla


def test_a_tenant_within_every_target_complies() -> None:
    got = evaluate(
        ENTERPRISE,
        Measured(Decimal("99.95"), Decimal("420"), Decimal("0.5"), Decimal("12")),
    )
    assert got.met and got.violations == []


def test_each_miss_is_a_violation_in_words() -> None:
    got = evaluate(
        ENTERPRISE,
        Measured(Decimal("99.8"), Decimal("620.5"), Decimal("0.2"), Decimal("15")),
    )
    assert not got.met
    assert got.violations == [
        "availability 99.8% is below the target 99.9%",
        "average response time 620.5 ms is above the target 500 ms",
    ]


def test_unmeasured_objectives_are_neither_met_nor_violated() -> None:
    got = evaluate(ENTERPRISE, Measured(availability_percentage=Decimal("99.9")))
    assert got.met
    assert [o.met for o in got.objectives] == [True, None, None, None]
