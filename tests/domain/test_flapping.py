from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from tenantwatch.domain.flapping import (
    FlapConfig,
    FlapDecision,
    FlapState,
    count_occurrence,
    flap_decision,
    next_evaluation,
    observe,
    percent_state_change,
)

T0 = 1_700_000_000.0
CFG = FlapConfig()


def feed(
    changes: list[float], cfg: FlapConfig = CFG, state: FlapState | None = None
) -> tuple[FlapState, list[FlapDecision]]:
    """Observe a change at each time; return the final state and every decision."""
    state = state or FlapState()
    decisions = []
    for t in changes:
        new = observe(state, True, t, cfg)
        decisions.append(flap_decision(state, new, t, cfg))
        state = new
    return state, decisions


# -- percent state change ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ages", "expected"),
    [
        ([], 0.0),
        ([0], 6.0),  # weight 1.2 / 20 slots
        ([1800], 5.0),  # half the window old: weight 1.0
        ([3599.999], 4.0),  # almost a window old: weight 0.8
        ([3600], 0.0),  # a window old: gone
        ([-10], 0.0),  # in the future: ignored
        ([0, 0, 0], 18.0),
        ([k * 60 for k in range(9)], 52.8),  # 10.8 - 0.4 * 60 * 36 / 3600 = 10.56
        ([k * 60 for k in range(8)], 47.0667),
        ([k * 180 for k in range(20)], 100.0),  # one change in each of 20 slots: capped
    ],
)
def test_percent_state_change(ages: list[float], expected: float) -> None:
    transitions = tuple(sorted(T0 - a for a in ages))
    assert percent_state_change(transitions, T0, CFG) == pytest.approx(expected, abs=1e-3)


def test_weights_follow_the_config() -> None:
    cfg = FlapConfig(history=11, low_weight=1.0, high_weight=1.0, window_s=600)
    assert percent_state_change((T0 - 599, T0 - 300, T0), T0, cfg) == pytest.approx(30.0)


def test_history_keeps_only_the_last_changes_within_the_window() -> None:
    cfg = FlapConfig(history=5, window_s=100)
    state = FlapState()
    for t in range(10):
        state = observe(state, True, T0 + t, cfg)
    assert state.transitions == tuple(T0 + t for t in range(5, 10))
    assert observe(state, False, T0 + 150, cfg).transitions == ()
    assert observe(state, False, T0 + 105, cfg).transitions == (T0 + 6, T0 + 7, T0 + 8, T0 + 9)


# -- hysteresis ----------------------------------------------------------------------------


def test_it_starts_flapping_at_the_high_threshold() -> None:
    state, decisions = feed([T0 + 60 * k for k in range(9)])
    assert decisions == ["notify"] * 8 + ["page_flapping"]
    assert state.flapping and state.flapping_since == T0 + 480
    assert state.percent == pytest.approx(52.8)


def test_it_stays_flapping_between_the_thresholds() -> None:
    state, _ = feed([T0 + 60 * k for k in range(9)])
    # 30 minutes later the percent has decayed below 50 but not to 25
    later = observe(state, False, T0 + 480 + 1800, CFG)
    assert CFG.low_threshold < later.percent < CFG.high_threshold
    assert later.flapping
    # and an alert that never flapped does not start at the same percent
    fresh = observe(replace(state, flapping=False), False, T0 + 480 + 1800, CFG)
    assert not fresh.flapping


def test_it_stops_at_the_low_threshold_when_quiet() -> None:
    state, _ = feed([T0 + 60 * k for k in range(9)])
    now = T0 + 480
    stop = next_evaluation(state, now, CFG)
    assert stop is not None and now < stop < now + CFG.window_s
    before = observe(state, False, stop - 0.001, CFG)
    assert before.flapping and before.percent > CFG.low_threshold
    after = observe(state, False, stop, CFG)
    assert not after.flapping and after.percent <= CFG.low_threshold
    assert flap_decision(state, after, stop, CFG) == "stopped"


