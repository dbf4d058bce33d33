"""Prometheus' rule-template functions with their exact output.

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
from tenantwatch.gotext.floats import format_g_prec
from tenantwatch.gotext.humanize import humanize_duration, to_float
from tenantwatch.gotext.printf import printf
from tenantwatch.gotext.template_funcs import go_str
from tenantwatch.gotext.times import time_string


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
