"""Heartbeats (push checks), judged the way Healthchecks.io judges them.

A job pings `/ping/<token>` when it succeeds, `/ping/<token>/start` when it begins and
`/ping/<token>/fail` (or a non-zero `/ping/<token>/<exit status>`) when it fails. The
check is up while pings arrive on schedule: every `period` (simple kind) or at each tick
of a cron expression read in a timezone (cron kind), each with `grace` to spare.

Rules, as in Healthchecks:
- A failure turns the check down at once; it stays down until a success ping.
- A `/start` not followed by a completing ping within `grace` turns it down. A start
  never extends the regular deadline: the check goes down at
  min(start, expected ping) + grace.
- Exactly at a deadline the check is still up; strictly after it, it is down.

This product's choice for a check that never pinged: its deadline counts from when it
was created, as if it had been pinged then (Healthchecks keeps such checks "new" for
ever). A job that never reports is therefore noticed after created + period + grace.

Cron ticks follow cron's daylight-saving rules: a tick in the skipped hour fires right
after the clocks jump, and a fixed-time job (minute and hour both given) is not
expected twice when the clocks fall back.

Every datetime in and out is timezone-aware UTC; naive datetimes are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

MIN_S = 1.0
MAX_S = 365 * 86400.0
MAX_EXIT_STATUS = 255
PING_FORMS = (
    "valid forms are /ping/<token>, /ping/<token>/start, /ping/<token>/fail "
    "and /ping/<token>/0-255 (the job's exit status)"
)
# A cron expression is probed once from here to reject ones that never fire (30 February).
_CRON_PROBE_FROM = datetime(2026, 1, 1, tzinfo=UTC)


class PingKind(StrEnum):
    """What a ping says about the job: it succeeded, it started, or it failed."""

    SUCCESS = "success"
    START = "start"
    FAIL = "fail"


_WORDS = {"start": PingKind.START, "fail": PingKind.FAIL}


def ping_kind(exit_status: int | None, suffix: str | None) -> PingKind:
    """The kind of a ping from its URL suffix ("/start", "/fail", "/<n>") or exit status.

    A suffix may be written with or without its leading slash. Exit status 0 is a
    success and 1-255 a failure; anything else raises ValueError.
    """
    if suffix is not None:
        word = suffix.removeprefix("/")
        if word in _WORDS and exit_status is None:
            return _WORDS[word]
        if not (word.isascii() and word.isdigit() and exit_status is None):
            raise ValueError(f"unknown ping suffix {suffix!r}; {PING_FORMS}")
        exit_status = int(word)
    if exit_status is None:
        return PingKind.SUCCESS
    if isinstance(exit_status, bool) or not 0 <= exit_status <= MAX_EXIT_STATUS:
        raise ValueError(f"exit status {exit_status!r} is not 0-255; {PING_FORMS}")
    return PingKind.SUCCESS if exit_status == 0 else PingKind.FAIL


def _utc(value: datetime, what: str) -> datetime:
    """`value` in UTC; ValueError when it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} {value.isoformat()} has no timezone; pass an aware UTC datetime")
    return value.astimezone(UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_seconds(what: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"heartbeat {what} {value!r} is not a number of seconds, e.g. 300")
    if not MIN_S <= value <= MAX_S:  # also refuses NaN
        raise ValueError(f"heartbeat {what} {value:g} s is out of range; use 1 s to 365 d")


def _check_cron(expr: str) -> None:
    hint = "use five fields (minute hour day month weekday), e.g. '*/5 * * * *' or '0 3 * * 1-5'"
    if len(expr.split()) != 5 or not croniter.is_valid(expr):
        raise ValueError(f"cron expression {expr!r} is not valid; {hint}")
    try:
        croniter(expr, _CRON_PROBE_FROM).get_next(datetime)
    except CroniterError:
        raise ValueError(f"cron expression {expr!r} never fires; {hint}") from None


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown timezone {tz!r}; use an IANA name such as 'UTC' or 'Europe/Berlin'"
        ) from None


def _second_pass(t: datetime) -> bool:
    """Whether local time `t` is the repeat of a wall time the clocks fall back over."""
    return t.fold == 1 and t.replace(fold=0).astimezone(UTC) < t.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Either period_s (simple) or cron + tz (cron kind); grace_s for both."""

    grace_s: float
    period_s: float | None = None
    cron: str | None = None
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if (self.period_s is None) == (self.cron is None):
            raise ValueError(
                "give a heartbeat either a period (e.g. 3600) or a cron expression "
                "(e.g. '0 3 * * *'), not both or neither"
            )
        _check_seconds("grace", self.grace_s)
        if self.period_s is not None:
            _check_seconds("period", self.period_s)
        if self.cron is not None:
            _check_cron(self.cron)
        _zone(self.tz)

    def next_expected(self, after: datetime) -> datetime:
        """When the next ping is due after one at `after` (UTC in and out)."""
        after = _utc(after, "after")
        if self.period_s is not None:
            return after + timedelta(seconds=self.period_s)
        assert self.cron is not None
        ticks = croniter(self.cron, after.astimezone(_zone(self.tz)))
        tick: datetime = ticks.get_next(datetime)
        if self._fixed_time() and _second_pass(tick):
            tick = ticks.get_next(datetime)
        return tick.astimezone(UTC)

    def _fixed_time(self) -> bool:
        """Cron's notion of a job at a specific time: no '*' in minute or hour."""
        assert self.cron is not None
        minute, hour = self.cron.split()[:2]
        return "*" not in minute and "*" not in hour

    def describe(self) -> str:
        """The schedule in words, e.g. "every 60 s + 30 s grace"."""
        grace = f"{self.grace_s:g} s grace"
        if self.period_s is not None:
            return f"every {self.period_s:g} s + {grace}"
        return f"at '{self.cron}' ({self.tz}) + {grace}"


