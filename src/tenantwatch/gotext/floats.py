"""Go's float text: strconv.ParseFloat, FormatFloat's 'g', 'e' and 'f' with the shortest
digits, %.Ng, and the forms Prometheus writes floats in (JSON, OpenMetrics labels)."""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal

_GO_DEC_RE = re.compile(r"[+-]?(?:[0-9_]+(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?")
_GO_HEX_RE = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F_]+(?:\.[0-9a-fA-F_]*)?|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+"
)


def _special(v: float) -> str | None:
    """NaN and the infinities as Go writes them in every format; None for a finite v."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return None


def _shortest(v: float) -> tuple[str, str, int]:
    """(sign, digits, point) of a finite non-zero v: the shortest digits that read back as v,
    with v == sign 0.digits x 10**point."""
    sign, digit_tuple, exponent = Decimal(repr(v)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    stripped = digits.lstrip("0")
    point = exponent + len(digits) - (len(digits) - len(stripped))
    return ("-" if sign else ""), stripped.rstrip("0"), point


def _exponent_form(sign: str, digits: str, point: int, e: str = "e") -> str:
    exp = point - 1
    body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{body}{e}{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _positional(sign: str, digits: str, point: int) -> str:
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _zero_sign(v: float) -> str:
    return "-" if math.copysign(1.0, v) < 0 else ""


def format_g(v: float) -> str:
    """Go's strconv.FormatFloat(v, 'g', -1, 64), which is also fmt's %v and %g: the shortest
    digits, with an exponent below 1e-4 and from 1e6 (0.0001, 100000, 1e+06, 1e-05)."""
    if (special := _special(v)) is not None:
        return special
    if v == 0:
        return _zero_sign(v) + "0"
    sign, digits, point = _shortest(v)
    if point - 1 < -4 or point - 1 >= 6:
        return _exponent_form(sign, digits, point)
    return _positional(sign, digits, point)


def format_g_wide(v: float) -> str:
    """Go's %g, except that from 1e6 to below 1e16 the digits are written positionally
    (1234567, where Go writes 1.234567e+06): what PromQL's quantile warnings print today.
    Prometheus writes %g there; this keeps tenantwatch's current text until that changes."""
    if (special := _special(v)) is not None:
        return special
    if v == 0:
        return _zero_sign(v) + "0"
    sign, digits, point = _shortest(v)
    if 6 <= point - 1 < 16:
        return _positional(sign, digits, point)
    return format_g(v)


def format_e(v: float, *, upper: bool = False) -> str:
    """Go's strconv.FormatFloat(v, 'e', -1, 64) (or 'E' when upper): 2.5e+01, 1e-07, 0e+00."""
    e = "E" if upper else "e"
    if (special := _special(v)) is not None:
        return special
    if v == 0:
        return f"{_zero_sign(v)}0{e}+00"
    sign, digits, point = _shortest(v)
    return _exponent_form(sign, digits, point, e)


def format_f(v: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits, never an exponent."""
    if (special := _special(v)) is not None:
        return special
    if v == 0:
        return _zero_sign(v) + "0"
    return _positional(*_shortest(v))


def format_json(v: float) -> str:
    """A float as Prometheus' JSON writes sample values: 'f' from 1e-6 to below 1e21, else
    'e' (0.00001, 100000000000000000, 1e-07, 1e+21)."""
    if v != 0 and math.isfinite(v) and not 1e-6 <= abs(v) < 1e21:
        return format_e(v)
    return format_f(v)


def format_g_prec(v: float, precision: int) -> str:
    """Go's %.<precision>g: at most that many significant digits, trailing zeros cut."""
    if (special := _special(v)) is not None:
        return special
    return format(v, f".{precision}g")


def format_om_float(f: float) -> str:
    """Prometheus' FormatOpenMetricsFloat: Go's %g (shortest), plus `.0` on integers."""
    if f == 0:
        return "0.0"
    out = format_g(f)
    return out if "." in out or "e" in out or not out[-1].isdigit() else out + ".0"


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
