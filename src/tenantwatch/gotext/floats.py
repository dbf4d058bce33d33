"""Go's strconv.ParseFloat and Prometheus' FormatOpenMetricsFloat, for label values such as
`le` and `quantile` that Prometheus 3 normalises (`le="1"` -> `le="1.0"`)."""

from __future__ import annotations

import functools
import math
import re

_GO_DEC_RE = re.compile(r"[+-]?(?:[0-9_]+(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?")
_GO_HEX_RE = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F_]+(?:\.[0-9a-fA-F_]*)?|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+"
)


@functools.lru_cache(maxsize=4096)
def normalise_float(value: str) -> str:
    """Prometheus 3's `normalizeFloatsInLabelValues`: `1` -> `1.0`; unparsable stays."""
    parsed = parse_float(value)
    return value if parsed is None else format_om_float(parsed)


def parse_float(s: str) -> float | None:
    """Go's strconv.ParseFloat(s, 64), or None where it returns an error."""
    if not s.isascii():
        return None
    body = s[1:] if s[:1] in ("+", "-") else s
    low = body.lower()
    if low in ("inf", "infinity"):
        return -math.inf if s[0] == "-" else math.inf
    if low == "nan":
        return math.nan if body is s else None
    hexa = _GO_HEX_RE.fullmatch(s) is not None
    if not hexa and _GO_DEC_RE.fullmatch(s) is None:
        return None
    if "_" in s and not _underscores_ok(s, hexa):
        return None
    clean = s.replace("_", "")
    try:
        result = float.fromhex(clean) if hexa else float(clean)
    except (OverflowError, ValueError):
        return None
    return None if math.isinf(result) else result


def _underscores_ok(s: str, hexa: bool) -> bool:
    """Go's underscoreOK: an underscore sits only between digits (or after a base prefix)."""
    s = s.lstrip("+-")
    saw = "^"
    i = 0
    if hexa:
        i, saw = 2, "0"
    digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
    for c in s[i:]:
        if c in digits:
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"


def format_om_float(f: float) -> str:
    """Prometheus' FormatOpenMetricsFloat: Go's %g (shortest), plus `.0` on integers."""
    if f != f:
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "0.0"
    mantissa, _, exp_s = repr(f).partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    whole, _, frac = mantissa.lstrip("-").partition(".")
    digits = (whole + frac).lstrip("0")
    point = len(whole) + int(exp_s or 0) - (len(whole + frac) - len(digits))
    digits = digits.rstrip("0")
    exp = point - 1
    if exp < -4 or exp >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        out = f"{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    elif point <= 0:
        out = "0." + "0" * -point + digits
    elif point >= len(digits):
        out = digits + "0" * (point - len(digits))
    else:
        out = digits[:point] + "." + digits[point:]
    out = sign + out
    return out if "." in out or "e" in out else out + ".0"
