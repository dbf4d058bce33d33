"""Alertmanager's time intervals (mute_time_intervals / active_time_intervals).

An interval matches a moment when every field it sets matches, in its `location` (IANA
timezone, default UTC): `times` (start_time..end_time, HH:MM, end exclusive, 24:00
allowed), `weekdays` (names or ranges like monday:friday), `days_of_month` (1..31, or
negative from the month's end, ranges), `months` (names or numbers, ranges) and `years`.
A named interval is a list of these and matches when any of them does.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [m.lower() for m in calendar.month_name[1:]]
Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class TimeInterval:
    times: tuple[Range, ...] = ()  # minutes of the day, [start, end)
    weekdays: tuple[Range, ...] = ()  # 0 = monday
    days_of_month: tuple[Range, ...] = ()
    months: tuple[Range, ...] = ()
    years: tuple[Range, ...] = ()
    location: str = "UTC"

    def contains(self, ts: float) -> bool:
        t = datetime.fromtimestamp(ts, ZoneInfo(self.location))
        if self.times and not any(a <= t.hour * 60 + t.minute < b for a, b in self.times):
            return False
        if self.weekdays and not any(a <= t.weekday() <= b for a, b in self.weekdays):
            return False
        if self.days_of_month:
            last = calendar.monthrange(t.year, t.month)[1]

            def day(d: int) -> int:
                return d if d > 0 else last + d + 1

            if not any(day(a) <= t.day <= day(b) for a, b in self.days_of_month):
                return False
        if self.months and not any(a <= t.month <= b for a, b in self.months):
            return False
        return not (self.years and not any(a <= t.year <= b for a, b in self.years))


def _minutes(text: Any, what: str) -> int:
    if not isinstance(text, str) or len(text.split(":")) != 2:
        raise ValueError(f"{what}: write a time as HH:MM, e.g. '09:00'")
    hours, minutes = text.split(":")
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"{what}: write a time as HH:MM, e.g. '09:00'")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > 24 * 60:
        raise ValueError(f"{what}: {text!r} is not a time of day (00:00 to 24:00)")
    return value


def _ranges(
    items: Any, what: str, parse_one: Any, low: int, high: int, allow_negative: bool = False
) -> tuple[Range, ...]:
    if not isinstance(items, list):
        raise ValueError(f"{what} must be a list, e.g. ['1:5']")
    out = []
    for item in items:
        text = str(item).strip().lower()
        parts = text.split(":") if ":" in text else [text, text]
        if len(parts) != 2:
            raise ValueError(f"{what}: {item!r} is not a value or a 'start:end' range")
        a, b = parse_one(parts[0]), parse_one(parts[1])
        for v in (a, b):
            if not (low <= abs(v) <= high) or (v < 0 and not allow_negative):
                raise ValueError(f"{what}: {item!r} is out of range ({low} to {high})")
        if (a > 0) == (b > 0) and a > b:
            raise ValueError(f"{what}: {item!r} starts after it ends")
        out.append((a, b))
    return tuple(out)


def _named(names: list[str]) -> Any:
    def parse(text: str) -> int:
        if text in names:
            return names.index(text) + (0 if names is WEEKDAYS else 1)
        if text.lstrip("-").isdigit() and names is MONTHS:
            return int(text)
        raise ValueError(f"unknown name {text!r}; use one of {', '.join(names)}")

    return parse


def _int(text: str) -> int:
    if not text.lstrip("-").isdigit():
        raise ValueError(f"{text!r} is not a number")
    return int(text)


KEYS = {"times", "weekdays", "days_of_month", "months", "years", "location"}


def parse_time_interval(data: Mapping[str, Any]) -> TimeInterval:
    """One entry of a time interval's list; raise ValueError saying how to fix it."""
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; use {', '.join(sorted(KEYS))}")
    times = []
    for item in data.get("times") or []:
        if not isinstance(item, Mapping):
            raise ValueError("times: each entry needs start_time and end_time")
        start = _minutes(item.get("start_time"), "start_time")
        end = _minutes(item.get("end_time"), "end_time")
        if end <= start:
            raise ValueError("times: end_time must be after start_time")
        times.append((start, end))
    location = str(data.get("location") or "UTC")
    if location.lower() == "local":
        location = "UTC"
    try:
        ZoneInfo(location)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown location {location!r}; use an IANA name") from None
    return TimeInterval(
        times=tuple(times),
        weekdays=_ranges(data.get("weekdays") or [], "weekdays", _named(WEEKDAYS), 0, 6),
        days_of_month=_ranges(
            data.get("days_of_month") or [], "days_of_month", _int, 1, 31, allow_negative=True
        ),
        months=_ranges(data.get("months") or [], "months", _named(MONTHS), 1, 12),
        years=_ranges(data.get("years") or [], "years", _int, 1, 9999),
        location=location,
    )


def active(intervals: Sequence[TimeInterval], ts: float) -> bool:
    return any(i.contains(ts) for i in intervals)