@pytest.mark.parametrize(
    ("flapping", "percent_ages", "expected"),
    [
        (False, [0] * 8, False),  # 48%
        (False, [0] * 9, True),  # 54%
        (True, [0] * 5, True),  # 30%
        (True, [0] * 4, False),  # 24%
    ],
)
def test_thresholds_table(flapping: bool, percent_ages: list[float], expected: bool) -> None:
    # the last age is the observed change; the others are already in the history
    prior = tuple(T0 - a for a in percent_ages[:-1])
    state = FlapState(transitions=prior, flapping=flapping, last_notice_at=T0 - 10)
    assert observe(state, True, T0, CFG).flapping is expected


def test_exactly_the_low_threshold_stops_flapping_like_nagios() -> None:
    cfg = FlapConfig(low_weight=1.0, high_weight=1.0)  # each change is 5%
    five = FlapState(transitions=(T0,) * 5, flapping=True, last_notice_at=T0)
    assert observe(five, False, T0 + 1, cfg).percent == pytest.approx(25.0)
    assert not observe(five, False, T0 + 1, cfg).flapping
    six = replace(five, transitions=(T0,) * 6)
    assert observe(six, False, T0 + 1, cfg).flapping


def test_exactly_the_high_threshold_starts_flapping_like_nagios() -> None:
    cfg = FlapConfig(low_weight=1.0, high_weight=1.0)  # each change is 5%
    state = FlapState(transitions=(T0,) * 9)
    assert observe(state, True, T0, cfg).percent == pytest.approx(50.0)
    assert observe(state, True, T0, cfg).flapping


# -- notification policy -------------------------------------------------------------------


def test_flapping_alert_pages_once_then_sends_hourly_digests() -> None:
    changes = [T0 + 60 * k for k in range(9 + 60 + 30)]
    state, decisions = feed(changes)
    assert decisions[:9] == ["notify"] * 8 + ["page_flapping"]
    # the page went out at T0+480; the change at T0+480+3600 is the first allowed digest
    digest_at = decisions.index("digest")
    assert changes[digest_at] == T0 + 480 + 3600
    assert set(decisions[9:digest_at]) == {"suppress"}
    assert set(decisions[digest_at + 1 :]) == {"suppress"}
    # the digest counts the 60 suppressed changes of that hour
    digest_state, _ = feed(changes[: digest_at + 1])
    assert digest_state.digest_changes == 60
    assert digest_state.last_notice_at == T0 + 4080
    assert digest_state.digest_pending_since is None and digest_state.suppressed == 0
    assert state.suppressed == 30 and state.digest_pending_since == T0 + 4140


def test_digest_goes_out_on_a_quiet_tick_when_due() -> None:
    cfg = FlapConfig(digest_interval_s=600)
    state, _ = feed([T0 + 10 * k for k in range(12)], cfg)  # flapping from the 9th change
    assert state.flapping and state.suppressed == 3 and state.last_notice_at == T0 + 80
    due = next_evaluation(state, T0 + 110, cfg)
    assert due == T0 + 680
    tick = observe(state, False, due, cfg)
    assert flap_decision(state, tick, due, cfg) == "digest"
    assert tick.digest_changes == 3 and tick.flapping


def test_a_quiet_alert_stops_before_its_digest_is_due() -> None:
    state, _ = feed([T0 + 10 * k for k in range(12)])
    due = next_evaluation(state, T0 + 110, CFG)
    assert due is not None and due < T0 + 80 + CFG.digest_interval_s
    tick = observe(state, False, due, CFG)
    assert flap_decision(state, tick, due, CFG) == "stopped"


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("weights", [(0.8, 1.2), (1.0, 1.0), (0.75, 1.25)])
def test_stop_time_is_the_first_moment_at_or_below_the_low_threshold(
    seed: int, weights: tuple[float, float]
) -> None:
    rng = random.Random(seed)
    cfg = FlapConfig(low_weight=weights[0], high_weight=weights[1], window_s=600)
    changes = sorted(T0 + rng.uniform(0, 300) for _ in range(rng.randint(12, 21)))
    state, _ = feed(changes, cfg)
    now = changes[-1]
    assert state.flapping
    stop = next_evaluation(state, now, cfg)
    assert stop is not None
    assert percent_state_change(state.transitions, stop, cfg) <= cfg.low_threshold
    for i in range(int((stop - now) * 4)):  # every quarter second before it
        t = now + i / 4
        assert percent_state_change(state.transitions, t, cfg) > cfg.low_threshold, t


