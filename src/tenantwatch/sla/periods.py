"""SLA periods: calendar periods in the tenant's timezone, and rolling windows.

A calendar period is [start, end) between two local midnights, so its length follows the
zone's clock changes: March 2026 in Europe/Berlin is 743 hours, October 745. Weeks start
on Monday (ISO 8601). `containing(kind, day, zone)` is the period that holds a local date
(`?period=monthly&date=2026-11-15`); `current(kind, now, zone)` the one that holds `now`,
cut at `now` (to date). Rolling windows end at `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

CalendarKind = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
CALENDAR: tuple[CalendarKind, ...] = ("daily", "weekly", "monthly", "quarterly", "yearly")
EARLIEST = date(1970, 1, 1)  # periods before the Unix epoch hold no samples
ROLLING: dict[str, timedelta] = {
    "7d": timedelta(days=7),
    "28d": timedelta(days=28),
    "30d": timedelta(days=30),
}


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime  # aware, UTC
    end: datetime  # exclusive; for a period to date, `now`
    full_end: datetime  # where the whole period ends

    @property
    def seconds(self) -> float:
        """Length of what is measured (to date: up to now)."""
        return (self.end - self.start).total_seconds()

    @property
    def full_seconds(self) -> float:
        return (self.full_end - self.start).total_seconds()

    @property
    def to_date(self) -> bool:
        return self.end < self.full_end


def _first_day(kind: CalendarKind, day: date) -> date:
    if kind == "daily":
        return day
    if kind == "weekly":
        return day - timedelta(days=day.weekday())
    if kind == "monthly":
        return day.replace(day=1)
    if kind == "quarterly":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def _next_first_day(kind: CalendarKind, first: date) -> date:
    if kind == "daily":
        return first + timedelta(days=1)
    if kind == "weekly":
        return first + timedelta(days=7)
    months = {"monthly": 1, "quarterly": 3, "yearly": 12}[kind]
    index = first.month - 1 + months
    return date(first.year + index // 12, index % 12 + 1, 1)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant of local midnight starting `day`, in UTC (a day that starts in a gap
    starts at the first valid local time)."""
    local = datetime(day.year, day.month, day.day, tzinfo=zone)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        # midnight skipped by a clock change: the day starts when the clock jumps
        as_utc = datetime(day.year, day.month, day.day, 1, tzinfo=zone).astimezone(UTC)
    return as_utc


def containing(kind: CalendarKind, day: date, zone: ZoneInfo) -> Period:
    """The whole calendar period holding the local date `day`."""
    first = _first_day(kind, day)
    start = midnight(first, zone)
    end = midnight(_next_first_day(kind, first), zone)
    return Period(kind, start, end, end)


def current(kind: CalendarKind, now: datetime, zone: ZoneInfo) -> Period:
    """The calendar period holding `now`, measured to `now`."""
    whole = containing(kind, now.astimezone(zone).date(), zone)
    return Period(kind, whole.start, min(now.astimezone(UTC), whole.end), whole.end)


def rolling(window: str, now: datetime) -> Period:
    """The rolling window ending at now ("7d", "28d", "30d")."""
    length = ROLLING.get(window)
    if length is None:
        raise ValueError(f"unknown rolling window {window!r}; use one of {', '.join(ROLLING)}")
    end = now.astimezone(UTC)
    return Period(window, end - length, end, end)


def select(kind: str, day: date | None, now: datetime, zone: ZoneInfo) -> Period:
    """The period an API call names: `?period=monthly&date=2026-11-15` is the calendar
    period holding that local date (to date if it holds now), no date the current one;
    a rolling window ends now and takes no date. Raise ValueError with what to use."""
    if kind in ROLLING:
        if day is not None:
            raise ValueError(f"a rolling window ({kind}) ends now and takes no date")
        return rolling(kind, now)
    if kind not in CALENDAR:
        choices = ", ".join([*CALENDAR, *ROLLING])
        raise ValueError(f"unknown period {kind!r}; use one of {choices}")
    calendar: CalendarKind = kind
    if day is None:
        return current(calendar, now, zone)
    whole = containing(calendar, day, zone)
    if whole.start >= now:
        raise ValueError(f"the {kind} period holding {day.isoformat()} has not begun")
    return Period(kind, whole.start, min(now.astimezone(UTC), whole.end), whole.end)


def slices(period: Period, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The chart's slices: local hours of a daily period, local days otherwise."""
    out: list[tuple[datetime, datetime]] = []
    if period.kind == "daily":
        t = period.start
        while t < period.end:
            out.append((t, min(t + timedelta(hours=1), period.end)))
            t += timedelta(hours=1)
        return out
    day = period.start.astimezone(zone).date()
    start = period.start
    while start < period.end:
        day += timedelta(days=1)
        end = min(midnight(day, zone), period.end)
        out.append((start, end))
        start = end
    return out
