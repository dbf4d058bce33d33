"""Go's time values as text: RFC 3339 as Go's JSON and Prometheus write it, Time.String(),
and time.Time with Format and Go's reference layout for templates. Unix seconds throughout."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tenantwatch.gotext.template_funcs import TemplateError

GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def format_rfc3339_nano(ts: float) -> str:
    """A time as Go's time.Time marshals to JSON in UTC (RFC 3339 with the fraction's
    trailing zeros cut, to the microsecond); 0.0 is Go's zero time."""
    if ts == 0:
        return GO_ZERO_TIME
    micros = round(ts * 1_000_000)
    whole, frac = divmod(micros, 1_000_000)
    text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + f"{frac:06d}".rstrip("0")
    return text + "Z"


def format_rfc3339_micro(ts: float | None) -> str:
    """A time in UTC as RFC 3339 with six fraction digits when it has a fraction
    (2024-01-01T12:00:00.250000Z; Python's isoformat); None is Go's zero time."""
    if ts is None:
        return GO_ZERO_TIME
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def parse_rfc3339(text: str) -> float:
    """An RFC 3339 time (as Alertmanager accepts) to unix seconds; Go's zero time is 0."""
    if text.startswith("0001-01-01T00:00:00"):
        return 0.0
    m = re.fullmatch(
        r"(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)", text
    )
    if m is None:
        raise ValueError(f"{text!r} is not an RFC 3339 time such as 2024-01-31T12:00:00Z")
    day, clock, frac, zone = m.groups()
    offset = "+00:00" if zone in ("Z", "z") else zone
    base = datetime.fromisoformat(f"{day}T{clock}{offset}")
    return base.timestamp() + (int(frac) / 10 ** len(frac) if frac else 0.0)


def time_string(t: datetime) -> str:
    """time.Time's String() for a UTC time: 2006-01-02 15:04:05.999999999 +0000 UTC."""
    frac = f"{t.microsecond:06d}".rstrip("0")
    return t.strftime("%Y-%m-%d %H:%M:%S") + (f".{frac}" if frac else "") + " +0000 UTC"


# -- Go's time.Time for templates ----------------------------------------------------------------

_ZERO = datetime(1, 1, 1, tzinfo=UTC)
_STD = re.compile(
    r"January|Jan|Monday|Mon|MST|2006|_2006|002|__2|_2|01|02|03|04|05|06|15|1|2|3|4|5|PM|pm"
    r"|-07:00:00|-070000|-07:00|-0700|-07|Z07:00:00|Z070000|Z07:00|Z0700|Z07"
    r"|[.,](?:0+|9+)(?!\d)"
)


