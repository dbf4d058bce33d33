"""Alertmanager's time intervals (mute_time_intervals / active_time_intervals).

An interval contains a moment when every field it sets matches, in its `location` (IANA
timezone, default UTC): `times` (start_time..end_time, HH:MM, end exclusive, 24:00
allowed), `weekdays` (names or ranges like monday:friday; the week runs sunday..saturday,
as in Go), `days_of_month` (1..31, or negative from the month's end: -1 is the last day;
ranges), `months` (names or numbers, ranges) and `years` (ranges). A named interval is a
list of these and is active when any of them is.

Differences from Alertmanager 0.25, all on the safe side: months outside 1..12 are
rejected (Alertmanager accepts them and they never match); negative days count from the
month's real last day even across a DST change (0.25 miscounted March in zones with DST;
fixed upstream later). Location `Local` is the zone the caller passes as `local_zone`
(the host's; see host_zone.py), UTC when none is given.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = tuple(m.lower() for m in calendar.month_name[1:])
KEYS = ("times", "weekdays", "days_of_month", "months", "years", "location")
Range = tuple[int, int]
_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")


@dataclass(frozen=True, slots=True)
class TimeInterval:
    times: tuple[Range, ...] = ()  # minutes of the day, [start, end)
    weekdays: tuple[Range, ...] = ()  # 0 = sunday .. 6 = saturday, inclusive
    days_of_month: tuple[Range, ...] = ()  # negative: from the month's end
    months: tuple[Range, ...] = ()
    years: tuple[Range, ...] = ()
    location: str = "UTC"

    def contains(self, ts: float) -> bool:
        """Whether the moment (unix seconds) falls in this interval."""
        t = datetime.fromtimestamp(ts, ZoneInfo(self.location))
        minute = t.hour * 60 + t.minute
        if self.times and not any(a <= minute < b for a, b in self.times):
            return False
        if self.days_of_month and not _day_matches(self.days_of_month, t):
            return False
        if self.months and not any(a <= t.month <= b for a, b in self.months):
            return False
        weekday = (t.weekday() + 1) % 7  # Python's monday=0 to Go's sunday=0
        if self.weekdays and not any(a <= weekday <= b for a, b in self.weekdays):
            return False
        return not self.years or any(a <= t.year <= b for a, b in self.years)


def _day_matches(ranges: Sequence[Range], t: datetime) -> bool:
    last = calendar.monthrange(t.year, t.month)[1]
    for a, b in ranges:
        begin = last + a + 1 if a < 0 else a
        end = last + b + 1 if b < 0 else b
        if begin > last:  # e.g. 31 in a 30-day month never matches
            continue
        if max(begin, 1) <= t.day <= min(end, last):
            return True
    return False


def active(intervals: Sequence[TimeInterval], ts: float) -> bool:
    """Whether a named interval (a list of intervals) is active at the moment."""
    return any(i.contains(ts) for i in intervals)


# -- parsing -----------------------------------------------------------------------------------


def parse_time_interval(data: Mapping[str, Any], local_zone: str = "UTC") -> TimeInterval:
    """One entry of a named interval's `time_intervals` list; raise ValueError saying how
    to fix it. `local_zone` is what `location: Local` means (an IANA name)."""
    if not isinstance(data, Mapping):
        raise ValueError(
            "each entry of time_intervals is a mapping, e.g. {weekdays: ['monday:friday']}"
        )
    unknown = sorted(str(k) for k in data if k not in KEYS)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; use {', '.join(KEYS)}")
    return TimeInterval(
        times=_times(data.get("times")),
        weekdays=_ranges(data.get("weekdays"), "weekdays", _weekday, _check_weekdays),
        days_of_month=_ranges(data.get("days_of_month"), "days_of_month", _int, _check_days),
        months=_ranges(data.get("months"), "months", _month, _check_months),
        years=_ranges(data.get("years"), "years", _int, _check_years),
        location=_location(data.get("location"), local_zone),
    )


def _times(items: Any) -> tuple[Range, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ValueError("times must be a list, e.g. [{start_time: '09:00', end_time: '17:00'}]")
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ValueError("times: each entry needs start_time and end_time")
        extra = sorted(str(k) for k in item if k not in ("start_time", "end_time"))
        if extra:
            raise ValueError(f"times: unknown field {extra[0]!r}; use start_time and end_time")
        if not item.get("start_time") or not item.get("end_time"):
            raise ValueError("times: both start_time and end_time must be given, e.g. '09:00'")
        start, end = _minutes(item["start_time"]), _minutes(item["end_time"])
        if start >= end:
            raise ValueError(
                f"times: start_time {item['start_time']} must be before end_time "
                f"{item['end_time']}; split a range across midnight in two"
            )
        out.append((start, end))
    return tuple(out)


def _minutes(value: Any) -> int:
    text = str(value)
    if not _TIME.fullmatch(text):
        raise ValueError(f"times: {text!r} is not a time; write HH:MM from 00:00 to 24:00")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _ranges(
    items: Any,
    what: str,
    member: Callable[[str, str], int],
    check: Callable[[int, int, str], None],
) -> tuple[Range, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ValueError(f"{what} must be a list, e.g. {_EXAMPLES[what]}")
    out = []
    for item in items:
        if isinstance(item, bool | Mapping | list):
            example = _EXAMPLES[what]
            raise ValueError(f"{what}: {item!r} is not a value or a range; e.g. {example}")
        text = str(item).strip().lower()
        parts = text.split(":") if ":" in text else [text, text]
        if len(parts) != 2:
            raise ValueError(f"{what}: {item!r} is not a range; write start:end")
        begin, end = member(parts[0], what), member(parts[1], what)
        check(begin, end, str(item))
        out.append((begin, end))
    return tuple(out)


_EXAMPLES = {
    "weekdays": "['monday:friday', 'saturday']",
    "days_of_month": "['1:5', '-1']",
    "months": "['january:march', '12']",
    "years": "['2024:2025']",
}


def _int(text: str, what: str) -> int:
    if not re.fullmatch(r"[-+]?\d+", text):
        raise ValueError(f"{what}: {text!r} is not a number; e.g. {_EXAMPLES[what]}")
    return int(text)


def _weekday(text: str, what: str) -> int:
    if text not in WEEKDAYS:
        raise ValueError(f"weekdays: {text!r} is not a weekday; use {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(text)


def _month(text: str, what: str) -> int:
    if text in MONTHS:
        return MONTHS.index(text) + 1
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    raise ValueError(f"months: {text!r} is not a month; use a name (january) or 1..12")


def _check_weekdays(begin: int, end: int, item: str) -> None:
    if begin > end:
        raise ValueError(
            f"weekdays: {item!r} runs backwards (the week starts on sunday); "
            "list the parts instead, e.g. ['saturday', 'sunday']"
        )


def _check_days(begin: int, end: int, item: str) -> None:
    for day in (begin, end):
        if day == 0 or not -31 <= day <= 31:
            raise ValueError(
                f"days_of_month: {day} is out of range; use 1..31, or -1..-31 from the end"
            )
    if begin < 0 < end:
        raise ValueError(
            f"days_of_month: {item!r}: the end day must be negative if the start day is"
        )
    # as Alertmanager: compare with negative days counted from a 28-day month
    if (28 + begin if begin < 0 else begin) > (28 + end if end < 0 else end):
        raise ValueError(f"days_of_month: {item!r}: the end day {end} is always before {begin}")


def _check_months(begin: int, end: int, item: str) -> None:
    for month in (begin, end):
        if not 1 <= month <= 12:
            raise ValueError(f"months: {month} is out of range; use 1..12 or a name")
    if begin > end:
        raise ValueError(
            f"months: {item!r} runs backwards; list two ranges, e.g. ['november:december', "
            "'january']"
        )


def _check_years(begin: int, end: int, item: str) -> None:
    if begin > end:
        raise ValueError(f"years: {item!r}: the end year {end} is before the start year {begin}")


def _location(value: Any, local_zone: str = "UTC") -> str:
    if value == "Local":
        return local_zone
    if value is None or value == "" or value == "UTC":
        return "UTC"
    name = str(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from None
    return name
