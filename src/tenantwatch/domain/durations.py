"""Prometheus-style duration strings ("90s", "1h30m", "15d") to and from seconds."""

from __future__ import annotations

import re

_UNITS_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "y": 31_536_000_000,
}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_ORDER = ["y", "w", "d", "h", "m", "s", "ms"]


def parse_duration(text: str) -> float:
    """Return the seconds in a duration such as "1h30m". Raise ValueError with the fix if malformed."""
    s = text.strip()
    if not s:
        raise ValueError("empty duration; write e.g. '30s', '5m' or '1h30m'")
    pos = 0
    total_ms = 0
    last_rank = -1
    for match in _PART.finditer(s):
        if match.start() != pos:
            break
        rank = _ORDER.index(match.group(2))
        if rank <= last_rank:
            raise ValueError(
                f"duration {text!r}: units must go from largest to smallest, once each"
            )
        last_rank = rank
        total_ms += int(match.group(1)) * _UNITS_MS[match.group(2)]
        pos = match.end()
    if pos != len(s):
        raise ValueError(
            f"invalid duration {text!r}; write a number and a unit (ms, s, m, h, d, w, y), "
            "e.g. '30s', '5m' or '1h30m'"
        )
    return total_ms / 1000


def format_duration(seconds: float) -> str:
    """Return the shortest Prometheus duration string for whole milliseconds ("0s" for zero)."""
    ms = round(seconds * 1000)
    if ms < 0:
        raise ValueError(f"durations cannot be negative (got {seconds})")
    if ms == 0:
        return "0s"
    out = []
    for unit in _ORDER:
        size = _UNITS_MS[unit]
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(out)
