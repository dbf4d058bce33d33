"""On-call schedules: who is on call at a moment, and the shifts over a span.

A schedule has layers (rotations) and overrides, as in PagerDuty. A rotation hands off
among its users at fixed local times: every `length` ('daily', 'weekly', '<N>h',
'<N>d' or '<N>w') from the first handoff, which is the start date at `handoff_time`
(by default the start's own time). The first user is on call from `start` until the
first handoff after it. Handoffs are computed on local wall-clock time in the schedule's
timezone, so a weekly Monday 09:00 handoff stays at 09:00 across daylight-saving
changes (that week's shift is 167 or 169 hours); a handoff at a local time that does
not exist that day happens at the same wall-clock time with the offset before the change
(02:30 becomes 03:30), and an ambiguous one at its first instance.

Restrictions limit a rotation to local windows (e.g. weekdays 09:00-17:00; an end at or
before the start runs past midnight); outside them the layer has nobody. Later
rotations are higher layers: the highest layer with someone on call wins, and an
override beats every layer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_LENGTH = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class Restriction:
    """A local window on some weekdays (0 = Monday); no days means every day."""

    start: str = "00:00"
    end: str = "00:00"
    days: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        parse_clock(self.start)
        parse_clock(self.end, allow_24=True)
        for d in self.days:
            if d not in range(7):
                raise ValueError(f"weekday {d!r} out of range; use 0 (Monday) to 6 (Sunday)")

    def covers(self, local: datetime) -> bool:
        """Return True if the naive local time lies inside the window."""
        start, end = parse_clock(self.start), parse_clock(self.end, allow_24=True)
        t, day = local.time(), local.weekday()
        if start < end:
            return self._on(day) and start <= t < end
        # runs past midnight (equal start and end: a whole day from `start`)
        return (self._on(day) and t >= start) or (self._on((day - 1) % 7) and t < end)

    def _on(self, weekday: int) -> bool:
        return not self.days or weekday in self.days

    def edges(self, first: date, last: date) -> Iterable[datetime]:
        """The naive local starts and ends of its windows on days first..last."""
        start, end = parse_clock(self.start), parse_clock(self.end, allow_24=True)
        day = first
        while day <= last:
            if self._on(day.weekday()):
                yield datetime.combine(day, start)
                end_day = day if start < end else day + timedelta(days=1)
                yield datetime.combine(end_day, end)
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Rotation:
    users: tuple[str, ...]
    start: str  # local ISO datetime in the schedule's timezone
    length: str = "weekly"
    handoff_time: str | None = None  # 'HH:MM' local; default: the start's time
    restrictions: tuple[Restriction, ...] = ()

    def __post_init__(self) -> None:
        if not self.users or not all(isinstance(u, str) and u.strip() for u in self.users):
            raise ValueError("a rotation needs at least one user, e.g. users: [alice, bob]")
        parse_length(self.length)
        _parse_local(self.start)
        if self.handoff_time is not None:
            parse_clock(self.handoff_time)


@dataclass(frozen=True, slots=True)
class Override:
    user: str
    start_ts: float
    end_ts: float

    def __post_init__(self) -> None:
        if not self.user:
            raise ValueError("an override needs a user")
        if not (math.isfinite(self.start_ts) and math.isfinite(self.end_ts)):
            raise ValueError("an override needs a valid start and end")
        if self.end_ts <= self.start_ts:
            raise ValueError("an override must end after it starts")

    def covers(self, ts: float) -> bool:
        return self.start_ts <= ts < self.end_ts


@dataclass(frozen=True, slots=True)
class OnCallSchedule:
    name: str
    timezone: str
    rotations: tuple[Rotation, ...] = ()
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        _zone(self.timezone)


@dataclass(frozen=True, slots=True)
class Shift:
    user: str
    start: float
    end: float


# -- parsing helpers -------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin'"
        ) from None


def parse_clock(text: str, allow_24: bool = False) -> time:
    """Return the time of an 'HH:MM' string ('24:00' only where allowed, as midnight)."""
    match = _CLOCK.match(text.strip()) if isinstance(text, str) else None
    if match is not None:
        hour, minute = int(match.group(1)), int(match.group(2))
        if allow_24 and (hour, minute) == (24, 0):
            return time(0, 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"invalid time of day {text!r}; write HH:MM, e.g. '09:00'")


def parse_length(text: str) -> timedelta:
    """Return the wall-clock length of a shift: 'daily', 'weekly', '<N>h', '<N>d', '<N>w'."""
    if isinstance(text, str):
        word = text.strip().lower()
        if word == "daily":
            return timedelta(days=1)
        if word == "weekly":
            return timedelta(weeks=1)
        match = _LENGTH.match(word)
        if match is not None and int(match.group(1)) > 0:
            n, unit = int(match.group(1)), match.group(2)
            return {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
    raise ValueError(
        f"invalid rotation length {text!r}; use 'daily', 'weekly', or a count of hours, "
        "days or weeks such as '12h', '2d' or '2w'"
    )


def _parse_local(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError, TypeError):
        raise ValueError(
            f"invalid start {text!r}; write a local date and time such as '2024-03-04T09:00'"
        ) from None


def _local(ts: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, tz).replace(tzinfo=None)


def _instant(local: datetime, tz: ZoneInfo) -> float:
    return local.replace(tzinfo=tz).timestamp()


# -- one rotation ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    tz: ZoneInfo
    start_ts: float
    anchor: datetime  # naive local first handoff
    length: timedelta
    first_index: int  # the shift containing start belongs to users[0]


@lru_cache(maxsize=256)
def _plan(rotation: Rotation, timezone: str) -> _Plan:
    tz = _zone(timezone)
    start = _parse_local(rotation.start)
    if start.tzinfo is not None:
        start = start.astimezone(tz).replace(tzinfo=None)
    handoff = parse_clock(rotation.handoff_time) if rotation.handoff_time else start.time()
    anchor = datetime.combine(start.date(), handoff)
    length = parse_length(rotation.length)
    start_ts = _instant(start, tz)
    plan = _Plan(tz, start_ts, anchor, length, 0)
    return _Plan(tz, start_ts, anchor, length, _shift_index(plan, start_ts))


def _boundary(plan: _Plan, k: int) -> float:
    return _instant(plan.anchor + k * plan.length, plan.tz)


def _shift_index(plan: _Plan, ts: float) -> int:
    """Index k of the shift [boundary(k), boundary(k+1)) holding the instant ts."""
    k = math.floor((_local(ts, plan.tz) - plan.anchor) / plan.length)
    while _boundary(plan, k) > ts:
        k -= 1
    while _boundary(plan, k + 1) <= ts:
        k += 1
    return k


def rotation_user(rotation: Rotation, timezone: str, ts: float) -> str | None:
    """Return who this rotation has on call at ts, or None (before start, restricted)."""
    plan = _plan(rotation, timezone)
    if ts < plan.start_ts:
        return None
    if rotation.restrictions and not any(
        r.covers(_local(ts, plan.tz)) for r in rotation.restrictions
    ):
        return None
    k = _shift_index(plan, ts)
    return rotation.users[(k - plan.first_index) % len(rotation.users)]


def _rotation_edges(rotation: Rotation, timezone: str, start: float, end: float) -> set[float]:
    plan = _plan(rotation, timezone)
    edges = {plan.start_ts}
    k = _shift_index(plan, max(start, plan.start_ts))
    while (b := _boundary(plan, k)) < end:
        edges.add(b)
        k += 1
    first = _local(start, plan.tz).date() - timedelta(days=1)
    last = _local(end, plan.tz).date() + timedelta(days=1)
    for r in rotation.restrictions:
        edges.update(_instant(e, plan.tz) for e in r.edges(first, last))
    return {e for e in edges if start < e < end}


# -- the schedule ----------------------------------------------------------------------------


def on_call(schedule: OnCallSchedule, now: float) -> list[str]:
    """Return who is on call at `now`: the users of active overrides if there are any,
    else the user of the highest (last) rotation that has someone; [] when nobody."""
    overriding = [o.user for o in schedule.overrides if o.covers(now)]
    if overriding:
        return list(dict.fromkeys(overriding))
    for rotation in reversed(schedule.rotations):
        user = rotation_user(rotation, schedule.timezone, now)
        if user is not None:
            return [user]
    return []


def shifts(schedule: OnCallSchedule, start: float, end: float) -> list[Shift]:
    """Return the final schedule between start and end as shifts, in start order.

    Adjacent time with the same user is one shift; shifts are cut at start and end;
    overlapping overrides give overlapping shifts.
    """
    if end <= start:
        return []
    points = {start, end}
    for rotation in schedule.rotations:
        points |= _rotation_edges(rotation, schedule.timezone, start, end)
    for o in schedule.overrides:
        points.update(p for p in (o.start_ts, o.end_ts) if start < p < end)
    ordered = sorted(points)
    out: list[Shift] = []
    open_: dict[str, int] = {}  # user -> index in out of the shift still running
    for a, b in pairwise(ordered):
        users = on_call(schedule, a)
        for user in users:
            i = open_.get(user)
            if i is not None and out[i].end == a:
                out[i] = Shift(user, out[i].start, b)
            else:
                open_[user] = len(out)
                out.append(Shift(user, a, b))
    return sorted(out, key=lambda s: (s.start, s.user))


# -- configuration ---------------------------------------------------------------------------


def schedule_from_mapping(data: Any, where: str = "oncall") -> OnCallSchedule:
    """Return a schedule from config such as::

        name: primary
        timezone: Europe/Berlin
        rotations:
          - users: [alice, bob]
            start: "2024-03-04T09:00"
            length: weekly
            handoff_time: "09:00"
            restrictions: [{days: [mon-fri], start: "09:00", end: "17:00"}]
        overrides:
          - {user: carol, start: "2024-03-09T00:00", end: "2024-03-10T00:00"}

    Override times are local unless they carry an offset; numbers are unix seconds.
    Raise ValueError naming the field (prefixed with `where`) and how to fix it.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a mapping with name, timezone and rotations")
    _no_unknown(data, {"name", "timezone", "rotations", "overrides"}, where)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}.name: give the schedule a name, e.g. 'primary'")
    where = f"{where} {name!r}"
    timezone = data.get("timezone", "UTC")
    try:
        tz = _zone(timezone)
    except ValueError as exc:
        raise ValueError(f"{where}.timezone: {exc}") from None
    rotations = _list(data.get("rotations", []), f"{where}.rotations")
    overrides = _list(data.get("overrides", []), f"{where}.overrides")
    if not rotations and not overrides:
        raise ValueError(f"{where}: give at least one rotation")
    return OnCallSchedule(
        name=name,
        timezone=timezone,
        rotations=tuple(
            _rotation(item, f"{where}.rotations[{i}]") for i, item in enumerate(rotations)
        ),
        overrides=tuple(
            _override(item, tz, f"{where}.overrides[{i}]") for i, item in enumerate(overrides)
        ),
    )


