"""Heartbeats as Healthchecks judges them: period + grace, cron + timezone, start and fail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tenantwatch.domain.heartbeat import (
    HeartbeatState,
    HeartbeatStatus,
    PingKind,
    Schedule,
    apply_ping,
    judge,
    ping_kind,
)

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
EVERY_MINUTE = Schedule(grace_s=30, period_s=60)
NINE_BERLIN = Schedule(grace_s=600, cron="0 9 * * *", tz="Europe/Berlin")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def pinged(seconds: float = 0, created: datetime = T0) -> HeartbeatState:
    return apply_ping(HeartbeatState(created=created), PingKind.SUCCESS, at(seconds))


# --- period + grace -------------------------------------------------------------------


def test_up_until_the_period_ends() -> None:
    verdict = judge(EVERY_MINUTE, pinged(), at(60))
    assert verdict.status is HeartbeatStatus.UP and verdict.up
    assert verdict.next_deadline == at(90)
    assert "last ping at 2026-11-22T10:00:00Z" in verdict.reason


def test_grace_after_the_period_is_still_up() -> None:
    verdict = judge(EVERY_MINUTE, pinged(), at(60.5))
    assert verdict.status is HeartbeatStatus.GRACE and verdict.up
    assert verdict.next_deadline == at(90)


def test_exactly_at_the_deadline_is_up_and_strictly_after_is_down() -> None:
    assert judge(EVERY_MINUTE, pinged(), at(90)).status is HeartbeatStatus.GRACE
    down = judge(EVERY_MINUTE, pinged(), at(90.001))
    assert down.status is HeartbeatStatus.DOWN and not down.up
    assert down.next_deadline is None
    assert down.reason == ("no ping since 2026-11-22T10:00:00Z; expected every 60 s + 30 s grace")


def test_a_new_ping_moves_the_deadline() -> None:
    state = apply_ping(pinged(), PingKind.SUCCESS, at(80))
    verdict = judge(EVERY_MINUTE, state, at(100))
    assert verdict.status is HeartbeatStatus.UP and verdict.next_deadline == at(170)


# --- a check that never pinged ---------------------------------------------------------


def test_a_new_check_counts_its_deadline_from_creation() -> None:
    state = HeartbeatState(created=T0)
    new = judge(EVERY_MINUTE, state, at(80))
    assert new.status is HeartbeatStatus.NEW and new.up
    assert new.next_deadline == at(90)
    assert judge(EVERY_MINUTE, state, at(90)).status is HeartbeatStatus.NEW
    down = judge(EVERY_MINUTE, state, at(91))
    assert down.status is HeartbeatStatus.DOWN
    assert "no ping since the check was created at 2026-11-22T10:00:00Z" in down.reason


# --- fail and exit status ---------------------------------------------------------------


def test_fail_turns_it_down_at_once_and_a_success_brings_it_back() -> None:
    state = apply_ping(pinged(), PingKind.FAIL, at(5))
    down = judge(EVERY_MINUTE, state, at(6))
    assert down.status is HeartbeatStatus.DOWN and not down.up
    assert "last ping was /fail at 2026-11-22T10:00:05Z" in down.reason
    state = apply_ping(state, PingKind.SUCCESS, at(7))
    assert judge(EVERY_MINUTE, state, at(8)).status is HeartbeatStatus.UP


def test_a_start_after_a_failure_keeps_it_down_until_a_success() -> None:
    state = apply_ping(apply_ping(pinged(), PingKind.FAIL, at(5)), PingKind.START, at(10))
    assert judge(EVERY_MINUTE, state, at(11)).status is HeartbeatStatus.DOWN
    state = apply_ping(state, PingKind.SUCCESS, at(12))
    assert judge(EVERY_MINUTE, state, at(13)).status is HeartbeatStatus.UP
    assert state.last_duration_s == pytest.approx(2)


def test_exit_status_zero_is_up_and_three_is_down() -> None:
    ok = apply_ping(pinged(), ping_kind(0, None), at(30))
    assert judge(EVERY_MINUTE, ok, at(31)).status is HeartbeatStatus.UP
    failed = apply_ping(pinged(), ping_kind(3, None), at(30))
    assert failed.last_kind is PingKind.FAIL and failed.last_fail == at(30)
    assert judge(EVERY_MINUTE, failed, at(31)).status is HeartbeatStatus.DOWN


# --- start ------------------------------------------------------------------------------


def test_start_then_success_records_the_run_time() -> None:
    state = apply_ping(pinged(), PingKind.START, at(50))
    started = judge(EVERY_MINUTE, state, at(60))
    assert started.status is HeartbeatStatus.STARTED and started.up
    assert started.next_deadline == at(80)
    state = apply_ping(state, PingKind.SUCCESS, at(62.5))
    assert state.last_duration_s == pytest.approx(12.5)
    assert state.last_start is None and state.last_ping == at(62.5)
    assert judge(EVERY_MINUTE, state, at(63)).status is HeartbeatStatus.UP


def test_start_then_fail_records_the_run_time_too() -> None:
    state = apply_ping(apply_ping(pinged(), PingKind.START, at(50)), PingKind.FAIL, at(54))
    assert state.last_duration_s == pytest.approx(4) and state.last_start is None


def test_a_success_without_start_has_no_run_time() -> None:
    assert pinged().last_duration_s is None


def test_a_start_that_never_finishes_goes_down_after_the_grace() -> None:
    state = apply_ping(pinged(), PingKind.START, at(50))
    assert judge(EVERY_MINUTE, state, at(80)).status is HeartbeatStatus.STARTED
    verdict = judge(EVERY_MINUTE, state, at(81))
    assert verdict.status is HeartbeatStatus.DOWN and verdict.next_deadline is None
    assert verdict.reason == "started 31 s ago and did not finish within the 30 s grace"


def test_a_late_start_does_not_extend_the_regular_deadline() -> None:
    state = apply_ping(pinged(), PingKind.START, at(85))  # in the grace already
    assert judge(EVERY_MINUTE, state, at(90)).next_deadline == at(90)
    verdict = judge(EVERY_MINUTE, state, at(91))
    assert verdict.status is HeartbeatStatus.DOWN
    assert verdict.reason.startswith("no ping since 2026-11-22T10:00:00Z")


# --- cron -------------------------------------------------------------------------------


def test_every_five_minutes() -> None:
    five = Schedule(grace_s=60, cron="*/5 * * * *")
    state = pinged(1)
    assert five.next_expected(at(1)) == at(300)
    assert five.next_expected(at(300)) == at(600)
    assert judge(five, state, at(299)).status is HeartbeatStatus.UP
    assert judge(five, state, at(301)).status is HeartbeatStatus.GRACE
    assert judge(five, state, at(360)).up
    down = judge(five, state, at(361))
    assert down.status is HeartbeatStatus.DOWN
    assert "expected at '*/5 * * * *' (UTC) + 60 s grace" in down.reason


def test_nine_in_berlin_is_eight_utc_before_the_dst_change() -> None:
    assert NINE_BERLIN.next_expected(utc(2026, 3, 27, 8, 5)) == utc(2026, 3, 28, 8, 0)


def test_nine_in_berlin_is_seven_utc_after_the_dst_change() -> None:
    after = utc(2026, 3, 28, 8, 5)  # Saturday's run; clocks spring forward on Sunday 29th
    assert NINE_BERLIN.next_expected(after) == utc(2026, 3, 29, 7, 0)
    state = pinged(created=utc(2026, 1, 1))
    state = apply_ping(state, PingKind.SUCCESS, after)
    assert judge(NINE_BERLIN, state, utc(2026, 3, 29, 6, 59)).status is HeartbeatStatus.UP
    assert judge(NINE_BERLIN, state, utc(2026, 3, 29, 7, 1)).status is HeartbeatStatus.GRACE
    grace_end = judge(NINE_BERLIN, state, utc(2026, 3, 29, 7, 10))
    assert grace_end.up and grace_end.next_deadline == utc(2026, 3, 29, 7, 10)
    assert not judge(NINE_BERLIN, state, utc(2026, 3, 29, 7, 10, 1)).up


def test_a_tick_in_the_skipped_hour_fires_when_the_clocks_jump() -> None:
    half_two = Schedule(grace_s=60, cron="30 2 * * *", tz="Europe/Berlin")
    # 02:30 does not exist on 2026-03-29; cron runs it at 03:00 CEST = 01:00 UTC
    assert half_two.next_expected(utc(2026, 3, 28, 1, 31)) == utc(2026, 3, 29, 1, 0)


def test_a_fixed_time_job_is_expected_once_when_the_clocks_fall_back() -> None:
    half_two = Schedule(grace_s=60, cron="30 2 * * *", tz="Europe/Berlin")
    first_pass = utc(2026, 10, 25, 0, 30)  # 02:30 CEST, before the clocks go back
    assert half_two.next_expected(first_pass) == utc(2026, 10, 26, 1, 30)


def test_a_wildcard_job_runs_in_both_passes_of_the_repeated_hour() -> None:
    halves = Schedule(grace_s=60, cron="*/30 * * * *", tz="Europe/Berlin")
    assert halves.next_expected(utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 25, 1, 0)


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"grace_s": 30}, "either a period"),
        ({"grace_s": 30, "period_s": 60, "cron": "* * * * *"}, "either a period"),
        ({"grace_s": 30, "cron": "61 * * * *"}, "not valid"),
        ({"grace_s": 30, "cron": "* * * *"}, "five fields"),
        ({"grace_s": 30, "cron": "0 * * * * *"}, "five fields"),
        ({"grace_s": 30, "cron": "@daily"}, "five fields"),
        ({"grace_s": 30, "cron": "0 0 30 2 *"}, "never fires"),
        ({"grace_s": 30, "period_s": 60, "tz": "Mars/Base"}, "unknown timezone"),
        ({"grace_s": 30, "period_s": 60, "tz": "Europe"}, "unknown timezone"),
        ({"grace_s": 30, "period_s": 60, "tz": "../etc"}, "unknown timezone"),
        ({"grace_s": 0.5, "period_s": 60}, "grace 0.5 s is out of range; use 1 s to 365 d"),
        ({"grace_s": 30, "period_s": 0}, "period 0 s is out of range"),
        ({"grace_s": 30, "period_s": 400 * 86400}, "period"),
        ({"grace_s": 30, "period_s": float("nan")}, "period"),
        ({"grace_s": True, "period_s": 60}, "not a number"),
    ],
)
def test_bad_schedules_say_what_to_fix(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        Schedule(**kwargs)  # type: ignore[arg-type]


def test_schedule_limits_are_inclusive() -> None:
    Schedule(grace_s=1, period_s=1)
    Schedule(grace_s=365 * 86400, period_s=365 * 86400)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="no timezone"):
        judge(EVERY_MINUTE, pinged(), naive)
    with pytest.raises(ValueError, match="no timezone"):
        apply_ping(pinged(), PingKind.SUCCESS, naive)
    with pytest.raises(ValueError, match=r"created .* no timezone"):
        HeartbeatState(created=naive)
    with pytest.raises(ValueError, match=r"last_ping .* no timezone"):
        HeartbeatState(created=T0, last_ping=naive)
    with pytest.raises(ValueError, match="no timezone"):
        EVERY_MINUTE.next_expected(naive)


def test_other_timezones_come_out_as_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    state = HeartbeatState(created=datetime(2026, 11, 22, 11, 0, tzinfo=berlin))
    assert state.created == T0 and state.created.tzinfo is UTC
    state = apply_ping(state, PingKind.SUCCESS, datetime(2026, 11, 22, 11, 0, 5, tzinfo=berlin))
    assert state.last_ping == at(5) and state.last_ping.tzinfo is UTC
    verdict = judge(EVERY_MINUTE, state, at(10))
    assert verdict.next_deadline == at(95)
    assert verdict.next_deadline is not None and verdict.next_deadline.tzinfo is UTC


# --- ping kinds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "suffix", "kind"),
    [
        (None, None, PingKind.SUCCESS),
        (None, "/start", PingKind.START),
        (None, "start", PingKind.START),
        (None, "/fail", PingKind.FAIL),
        (None, "fail", PingKind.FAIL),
        (None, "/0", PingKind.SUCCESS),
        (None, "/3", PingKind.FAIL),
        (0, None, PingKind.SUCCESS),
        (1, None, PingKind.FAIL),
        (3, None, PingKind.FAIL),
        (255, None, PingKind.FAIL),
    ],
)
def test_ping_kinds(status: int | None, suffix: str | None, kind: PingKind) -> None:
    assert ping_kind(status, suffix) is kind


@pytest.mark.parametrize(
    ("status", "suffix"),
    [
        (256, None),
        (-1, None),
        (None, "/256"),
        (None, "log2"),
        (None, "/log"),
        (None, "/-1"),
        (None, "/"),
        (None, "/Start"),
        (None, "/٣"),  # a digit, but not an ASCII one
        (3, "/start"),
    ],
)
def test_unknown_pings_name_the_valid_forms(status: int | None, suffix: str | None) -> None:
    with pytest.raises(ValueError) as caught:
        ping_kind(status, suffix)
    for form in ("/ping/<token>", "/start", "/fail", "/0-255"):
        assert form in str(caught.value)
