"""Heartbeats as Healthchecks judges them: period + grace, cron + timezone, start and fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def pinged(seconds: float = 0) -> HeartbeatState:
    return apply_ping(HeartbeatState(created=T0), PingKind.SUCCESS, at(seconds))


def test_up_then_grace_then_down_exactly_past_the_deadline() -> None:
    state = pinged()
    assert judge(EVERY_MINUTE, state, at(59)).status is HeartbeatStatus.UP
    grace = judge(EVERY_MINUTE, state, at(61))
    assert grace.status is HeartbeatStatus.GRACE and grace.up
    assert judge(EVERY_MINUTE, state, at(90)).up  # exactly at the deadline: still up
    down = judge(EVERY_MINUTE, state, at(90.001))
    assert down.status is HeartbeatStatus.DOWN and not down.up
    assert "no ping since 2026-11-22T10:00:00Z" in down.reason
    assert judge(EVERY_MINUTE, state, at(30)).next_deadline == at(90)


def test_a_new_check_goes_down_when_it_never_pings() -> None:
    state = HeartbeatState(created=T0)
    assert judge(EVERY_MINUTE, state, at(80)).status is HeartbeatStatus.NEW
    assert judge(EVERY_MINUTE, state, at(91)).status is HeartbeatStatus.DOWN


def test_fail_turns_it_down_at_once_and_a_success_brings_it_back() -> None:
    state = apply_ping(pinged(), PingKind.FAIL, at(5))
    assert judge(EVERY_MINUTE, state, at(6)).status is HeartbeatStatus.DOWN
    state = apply_ping(state, PingKind.SUCCESS, at(7))
    assert judge(EVERY_MINUTE, state, at(8)).status is HeartbeatStatus.UP


def test_start_then_success_records_the_run_time() -> None:
    state = apply_ping(pinged(), PingKind.START, at(60))
    assert judge(EVERY_MINUTE, state, at(70)).status is HeartbeatStatus.STARTED
    state = apply_ping(state, PingKind.SUCCESS, at(72.5))
    assert state.last_duration_s == pytest.approx(12.5)
    assert state.last_start is None


def test_a_start_that_never_finishes_goes_down_after_the_grace() -> None:
    state = apply_ping(pinged(), PingKind.START, at(60))
    verdict = judge(EVERY_MINUTE, state, at(91))
    assert verdict.status is HeartbeatStatus.DOWN
    assert "did not finish within the 30 s grace" in verdict.reason


def test_cron_ticks_in_the_timezone_across_dst() -> None:
    nine_berlin = Schedule(grace_s=600, cron="0 9 * * *", tz="Europe/Berlin")
    # before the change (CET, UTC+1): 09:00 local is 08:00 UTC
    before = apply_ping(
        HeartbeatState(created=T0), PingKind.SUCCESS, datetime(2026, 3, 27, 8, 5, tzinfo=UTC)
    )
    assert nine_berlin.next_expected(before.last_ping or T0) == datetime(
        2026, 3, 28, 8, 0, tzinfo=UTC
    )
    # after the change on 2026-03-29 (CEST, UTC+2): 09:00 local is 07:00 UTC
    after = datetime(2026, 3, 28, 8, 5, tzinfo=UTC)
    assert nine_berlin.next_expected(after) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    state = apply_ping(HeartbeatState(created=T0), PingKind.SUCCESS, after)
    assert judge(nine_berlin, state, datetime(2026, 3, 29, 7, 9, tzinfo=UTC)).up
    assert not judge(nine_berlin, state, datetime(2026, 3, 29, 7, 11, tzinfo=UTC)).up


def test_every_five_minutes() -> None:
    five = Schedule(grace_s=60, cron="*/5 * * * *")
    state = pinged(1)
    assert five.next_expected(at(1)) == at(300)
    assert judge(five, state, at(359)).status is HeartbeatStatus.GRACE
    assert judge(five, state, at(361)).status is HeartbeatStatus.DOWN


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"grace_s": 30}, "either a period"),
        ({"grace_s": 30, "period_s": 60, "cron": "* * * * *"}, "either a period"),
        ({"grace_s": 30, "cron": "61 * * * *"}, "not valid"),
        ({"grace_s": 30, "cron": "* * * *"}, "five fields"),
        ({"grace_s": 30, "period_s": 60, "tz": "Mars/Base"}, "unknown timezone"),
        ({"grace_s": 0.5, "period_s": 60}, "grace"),
        ({"grace_s": 30, "period_s": 400 * 86400}, "period"),
    ],
)
def test_bad_schedules_say_what_to_fix(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Schedule(**kwargs)  # type: ignore[arg-type]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        judge(EVERY_MINUTE, pinged(), datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("status", "suffix", "kind"),
    [
        (None, None, PingKind.SUCCESS),
        (None, "start", PingKind.START),
        (None, "fail", PingKind.FAIL),
        (0, None, PingKind.SUCCESS),
        (3, None, PingKind.FAIL),
        (255, None, PingKind.FAIL),
    ],
)
def test_ping_kinds(status: int | None, suffix: str | None, kind: PingKind) -> None:
    assert ping_kind(status, suffix) is kind


@pytest.mark.parametrize(("status", "suffix"), [(256, None), (None, "log2"), (-1, None)])
def test_unknown_pings(status: int | None, suffix: str | None) -> None:
    with pytest.raises(ValueError, match="/ping/<token>"):
        ping_kind(status, suffix)
