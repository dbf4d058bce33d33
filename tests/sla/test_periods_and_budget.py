"""Golden answers: periods in a tenant's timezone, budgets and burn-rate factors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tenantwatch.sla import budget, periods

BERLIN = ZoneInfo("Europe/Berlin")


def test_43_2_minutes_down_in_a_30_day_month_is_exactly_99_9_percent() -> None:
    november = periods.containing("monthly", date(2026, 11, 15), ZoneInfo("UTC"))
    assert november.seconds == 30 * 86400
    assert budget.allowed_downtime_s(0.999, november.seconds) == pytest.approx(43.2 * 60)
    availability = 1 - (43.2 * 60) / november.seconds
    assert availability == pytest.approx(0.999, abs=1e-12)


def test_calendar_months_follow_the_zones_clock_changes() -> None:
    march = periods.containing("monthly", date(2026, 3, 10), BERLIN)
    october = periods.containing("monthly", date(2026, 10, 10), BERLIN)
    assert march.seconds == (31 * 24 - 1) * 3600
    assert october.seconds == (31 * 24 + 1) * 3600
    assert march.start == datetime(2026, 2, 28, 23, tzinfo=UTC)  # local midnight, CET
    assert october.start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # CEST


@pytest.mark.parametrize(
    ("kind", "day", "start", "end"),
    [
        ("daily", date(2026, 11, 15), date(2026, 11, 15), date(2026, 11, 16)),
        ("weekly", date(2026, 11, 15), date(2026, 11, 9), date(2026, 11, 16)),  # Monday
        ("monthly", date(2026, 12, 31), date(2026, 12, 1), date(2027, 1, 1)),
        ("quarterly", date(2026, 11, 15), date(2026, 10, 1), date(2027, 1, 1)),
        ("yearly", date(2026, 11, 15), date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_each_calendar_period_holds_its_date(
    kind: periods.CalendarKind, day: date, start: date, end: date
) -> None:
    zone = ZoneInfo("America/New_York")
    got = periods.containing(kind, day, zone)
    assert got.start.astimezone(zone).date() == start
    assert got.end.astimezone(zone).date() == end
    assert got.start.astimezone(zone).hour == 0


def test_the_current_period_runs_to_now_in_the_tenants_zone() -> None:
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # still November in New York
    got = periods.current("monthly", now, ZoneInfo("America/New_York"))
    assert got.to_date and got.end == now
    assert got.start == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert periods.rolling("28d", now).seconds == 28 * 86400
    with pytest.raises(ValueError, match="use one of 7d, 28d, 30d"):
        periods.rolling("5d", now)


def test_burn_factors_are_the_workbooks_for_30_and_28_days() -> None:
    month = 30 * 86400
    assert [round(a.factor, 3) for a in budget.burn_alerts(0.999, month)] == [14.4, 6, 3, 1]
    four_weeks = [a.factor for a in budget.burn_alerts(0.999, 28 * 86400)]
    assert four_weeks == pytest.approx([13.44, 5.6, 2.8, 0.9333], abs=1e-4)
    assert [a.short_window_s * 12 for a in budget.burn_alerts(0.999, month)] == [
        a.long_window_s for a in budget.burn_alerts(0.999, month)
    ]


def test_a_page_that_can_never_fire_is_flagged() -> None:
    """The Workbook's example: at 90 % a full outage burns at most 10x, under 14.4."""
    alerts = budget.burn_alerts(0.90, 30 * 86400)
    assert [a.feasible for a in alerts] == [False, True, True, True]


def test_budget_remaining_burn_and_exhaustion() -> None:
    assert budget.burn_rate(0.002, 0.999) == pytest.approx(2)
    assert budget.budget_remaining(0.002, 0.999) == pytest.approx(-1)  # overspent
    assert budget.exhaustion_s(30 * 86400, 1000) == pytest.approx(43.2 * 60)
    assert budget.forecast_exhaustion_s(0.5, 30 * 86400, 2) == pytest.approx(7.5 * 86400)
    assert budget.forecast_exhaustion_s(-0.1, 30 * 86400, 2) == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        budget.budget_fraction(1.0)