def _no_unknown(data: Mapping[Any, Any], allowed: set[str], where: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(
            f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list")
    return value


def _rotation(item: Any, where: str) -> Rotation:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a mapping with users, start and length")
    _no_unknown(item, {"users", "start", "length", "handoff_time", "restrictions"}, where)
    users = item.get("users")
    if not isinstance(users, list) or not users or not all(isinstance(u, str) for u in users):
        raise ValueError(f"{where}.users: give a list of user names, e.g. [alice, bob]")
    start = item.get("start")
    if isinstance(start, datetime):
        start = start.isoformat()
    if not isinstance(start, str):
        raise ValueError(f"{where}.start: give a local date and time such as '2024-03-04T09:00'")
    fields: dict[str, Any] = {
        "users": tuple(users),
        "start": start,
        "length": str(item.get("length", "weekly")),
        "handoff_time": item.get("handoff_time"),
    }
    raw = _list(item.get("restrictions"), f"{where}.restrictions")
    fields["restrictions"] = tuple(
        _restriction(r, f"{where}.restrictions[{i}]") for i, r in enumerate(raw)
    )
    try:
        return Rotation(**fields)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _restriction(item: Any, where: str) -> Restriction:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a mapping like {{days: [mon-fri], start: '09:00'}}")
    _no_unknown(item, {"days", "start", "end"}, where)
    days: list[int] = []
    for spec in _list(item.get("days"), f"{where}.days"):
        days.extend(_weekdays(spec, f"{where}.days"))
    try:
        return Restriction(
            start=str(item.get("start", "00:00")),
            end=str(item.get("end", "00:00")),
            days=tuple(sorted(set(days))),
        )
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _weekdays(spec: Any, where: str) -> list[int]:
    text = str(spec).strip().lower()
    first, _, last = text.partition("-")
    a, b = _weekday(first), _weekday(last or first)
    if a is None or b is None:
        raise ValueError(
            f"{where}: unknown weekday {spec!r}; use mon..sun (or monday..sunday) "
            "or a range like mon-fri"
        )
    return [(a + i) % 7 for i in range((b - a) % 7 + 1)]


def _weekday(name: str) -> int | None:
    name = name.strip()
    for i, short in enumerate(_DAYS):
        if name == short or name == _FULL_DAYS[i]:
            return i
    return None


def _override(item: Any, tz: ZoneInfo, where: str) -> Override:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a mapping with user, start and end")
    _no_unknown(item, {"user", "start", "end"}, where)
    user = item.get("user")
    if not isinstance(user, str) or not user.strip():
        raise ValueError(f"{where}.user: give the user who takes over")
    start = _timestamp(item.get("start"), tz, f"{where}.start")
    end = _timestamp(item.get("end"), tz, f"{where}.end")
    if end <= start:
        raise ValueError(f"{where}: end must be after start")
    return Override(user, start, end)


def _timestamp(value: Any, tz: ZoneInfo, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{where}: invalid time {value!r}; write '2024-03-09T08:00' (local) or "
                "with an offset such as '2024-03-09T08:00+01:00'"
            ) from None
    else:
        raise ValueError(f"{where}: give a date and time such as '2024-03-09T08:00'")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()