class GoTime:
    """A time as Go's time.Time shows it to templates: printed as String() does
    (`2024-01-01 12:00:00 +0000 UTC`), with Format, Unix, UTC, ... Unix seconds 0.0 is
    Go's zero time (an alert that has not ended)."""

    __slots__ = ("ts", "zone")

    def __init__(self, ts: float, zone: str = "UTC") -> None:
        self.ts = ts
        self.zone = zone

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoTime) and other.ts == self.ts

    def __hash__(self) -> int:
        return hash(self.ts)

    def _dt(self) -> datetime:
        if self.ts == 0:
            return _ZERO
        micros = round(self.ts * 1_000_000)
        whole, frac = divmod(micros, 1_000_000)
        tz = UTC if self.zone == "UTC" else ZoneInfo(self.zone)
        return datetime.fromtimestamp(whole, tz).replace(microsecond=frac)

    def __str__(self) -> str:
        return self.Format("2006-01-02 15:04:05.999999999 -0700 MST")

    def Format(self, layout: str) -> str:
        """Go's Time.Format with its reference layout (Mon Jan 2 15:04:05 MST 2006)."""
        t = self._dt()
        return _STD.sub(lambda m: _std_value(m.group(0), t), str(layout))

    def Unix(self) -> int:
        return int(self._dt().timestamp() // 1) if self.ts else -62135596800

    def UnixMilli(self) -> int:
        return round(self.ts * 1000) if self.ts else -62135596800000

    def UTC(self) -> GoTime:
        return GoTime(self.ts)

    def Local(self) -> GoTime:
        """The server's zone in Go; tenantwatch renders in UTC (use tz for a zone)."""
        return GoTime(self.ts)

    def IsZero(self) -> bool:
        return self.ts == 0

    def Year(self) -> int:
        return self._dt().year

    def Month(self) -> str:
        return self._dt().strftime("%B")

    def Day(self) -> int:
        return self._dt().day

    def Hour(self) -> int:
        return self._dt().hour

    def Minute(self) -> int:
        return self._dt().minute

    def Second(self) -> int:
        return self._dt().second

    def Weekday(self) -> str:
        return _WEEKDAYS[self._dt().weekday()]

    def YearDay(self) -> int:
        return self._dt().timetuple().tm_yday

    def Before(self, other: GoTime) -> bool:
        return self.ts < other.ts

    def After(self, other: GoTime) -> bool:
        return self.ts > other.ts

    def Equal(self, other: GoTime) -> bool:
        return self.ts == other.ts


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def time_in(t: GoTime, zone: str) -> GoTime:
    """The time in an IANA zone (Go's time.LoadLocation + In); raise TemplateError if unknown."""
    if zone in ("", "UTC"):
        return GoTime(t.ts)
    if zone == "Local":
        return GoTime(t.ts)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TemplateError(f"unknown time zone {zone}") from None
    return GoTime(t.ts, zone)


_OFFSETS = {  # layout chunk after '-' or 'Z' -> (separator, minutes, seconds)
    "07": ("", False, False),
    "0700": ("", True, False),
    "07:00": (":", True, False),
    "070000": ("", True, True),
    "07:00:00": (":", True, True),
}


def _offset(t: datetime, chunk: str) -> str:
    sep, minutes, seconds = _OFFSETS[chunk[1:]]
    off = t.utcoffset()
    total = int(off.total_seconds()) if off is not None else 0
    if chunk[0] == "Z" and total == 0:
        return "Z"
    h, rest = divmod(abs(total), 3600)
    m, s = divmod(rest, 60)
    text = f"{'-' if total < 0 else '+'}{h:02d}"
    if minutes:
        text += f"{sep}{m:02d}"
    if seconds:
        text += f"{sep}{s:02d}"
    return text


def _std_value(chunk: str, t: datetime) -> str:
    """The text of one chunk of a Go layout."""
    if chunk[0] in ".,":
        digits = f"{t.microsecond:06d}000"[: len(chunk) - 1]
        if chunk[1] == "9":
            digits = digits.rstrip("0")
            return chunk[0] + digits if digits else ""
        return chunk[0] + digits
    if chunk[0] in "-Z":
        return _offset(t, chunk)
    hour12 = t.hour % 12 or 12
    yday = t.timetuple().tm_yday
    values = {
        "January": t.strftime("%B"),
        "Jan": t.strftime("%b"),
        "Monday": _WEEKDAYS[t.weekday()],
        "Mon": _WEEKDAYS[t.weekday()][:3],
        "MST": t.tzname() or _offset(t, "-0700"),
        "2006": f"{t.year:04d}",
        "_2006": f"_{t.year:04d}",
        "002": f"{yday:03d}",
        "__2": f"{yday:>3d}",
        "_2": f"{t.day:>2d}",
        "01": f"{t.month:02d}",
        "02": f"{t.day:02d}",
        "03": f"{hour12:02d}",
        "04": f"{t.minute:02d}",
        "05": f"{t.second:02d}",
        "06": f"{t.year % 100:02d}",
        "15": f"{t.hour:02d}",
        "1": str(t.month),
        "2": str(t.day),
        "3": str(hour12),
        "4": str(t.minute),
        "5": str(t.second),
        "PM": "PM" if t.hour >= 12 else "AM",
        "pm": "pm" if t.hour >= 12 else "am",
    }
    return values[chunk]
