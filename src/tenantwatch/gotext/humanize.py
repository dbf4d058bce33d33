"""prometheus/common's template helpers that both Prometheus' and Alertmanager's templates
use: ConvertToFloat and HumanizeDuration, with their exact output."""

from __future__ import annotations

import math
from typing import Any

from tenantwatch.gotext.floats import format_g_prec
from tenantwatch.gotext.template_funcs import MISSING, go_str


def to_float(value: Any) -> float:
    """Prometheus' convertToFloat: numbers as they are, strings parsed (Go syntax)."""
    if isinstance(value, bool) or value is None or value is MISSING:
        raise ValueError(f"can't convert {go_str(value)} to float")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        lowered = text.lower()
        if lowered in ("inf", "+inf", "infinity", "+infinity"):
            return math.inf
        if lowered in ("-inf", "-infinity"):
            return -math.inf
        if lowered == "nan":
            return math.nan
        try:
            return float(text)
        except ValueError:
            raise ValueError(f'strconv.ParseFloat: parsing "{value}": invalid syntax') from None
    raise ValueError(f"can't convert {type(value).__name__} to float")


def humanize_duration(value: Any) -> str:
    v = to_float(value)
    if math.isnan(v) or math.isinf(v):
        return format_g_prec(v, 4)
    if v == 0:
        return format_g_prec(v, 4) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        whole = int(v)
        seconds, minutes = whole % 60, (whole // 60) % 60
        hours, days = (whole // 3600) % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{format_g_prec(v, 4)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{format_g_prec(v, 4)}{prefix}s"
