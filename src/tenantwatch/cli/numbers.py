"""Numbers as a person reads them in tables: a few significant digits, units that fit.

Only for human output; `-o json` prints values unrounded."""

from __future__ import annotations

import math

SIGNIFICANT = 4


def significant(value: float | str, digits: int = SIGNIFICANT) -> str:
    """A sample value with `digits` significant digits; whole numbers below 1e15 in full
    (counters and byte counts stay exact), NaN and infinities as Prometheus writes them.
    A text that is not a number is returned as it is."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def milliseconds(seconds: float | None) -> str:
    """A duration in ms: one decimal below 10 ms, whole milliseconds above; "-" when unknown."""
    if seconds is None:
        return "-"
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def score(value: float | None) -> str:
    """A 0-100 score to one decimal, without a trailing .0; "-" when unknown."""
    if value is None:
        return "-"
    return f"{round(value, 1):g}"
