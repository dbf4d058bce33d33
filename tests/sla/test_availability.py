"""Time-based availability: downtime, minimum downtime, exclusions, gaps, degraded."""

from __future__ import annotations

import pytest

from tenantwatch.sla.availability import Rules, availability

MIN = 60_000
MONTH = (0, 30 * 24 * 60 * MIN)


def minutely(down: range = range(0), value: float = 0.0) -> list[tuple[int, float]]:
    return [(m * MIN, value if m in down else 1.0) for m in range(30 * 24 * 60)]


def test_43_minutes_and_12_seconds_down_is_99_9_percent() -> None:
    samples = minutely(down=range(1000, 1043))
    samples[1043] = (1043 * MIN, 0.0)  # 12 s more down at 17:23
    samples.insert(1044, (1043 * MIN + 12_000, 1.0))
    got = availability(samples, MONTH)
    assert got.down_ms == 43.2 * MIN
    assert got.ratio == pytest.approx(0.999, abs=1e-12)
    assert got.downtimes == ((1000 * MIN, 1043 * MIN + 12_000),)


def test_maintenance_is_excluded_from_both_sides() -> None:
    samples = minutely(down=range(100, 160))  # an hour down, all in maintenance
    got = availability(samples, MONTH, excluded=[(100 * MIN, 160 * MIN)])
    assert got.down_ms == 0 and got.ratio == 1.0
    assert got.excluded_ms == 60 * MIN
    assert got.up_ms == MONTH[1] - 60 * MIN
    assert got.unknown_ms == 0


def test_blips_shorter_than_the_minimum_downtime_do_not_count() -> None:
    samples = minutely(down=range(10, 12))  # 2 minutes
    assert availability(samples, MONTH, rules=Rules(min_downtime_s=300)).down_ms == 0
    assert availability(samples, MONTH).down_ms == 2 * MIN


def test_a_silent_check_is_unknown_not_down() -> None:
    samples = [(m * MIN, 1.0) for m in range(11)]  # then nothing for the rest of the period
    got = availability(samples, (0, 60 * MIN), rules=Rules(max_gap_s=120))
    assert got.up_ms == 12 * MIN
    assert got.unknown_ms == 48 * MIN
    assert got.ratio == 1.0
    assert availability([], (0, MIN)).ratio is None
    in_gap = availability(
        samples, (0, 60 * MIN), rules=Rules(max_gap_s=120), excluded=[(30 * MIN, 40 * MIN)]
    )
    assert (in_gap.unknown_ms, in_gap.excluded_ms) == (38 * MIN, 10 * MIN)


@pytest.mark.parametrize(("how", "down"), [("up", 0), ("down", 10 * MIN), ("partial", 5 * MIN)])
def test_degraded_counts_as_the_rules_say(how: str, down: float) -> None:
    samples = [(0, 1.0), (10 * MIN, 0.5), (20 * MIN, 1.0)]
    rules = Rules(max_gap_s=600, degraded=how)  # type: ignore[arg-type]
    got = availability(samples, (0, 30 * MIN), rules=rules)
    assert got.down_ms == down


def test_a_tenant_is_down_while_any_of_its_checks_is_down() -> None:
    import numpy as np

    from tenantwatch.sla.availability import combine, of_runs, runs_of

    ts = np.arange(0, 60) * MIN
    api = np.where((ts >= 10 * MIN) & (ts < 15 * MIN), 0.0, 1.0)  # down 10:00-15:00
    db = np.where((ts >= 12 * MIN) & (ts < 20 * MIN), 0.0, 1.0)  # down 12:00-20:00
    period = (0, 60 * MIN)
    runs = [runs_of(ts, v, period, 2 * MIN) for v in (api, db)]
    got = of_runs(combine(runs), period)
    assert got.down_ms == 10 * MIN  # 10:00 to 20:00, once
    assert got.downtimes == ((10 * MIN, 20 * MIN),)
    # a check that reports alone for a while decides alone; silence of both is unknown
    late = runs_of(ts[30:], np.ones(30), period, 2 * MIN)
    early = runs_of(ts[:20], np.zeros(20), period, 2 * MIN)
    both = of_runs(combine([early, late]), period)
    # the last early sample (19:00) holds for max_gap, to 21:00
    assert (both.down_ms, both.up_ms, both.unknown_ms) == (21 * MIN, 30 * MIN, 9 * MIN)


def test_stale_markers_are_unknown() -> None:
    import math

    samples = [(0, 1.0), (MIN, math.nan), (2 * MIN, 0.0)]
    got = availability(samples, (0, 3 * MIN), rules=Rules(max_gap_s=60))
    assert (got.up_ms, got.down_ms, got.unknown_ms) == (MIN, MIN, MIN)
