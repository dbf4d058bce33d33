"""Maintenance windows (once and by cron in the tenant's timezone), period selection and
slices, and the predictions' trend, anomalies and scaling."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tenantwatch.sla import insights
from tenantwatch.sla.maintenance import Maintenance, windows
from tenantwatch.sla.periods import select, slices

BERLIN = ZoneInfo("Europe/Berlin")


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_a_weekly_cron_window_follows_the_tenants_clock_across_dst() -> None:
    # Sundays at 03:00 Berlin time, two hours: 02:00Z in summer (CEST), 03:00Z in winter
    plan = [Maintenance("sunday", frozenset(), cron="0 3 * * SUN", duration_s=7200)]
    period = (ms(datetime(2026, 10, 18, tzinfo=UTC)), ms(datetime(2026, 11, 2, tzinfo=UTC)))
    got = windows("acme", BERLIN, period, plan)
    starts = [datetime.fromtimestamp(s / 1000, tz=UTC) for s, _ in got]
    assert starts == [
        datetime(2026, 10, 18, 1, tzinfo=UTC),  # CEST: 03:00 local is 01:00Z
        datetime(2026, 10, 25, 2, tzinfo=UTC),  # the clocks went back at 01:00Z that day
        datetime(2026, 11, 1, 2, tzinfo=UTC),
    ]
    assert all(e - s == 7_200_000 for s, e in got)


def test_one_off_windows_apply_to_their_tenants_and_are_clipped() -> None:
    start, end = datetime(2026, 11, 10, 2, tzinfo=UTC), datetime(2026, 11, 10, 4, tzinfo=UTC)
    plan = [Maintenance("db", frozenset({"acme"}), start=start, end=end)]
    period = (ms(datetime(2026, 11, 10, 3, tzinfo=UTC)), ms(datetime(2026, 11, 11, tzinfo=UTC)))
    assert windows("acme", BERLIN, period, plan) == [(period[0], ms(end))]
    assert windows("globex", BERLIN, period, plan) == []


def test_select_names_the_period_and_slices_follow_local_days() -> None:
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    october = select("monthly", date(2026, 10, 3), now, BERLIN)
    assert october.seconds == 745 * 3600 and not october.to_date
    days = slices(october, BERLIN)
    assert len(days) == 31
    assert (days[24][1] - days[24][0]).total_seconds() == 25 * 3600  # 25 October
    assert select("7d", None, now, BERLIN).seconds == 7 * 86400
    with pytest.raises(ValueError, match="has not begun"):
        select("daily", date(2026, 12, 8), now, UTC)  # type: ignore[arg-type]


HOURS = np.arange(30 * 24, dtype=np.float64) * 3600


def test_a_rising_request_rate_is_a_rising_trend_and_asks_to_scale_up() -> None:
    rng = np.random.default_rng(7)
    requests = insights.Hourly(
        HOURS, 1000 * (1 + HOURS / (7 * 86400) * 0.2) + rng.normal(0, 5, len(HOURS))
    )
    t = insights.trend(requests)
    assert t.direction == "rising" and t.change_per_week == pytest.approx(0.2 / 1.43, rel=0.15)
    cpu = insights.Hourly(HOURS, 40 + HOURS / 86400 * 1.5)  # +1.5 points a day, to 85 %
    plan = insights.scaling(cpu, requests, replicas=4)
    assert plan.action == "scale_up"
    assert plan.recommended_replicas > 4


def test_a_spike_is_an_anomaly_and_a_flat_series_is_stable() -> None:
    flat = np.full(len(HOURS), 100.0) + np.sin(HOURS / 3600) * 2
    flat[-3] = 400.0
    found = insights.anomalies("requests", insights.Hourly(HOURS, flat))
    assert [a.t for a in found] == [HOURS[-3]]
    assert insights.trend(insights.Hourly(HOURS, flat)).direction == "stable"


def test_little_history_is_a_cold_start() -> None:
    few = insights.Hourly(HOURS[:5], np.array([1.0, 2, 3, 4, 5]))
    assert insights.trend(few).cold_start
    assert insights.capacity("requests", few).cold_start
    assert insights.anomalies("requests", few) == []
