"""Seed 000's health score, component by component; credit steps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenantwatch.domain.health_score import HealthInputs, health_score
from tenantwatch.sla.credits import DEFAULT_SCHEDULE, check_schedule, credit_percent


def test_the_health_score_is_seed_000s_weighted_sum() -> None:
    got = health_score(
        HealthInputs(
            uptime=0.998, response_time_p95_s=0.4, error_rate_pct=1.5, cpu_pct=55, memory_pct=70
        )
    )
    parts = {c.name: c.score for c in got.components}
    assert parts == pytest.approx(
        {"uptime": 99.8, "response_time": 80.0, "error_rate": 85.0, "resource_utilization": 30.0}
    )
    # 99.8*0.4 + 80*0.3 + 85*0.2 + 30*0.1 = 39.92 + 24 + 17 + 3
    assert got.score == 83.92


def test_components_are_clamped_to_0_100() -> None:
    got = health_score(HealthInputs(uptime=1.2, response_time_p95_s=5, error_rate_pct=50))
    assert {c.name: c.score for c in got.components} == {
        "uptime": 100.0,
        "response_time": 0.0,
        "error_rate": 0.0,
        "resource_utilization": 100.0,
    }
    assert got.score == 50.0


@pytest.mark.parametrize(
    ("availability", "credit"),
    [("99.95", "0"), ("99.9", "0"), ("99.89", "10"), ("98.5", "25"), ("94.99", "50")],
)
def test_the_deepest_step_below_sets_the_credit(availability: str, credit: str) -> None:
    assert credit_percent(Decimal(availability)) == Decimal(credit)


def test_a_schedule_out_of_order_is_refused() -> None:
    check_schedule(DEFAULT_SCHEDULE)
    with pytest.raises(ValueError, match="highest to lowest"):
        check_schedule([(Decimal("99"), Decimal("25")), (Decimal("99.9"), Decimal("10"))])
    with pytest.raises(ValueError, match="percentages"):
        check_schedule([(Decimal("101"), Decimal("10"))])
