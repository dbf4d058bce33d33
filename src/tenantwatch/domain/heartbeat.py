"""Heartbeats (push checks), as Healthchecks.io judges them.

A job pings `/ping/<token>` when it succeeds, `/start` when it begins, `/fail` or a
non-zero `/<exit status>` when it fails. The check is up while pings arrive on schedule:
every `period` (simple) or at each tick of a cron expression in a timezone (cron), each
with `grace` to spare. A `/fail` turns it down at once; a `/start` not followed by a
completing ping within `grace` turns it down too.

This product's choice for a check that never pinged: its deadline counts from when it
was created, as if it had been pinged then (Healthchecks keeps such checks "new"
forever; here a job that never reports is noticed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

MIN_S = 1.0
MAX_S = 365 * 86400.0


class PingKind(StrEnum):
    SUCCESS = "success"
    START = "start"
    FAIL = "fail"


def ping_kind(exit_status: int | None, suffix: str | None) -> PingKind:
    """The kind of a ping from its URL suffix ("start", "fail") or exit status (0-255)."""
    if suffix is None and exit_status is None:
        return PingKind.SUCCESS
    if suffix == "start":
        return PingKind.START
    if suffix == "fail":
        return PingKind.FAIL
    if exit_status is not None and 0 <= exit_status <= 255:
        return PingKind.SUCCESS if exit_status == 0 else PingKind.FAIL
    raise ValueError(
        "unknown ping; use /ping/<token>, /ping/<token>/start, /ping/<token>/fail "
        "or /ping/<token>/<exit status 0-255>"
    )


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{what} must carry a timezone")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Either period_s (simple) or cron + tz (cron); grace_s for both."""

    grace_s: float
    period_s: float | None = None
    cron: str | None = None
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if (self.period_s is None) == (self.cron is None):
            raise ValueError("give a heartbeat either a period (e.g. 1h) or a cron expression")
        if not MIN_S <= self.grace_s <= MAX_S:
            raise ValueError("grace must be between 1s and 365d")
        if self.period_s is not None and not MIN_S <= self.period_s <= MAX_S:
            raise ValueError("period must be between 1s and 365d")
        if self.cron is not None and (
            len(self.cron.split()) != 5 or not croniter.is_valid(self.cron)
        ):
            raise ValueError(
                f"cron expression {self.cron!r} is not valid; use five fields, "
                "e.g. '*/5 * * * *' or '0 3 * * 1-5'"
            )
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {self.tz!r}; use an IANA name such as 'Europe/Berlin'"
            ) from None

    def next_expected(self, after: datetime) -> datetime:
        """When the next ping is due after a ping at `after`."""
        if self.period_s is not None:
            return after + timedelta(seconds=self.period_s)
        assert self.cron is not None
        local = after.astimezone(ZoneInfo(self.tz))
        tick: datetime = croniter(self.cron, local).get_next(datetime)
        return tick.astimezone(UTC)

    def describe(self) -> str:
        grace = f"{self.grace_s:g} s grace"
        if self.period_s is not None:
            return f"every {self.period_s:g} s + {grace}"
        return f"at '{self.cron}' ({self.tz}) + {grace}"


@dataclass(frozen=True, slots=True)
class HeartbeatState:
    created: datetime
    last_ping: datetime | None = None
    last_start: datetime | None = None
    last_fail: datetime | None = None
    last_kind: PingKind | None = None
    last_duration_s: float | None = None


def apply_ping(state: HeartbeatState, kind: PingKind, now: datetime) -> HeartbeatState:
    """The state after a ping at `now`."""
    now = _aware(now, "now")
    if kind is PingKind.START:
        return replace(state, last_start=now, last_kind=kind)
    duration = (now - state.last_start).total_seconds() if state.last_start else None
    if kind is PingKind.SUCCESS:
        return replace(
            state, last_ping=now, last_kind=kind, last_start=None, last_duration_s=duration
        )
    return replace(state, last_fail=now, last_kind=kind, last_start=None, last_duration_s=duration)


class HeartbeatStatus(StrEnum):
    NEW = "new"
    UP = "up"
    GRACE = "grace"
    DOWN = "down"
    STARTED = "started"


@dataclass(frozen=True, slots=True)
class Verdict:
    status: HeartbeatStatus
    up: bool
    reason: str
    next_deadline: datetime | None


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def judge(schedule: Schedule, state: HeartbeatState, now: datetime) -> Verdict:
    """Whether the heartbeat is up at `now`, why, and when it would next go down."""
    now = _aware(now, "now")
    grace = timedelta(seconds=schedule.grace_s)
    if state.last_kind is PingKind.FAIL:
        at = state.last_fail or now
        return Verdict(HeartbeatStatus.DOWN, False, f"the job reported failure at {_iso(at)}", None)
    if state.last_start is not None:
        finish_by = state.last_start + grace
        if now > finish_by:
            started = (now - state.last_start).total_seconds()
            return Verdict(
                HeartbeatStatus.DOWN,
                False,
                f"started {started:.0f} s ago and did not finish within the "
                f"{schedule.grace_s:g} s grace",
                None,
            )
        return Verdict(HeartbeatStatus.STARTED, True, "the job is running", finish_by)
    anchor = state.last_ping or _aware(state.created, "created")
    expected = schedule.next_expected(anchor)
    deadline = expected + grace
    if now > deadline:
        since = f"since {_iso(state.last_ping)}" if state.last_ping else "ever"
        return Verdict(
            HeartbeatStatus.DOWN,
            False,
            f"no ping {since}; expected {schedule.describe()}",
            None,
        )
    if state.last_ping is None:
        return Verdict(HeartbeatStatus.NEW, True, "waiting for the first ping", deadline)
    if now > expected:
        return Verdict(HeartbeatStatus.GRACE, True, f"ping late since {_iso(expected)}", deadline)
    return Verdict(HeartbeatStatus.UP, True, f"last ping at {_iso(state.last_ping)}", deadline)