@dataclass(frozen=True, slots=True)
class HeartbeatState:
    """What the pings so far have told; all datetimes are normalised to UTC."""

    created: datetime
    last_ping: datetime | None = None  # last success ping
    last_start: datetime | None = None  # last /start not yet followed by success or fail
    last_fail: datetime | None = None
    last_kind: PingKind | None = None
    last_duration_s: float | None = None  # from /start to the completing ping

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                object.__setattr__(self, f.name, _utc(value, f.name))


def apply_ping(state: HeartbeatState, kind: PingKind, now: datetime) -> HeartbeatState:
    """The state after a ping of `kind` at `now`."""
    now = _utc(now, "now")
    if kind is PingKind.START:
        return replace(state, last_start=now, last_kind=kind)
    duration = (now - state.last_start).total_seconds() if state.last_start else None
    completed = replace(state, last_kind=kind, last_start=None, last_duration_s=duration)
    if kind is PingKind.SUCCESS:
        return replace(completed, last_ping=now)
    return replace(completed, last_fail=now)


class HeartbeatStatus(StrEnum):
    NEW = "new"
    UP = "up"
    GRACE = "grace"
    DOWN = "down"
    STARTED = "started"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A heartbeat's status at one moment, why, and when it would next go down."""

    status: HeartbeatStatus
    up: bool  # False only for DOWN
    reason: str
    next_deadline: datetime | None  # None when already down


def _down(reason: str) -> Verdict:
    return Verdict(HeartbeatStatus.DOWN, False, reason, None)


def _last_run_failed(state: HeartbeatState) -> bool:
    """Whether the most recent completed run reported failure (a later /start keeps it so)."""
    if state.last_kind is PingKind.FAIL:
        return True
    return state.last_fail is not None and (
        state.last_ping is None or state.last_fail >= state.last_ping
    )


def judge(schedule: Schedule, state: HeartbeatState, now: datetime) -> Verdict:
    """Whether the heartbeat is up at `now`, why, and when it would next go down."""
    now = _utc(now, "now")
    if _last_run_failed(state):
        assert state.last_fail is not None
        return _down(
            f"the job reported failure: last ping was /fail at {_iso(state.last_fail)}; "
            "a success ping clears it"
        )
    expected = schedule.next_expected(state.last_ping or state.created)
    grace = timedelta(seconds=schedule.grace_s)
    if state.last_start is not None:
        return _judge_started(schedule, state, state.last_start, expected, now)
    deadline = expected + grace
    if now > deadline:
        return _down(_no_ping(schedule, state))
    if state.last_ping is None:
        return Verdict(
            HeartbeatStatus.NEW,
            True,
            f"no ping yet; the first is due by {_iso(expected)}",
            deadline,
        )
    if now > expected:
        return Verdict(
            HeartbeatStatus.GRACE,
            True,
            f"ping is late: expected by {_iso(expected)}; down after {_iso(deadline)}",
            deadline,
        )
    return Verdict(
        HeartbeatStatus.UP,
        True,
        f"last ping at {_iso(state.last_ping)}; next expected by {_iso(expected)}",
        deadline,
    )


def _judge_started(
    schedule: Schedule, state: HeartbeatState, start: datetime, expected: datetime, now: datetime
) -> Verdict:
    """A run is under way: it must finish within grace, and cannot push the deadline back."""
    deadline = min(start, expected) + timedelta(seconds=schedule.grace_s)
    if now <= deadline:
        return Verdict(
            HeartbeatStatus.STARTED,
            True,
            f"started at {_iso(start)}; must finish by {_iso(deadline)}",
            deadline,
        )
    if start > expected:
        return _down(_no_ping(schedule, state))
    return _down(
        f"started {(now - start).total_seconds():.0f} s ago and did not finish within the "
        f"{schedule.grace_s:g} s grace"
    )


def _no_ping(schedule: Schedule, state: HeartbeatState) -> str:
    if state.last_ping is None:
        since = f"no ping since the check was created at {_iso(state.created)}"
    else:
        since = f"no ping since {_iso(state.last_ping)}"
    return f"{since}; expected {schedule.describe()}"
