"""Prometheus' template functions with their exact output, and Go's printf.

humanize, humanize1024, humanizePercentage, humanizeDuration, humanizeTimestamp, printf,
title, toUpper, toLower, reReplaceAll, match, stripPort, stripDomain, parseDuration,
toTime, urlQueryEscape, safeHtml, args; `query`-based ones (query, first, label, value,
strvalue, sortByLabel) are given by the caller, which has the query engine.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tenantwatch.domain.durations import parse_duration
from tenantwatch.gotext.floats import format_g, format_g_prec
from tenantwatch.gotext.template import MISSING, go_str
from tenantwatch.gotext.times import time_string


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


def humanize(value: Any) -> str:
    v = to_float(value)
    if v == 0 or math.isnan(v) or math.isinf(v):
        return format_g_prec(v, 4)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return format_g_prec(v, 4) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return format_g_prec(v, 4) + prefix


def humanize1024(value: Any) -> str:
    v = to_float(value)
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return format_g_prec(v, 4)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return format_g_prec(v, 4) + prefix


def humanize_percentage(value: Any) -> str:
    return format_g_prec(to_float(value) * 100, 4) + "%"


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


def humanize_timestamp(value: Any) -> str:
    v = to_float(value)
    if math.isnan(v) or math.isinf(v):
        return format_g_prec(v, 4)
    # Prometheus goes through model.Time: nanoseconds as int64, then whole milliseconds
    ns = int(v * 1e9)
    ms = abs(ns) // 1_000_000 * (1 if ns >= 0 else -1)
    return time_string(
        datetime.fromtimestamp(ms / 1000, UTC).replace(microsecond=abs(ms) % 1000 * 1000)
    )


def title(text: Any) -> str:
    """Go's strings.Title: upper-case the first letter of each word."""
    out = []
    prev_letter = False
    for c in go_str(text):
        is_word = c.isalnum() or c == "_" or (not c.isascii() and not c.isspace())
        out.append(c.upper() if is_word and not prev_letter else c)
        prev_letter = is_word
    return "".join(out)


def _go_replacement(repl: str) -> str:
    """Go's $1 / ${1} / ${name} expansion in Python's re syntax."""
    out = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "$" and i + 1 < len(repl):
            if repl[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            m = re.match(r"\{(\w+)\}|(\w+)", repl[i + 1 :])
            if m:
                name = m.group(1) or m.group(2)
                out.append(f"\\g<{name}>" if not name.isdigit() else f"\\g<{int(name)}>")
                i += 1 + m.end()
                continue
        out.append(c.replace("\\", "\\\\"))
        i += 1
    return "".join(out)


def re_replace_all(pattern: str, repl: str, text: Any) -> str:
    try:
        return re.sub(pattern, _go_replacement(repl), go_str(text))
    except (re.error, IndexError) as exc:
        raise ValueError(str(exc)) from None


def match(pattern: str, text: Any) -> bool:
    return re.search(pattern, go_str(text)) is not None


def strip_port(host: Any) -> str:
    text = go_str(host)
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end > 0 else text
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


def strip_domain(host: Any) -> str:
    text = go_str(host)
    port = ""
    if text.count(":") == 1:
        text, port = text.split(":", 1)
        port = ":" + port
    if re.fullmatch(r"[\d.]+", text):
        return text + port
    return text.split(".", 1)[0] + port


# -- printf -----------------------------------------------------------------------------------

_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])")


def _pad(text: str, flags: str, width: int | None) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and text[:1] in "+-0123456789":
        sign = text[0] if text[0] in "+-" else ""
        return sign + text[len(sign) :].rjust(width - len(sign), "0")
    return text.rjust(width)


def _number(verb: str, flags: str, prec: str | None, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if verb == "d":
        if isinstance(value, float):
            return None
        return ("+" if "+" in flags and value >= 0 else "") + str(value)
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        return "NaN" if math.isnan(v) else ("+Inf" if v > 0 else "-Inf")
    spec = ("+" if "+" in flags else "") + (f".{prec}" if prec is not None else "")
    if verb in "fF":
        return format(v, spec + ("f" if prec is not None else ".6f"))
    if verb in "eE":
        return format(v, spec + ("e" if prec is not None else ".6e")).replace(
            "e", verb if verb == "E" else "e"
        )
    if verb in "gG":
        text = format(v, spec + "g") if prec is not None else format_g(v)
        return text.upper() if verb == "G" else text
    return None


def _one(verb: str, flags: str, prec: str | None, value: Any) -> str:
    if verb in "dfFeEgG":
        out = _number(verb, flags, prec, value)
        if out is not None:
            return out
        return f"%!{verb}({_type(value)}={go_str(value)})"
    if verb == "s":
        text = go_str(value)
        return text[: int(prec)] if prec is not None else text
    if verb == "v":
        return go_str(value)
    if verb == "q":
        text = go_str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{text}"'
    if verb in "xX":
        if isinstance(value, int) and not isinstance(value, bool):
            text = format(value, "x")
        else:
            text = go_str(value).encode().hex()
        return text.upper() if verb == "X" else text
    if verb == "t" and isinstance(value, bool):
        return "true" if value else "false"
    return f"%!{verb}({_type(value)}={go_str(value)})"


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "<nil>" if value is None else type(value).__name__


def printf(fmt: str, *args: Any) -> str:
    """Go's fmt.Sprintf for the common verbs (%s %v %d %f %e %g %q %x %t %%)."""
    out = []
    pos = 0
    i = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if width == "*":
            width = str(args[i]) if i < len(args) else None
            i += 1
        if prec == "*":
            prec = str(args[i]) if i < len(args) else None
            i += 1
        if "." in m.group(0) and prec is None:
            prec = "0"
        if i >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        text = _one(verb, flags, prec, args[i])
        i += 1
        out.append(_pad(text, flags, int(width) if width else None))
    out.append(fmt[pos:])
    if i < len(args):
        extra = ", ".join(f"{_type(a)}={go_str(a)}" for a in args[i:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
    "humanizeTimestamp": humanize_timestamp,
    "printf": printf,
    "title": title,
    "toUpper": lambda s: go_str(s).upper(),
    "toLower": lambda s: go_str(s).lower(),
    "reReplaceAll": re_replace_all,
    "match": match,
    "stripPort": strip_port,
    "stripDomain": strip_domain,
    "parseDuration": lambda s: parse_duration(go_str(s)),
    "toTime": lambda v: datetime.fromtimestamp(to_float(v), UTC),
    "urlQueryEscape": lambda s: urllib.parse.quote_plus(go_str(s)),
    "safeHtml": lambda s: go_str(s),
    "args": lambda *a: {f"arg{i}": v for i, v in enumerate(a)},
}