def test_no_digest_without_suppressed_changes() -> None:
    cfg = FlapConfig(digest_interval_s=60, low_threshold=1)
    state, _ = feed([T0 + k for k in range(9)], cfg)
    assert state.flapping and state.digest_pending_since is None
    tick = observe(state, False, T0 + 500, cfg)
    assert flap_decision(state, tick, T0 + 500, cfg) == "suppress"


@pytest.mark.parametrize(
    ("prev", "new", "expected"),
    [
        (FlapState(), FlapState(), "notify"),
        (FlapState(), FlapState(flapping=True, last_notice_at=T0), "page_flapping"),
        (FlapState(flapping=True, last_notice_at=T0 - 60), FlapState(), "stopped"),
        (
            FlapState(flapping=True, last_notice_at=T0 - 3600),
            FlapState(flapping=True, last_notice_at=T0),
            "digest",
        ),
        (
            FlapState(flapping=True, last_notice_at=T0 - 60),
            FlapState(flapping=True, last_notice_at=T0 - 60),
            "suppress",
        ),
    ],
)
def test_flap_decision_table(prev: FlapState, new: FlapState, expected: str) -> None:
    assert flap_decision(prev, new, T0, CFG) == expected


def test_disabled_detection_never_flaps() -> None:
    cfg = FlapConfig(enabled=False)
    state, decisions = feed([T0 + k for k in range(30)], cfg)
    assert not state.flapping and set(decisions) == {"notify"}
    assert next_evaluation(state, T0 + 30, cfg) is None


def test_disabling_while_flapping_sends_the_stop_notice() -> None:
    state, _ = feed([T0 + k for k in range(10)])
    assert state.flapping
    off = FlapConfig(enabled=False)
    new = observe(state, True, T0 + 11, off)
    assert flap_decision(state, new, T0 + 11, off) == "stopped"


def test_next_evaluation_is_none_when_not_flapping() -> None:
    assert next_evaluation(FlapState(), T0, CFG) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"history": 2}, "at least 3"),
        ({"window_s": 0}, "window must be positive"),
        ({"low_threshold": 60}, "0 <= low < high <= 100"),
        ({"high_threshold": 101}, "0 <= low < high <= 100"),
        ({"low_weight": 0}, "0 < low_weight <= high_weight"),
        ({"low_weight": 1.3}, "0 < low_weight <= high_weight"),
        ({"digest_interval_s": -1}, "digest interval must be positive"),
    ],
)
def test_config_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FlapConfig(**kwargs)


# -- occurrence counting (seed 002 smart grouping) -----------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "count", "now", "expected"),
    [
        (None, None, 0, T0, (T0, T0, 1)),
        (T0, T0, 1, T0 + 60, (T0, T0 + 60, 2)),
        (T0, T0 + 60, 2, T0 + 3600, (T0, T0 + 3600, 3)),  # exactly an hour: still the series
        (T0, T0 + 60, 2, T0 + 3600.001, (T0 + 3600.001, T0 + 3600.001, 1)),
        (T0, T0 + 3000, 7, T0 + 5000, (T0 + 5000, T0 + 5000, 1)),
        (T0, T0 + 600, 3, T0 + 300, (T0, T0 + 600, 4)),  # out of order: last stays latest
        (T0, T0, 0, T0 + 10, (T0, T0 + 10, 2)),  # a stored 0 counts as the first occurrence
        (T0, None, 1, T0 + 10, (T0, T0 + 10, 2)),
        (T0 + 100, T0 + 100, 4, T0, (T0, T0, 1)),  # before the series began
    ],
)
def test_count_occurrence(
    first: float | None,
    last: float | None,
    count: int,
    now: float,
    expected: tuple[float, float, int],
) -> None:
    assert count_occurrence(first, last, count, now) == expected


def test_count_occurrence_window_is_configurable() -> None:
    assert count_occurrence(T0, T0, 1, T0 + 120, window_s=60) == (T0 + 120, T0 + 120, 1)
    assert count_occurrence(T0, T0, 1, T0 + 60, window_s=60) == (T0, T0 + 60, 2)
