"""Scan one sample line of an exposition the slow, exact way, naming what is wrong.

The cached core (exposition_core) takes this path for new series, timestamps and errors;
BadLine carries the reason and the caller adds the line number.
"""

from __future__ import annotations

import math
import re

from tenantwatch.gotext.floats import normalise_float
from tenantwatch.promql.model import METRIC_NAME
from tenantwatch.types import Labels

_INT64_MAX = 2**63 - 1
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_QSTR = r'"[^"\\]*(?:\\.[^"\\]*)*"'
NAME_RE = re.compile(_NAME)
_LNAME_RE = re.compile(_LNAME)
QSTR_RE = re.compile(_QSTR)
_CANONICAL_RE = re.compile(rf"{_NAME}(?:\{{(?:{_LNAME}={_QSTR},)*(?:{_LNAME}={_QSTR})?\}})?")
_PAIR_RE = re.compile(rf'({_LNAME})="([^"\\]*(?:\\.[^"\\]*)*)"')
_UNESCAPE_RE = re.compile(r'\\([\\"n])')
ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
SPECIALS = frozenset(["NaN", "+Inf", "-Inf", "Inf", "nan", "inf", "+inf", "-inf"])


class BadLine(Exception):
    """The reason the current line is invalid (the caller adds the line number)."""


def parse_line(line: str, key: str, om: bool, mtype: str) -> tuple[Labels, float, int | None, str]:
    """Labels, value, timestamp and series text of a sample line, or BadLine."""
    labels = None
    end = len(key)
    # A bare name followed by whitespace and '{' is `name {labels}`: text format allows it.
    if (
        _CANONICAL_RE.fullmatch(key) is not None
        and line.startswith(key)
        and (om or "{" in key or line[ws(line, end) : ws(line, end) + 1] != "{")
    ):
        labels = _canonical_labels(key, mtype)
    if labels is None:
        labels, end = _scan_series(line, om, mtype)
    vs = line[end + 1 :]
    if line[end : end + 1] == " " and " " not in vs:
        value = _plain_value(vs)
        if value is not None:
            return labels, value, None, line[:end]
    if om:
        value, ts = scan_tail_om(line, end)
    else:
        value, ts = scan_tail_text(line, end)
    return labels, value, ts, line[:end]


def _canonical_labels(key: str, mtype: str) -> Labels:
    brace = key.find("{")
    if brace < 0:
        return ((METRIC_NAME, key),)
    pairs: list[tuple[str, str]] = _PAIR_RE.findall(key, brace + 1, len(key) - 1)
    if "\\" in key:
        pairs = [(k, unescape(v)) for k, v in pairs]
    return _build_labels(key[:brace], pairs, mtype)


def _build_labels(name: str, pairs: list[tuple[str, str]], mtype: str) -> Labels:
    found = dict(pairs)
    if (
        not name
        or len(found) != len(pairs)
        or METRIC_NAME in found
        or "" in found
        or "" in found.values()
    ):
        return _build_labels_checked(name, pairs, mtype)
    if mtype == "histogram" and "le" in found:
        found["le"] = normalise_float(found["le"])
    elif mtype == "summary" and "quantile" in found:
        found["quantile"] = normalise_float(found["quantile"])
    found[METRIC_NAME] = name
    return tuple(sorted(found.items()))


def _build_labels_checked(name: str, pairs: list[tuple[str, str]], mtype: str) -> Labels:
    """The slow twin of _build_labels: names the first problem, drops empty values."""
    if not name:
        raise BadLine("metric name is empty")
    seen = {METRIC_NAME}
    out = [(METRIC_NAME, name)]
    for label, value in pairs:
        if not label:
            raise BadLine("label name is empty")
        if label in seen:
            raise BadLine(
                f'label name "{label}" is not unique: invalid sample; give each label once per series'
            )
        seen.add(label)
        if value:
            if (label == "le" and mtype == "histogram") or (
                label == "quantile" and mtype == "summary"
            ):
                value = normalise_float(value)
            out.append((label, value))
    out.sort()
    return tuple(out)


def _scan_series(line: str, om: bool, mtype: str) -> tuple[Labels, int]:
    i = 0 if om else ws(line, 0)
    name: str | None = None
    pairs: list[tuple[str, str]] = []
    match = NAME_RE.match(line, i)
    if match is not None:
        name, i = match.group(), match.end()
        j = i if om else ws(line, i)
        if line[j : j + 1] == "{":
            name, i = _scan_labels(line, j + 1, om, name, pairs)
    elif line[i : i + 1] == "{":
        name, i = _scan_labels(line, i + 1, om, None, pairs)
    else:
        raise BadLine(
            f"expected a metric name, got {show(line, i)}; names match [a-zA-Z_:][a-zA-Z0-9_:]* "
            '(quote any other name inside the braces: {"my.metric"})'
        )
    if name is None:
        raise BadLine(
            'metric name not set: write name{labels} value, or quote the name first: {"name", ...}'
        )
    return _build_labels(name, pairs, mtype), i


def _scan_labels(
    line: str,
    i: int,
    om: bool,
    name: str | None,
    pairs: list[tuple[str, str]],
    *,
    exemplar: bool = False,
) -> tuple[str | None, int]:
    """Parse `a="b",...}` from i; return the metric name (maybe quoted inside) and the end."""
    n = len(line)
    while True:
        if not om:
            i = ws(line, i)
        if i >= n:
            raise BadLine("unterminated label set: expected a label name or '}'")
        if line[i] == "}":
            return name, i + 1
        quoted = line[i] == '"'
        if quoted:
            match = QSTR_RE.match(line, i)
            if match is None:
                raise BadLine("unterminated quoted name: close it with '\"'")
            label = unescape(line[i + 1 : match.end() - 1])
        else:
            match = _LNAME_RE.match(line, i)
            if match is None:
                raise BadLine(
                    f"expected a label name, got {show(line, i)}; label names match "
                    '[a-zA-Z_][a-zA-Z0-9_]* (quote any other name: {"my.label"="v"})'
                )
            label = match.group()
        i = match.end()
        if not om:
            i = ws(line, i)
        nxt = line[i : i + 1]
        if quoted and nxt in (",", "}") and not exemplar:
            if name is not None:
                raise BadLine(f"metric name already set, got a second one: {label!r}")
            name = label
            i += 1
            if nxt == "}":
                return name, i
            continue
        if nxt != "=":
            raise BadLine(f"expected '=' after label name {label!r}, got {show(line, i)}")
        i += 1
        if not om:
            i = ws(line, i)
        if line[i : i + 1] != '"':
            raise BadLine(f"expected a quoted value after {label}=, got {show(line, i)}")
        match = QSTR_RE.match(line, i)
        if match is None:
            raise BadLine(
                f"unterminated value of label {label!r}: close it with '\"' "
                '(write a quote inside as \\" and a newline as \\n)'
            )
        pairs.append((label, unescape(line[i + 1 : match.end() - 1])))
        i = match.end()
        if not om:
            i = ws(line, i)
        nxt = line[i : i + 1]
        if nxt == ",":
            i += 1
        elif om and nxt != "}":
            raise BadLine(
                f"expected ',' or '}}' after the value of label {label!r}, got {show(line, i)}"
            )


def scan_tail_text(line: str, i: int) -> tuple[float, int | None]:
    n = len(line)
    start = i
    i = ws(line, i)
    j = i
    while j < n and line[j] not in "{ \t":
        j += 1
    if j == i:
        raise BadLine(
            f"expected a value after the series, got {show(line, i)}; write name{{labels}} value [timestamp]"
        )
    value = _value(line[i:j], glued=i == start)
    i = ws(line, j)
    if i == n:
        return value, None
    j = i
    while j < n and line[j] not in " \t":
        j += 1
    token = line[i:j]
    if not (token.isascii() and token.isdigit()):
        raise BadLine(
            f"invalid timestamp {token!r}: text-format timestamps are integer milliseconds "
            "since the epoch"
        )
    ts = int(token)
    if ts > _INT64_MAX:
        raise BadLine(f"timestamp {token} out of range: it must fit in 64 bits")
    if ws(line, j) != n:
        raise BadLine(
            f"unexpected {show(line, ws(line, j))} after the timestamp: a sample line ends there"
        )
    return value, ts


def scan_tail_om(line: str, i: int) -> tuple[float, int | None]:
    n = len(line)
    if line[i : i + 1] != " ":
        raise BadLine(
            f"expected one space and a value after the series, got {show(line, i)}; "
            "names match [a-zA-Z_:][a-zA-Z0-9_:]*"
        )
    value_s, j = _om_token(line, i + 1, "value")
    value = _value(value_s, glued=False)
    if j == n:
        return value, None
    if line.startswith(" # {", j):
        _scan_exemplar(line, j + 4)
        return value, None
    ts_s, k = _om_token(line, j + 1, "timestamp")
    ts = _om_timestamp(ts_s)
    if k == n:
        return value, ts
    if line.startswith(" # {", k):
        _scan_exemplar(line, k + 4)
        return value, ts
    raise BadLine(
        f"expected an exemplar (' # {{labels}} value') or end of line after the timestamp, "
        f"got {show(line, k)}"
    )


def _om_token(line: str, i: int, what: str) -> tuple[str, int]:
    end = line.find(" ", i)
    if end < 0:
        end = len(line)
    if end == i:
        raise BadLine(
            f"expected a {what}, got {show(line, i)}; OpenMetrics separates fields by one space"
        )
    return line[i:end], end


def _scan_exemplar(line: str, i: int) -> None:
    try:
        _, i = _scan_labels(line, i, True, None, [], exemplar=True)
        value_s, j = _om_token(line, i + 1, "exemplar value") if line[i : i + 1] == " " else ("", i)
        if not value_s:
            raise BadLine(f"expected ' value' after the exemplar labels, got {show(line, i)}")
        _value(value_s, glued=False)
        if j < len(line):
            ts_s, k = _om_token(line, j + 1, "exemplar timestamp")
            _om_timestamp(ts_s)
            if k != len(line):
                raise BadLine(f"unexpected {show(line, k)} after the exemplar timestamp")
    except BadLine as exc:
        raise BadLine(f"invalid exemplar: {exc}") from None


def _om_timestamp(s: str) -> int:
    seconds = _value(s, glued=False)
    if seconds - seconds != 0.0:
        raise BadLine(f"invalid timestamp {s!r}: it must be a finite number of seconds")
    ms = int(seconds * 1000)
    if not -_INT64_MAX <= ms <= _INT64_MAX:
        raise BadLine(f"timestamp {s!r} out of range")
    return ms


def ws(line: str, i: int) -> int:
    n = len(line)
    while i < n and line[i] in " \t":
        i += 1
    return i


def unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return _UNESCAPE_RE.sub(lambda m: ESCAPES[m.group(1)], value)


def _plain_value(s: str) -> float | None:
    """A value in its common spelling, or None when _value must judge it."""
    try:
        value = float(s)
    except ValueError:
        return None
    if (value - value == 0.0 and s.isascii() and s.isprintable() and "_" not in s) or s in SPECIALS:
        return value
    return None


def _value(s: str, *, glued: bool) -> float:
    """A sample value as Prometheus' parseFloat reads it, or BadLine."""
    try:
        value = float(s)
    except ValueError:
        value = None
    if value is not None and s.isascii() and "_" not in s and s[0] > " " and s[-1] > " ":
        if value - value == 0.0:
            return value
        if value != value:
            if s.lower() == "nan":
                return math.nan
        elif s.lstrip("+-").lower() in ("inf", "infinity"):
            return value
        else:
            raise BadLine(f"value {s!r} is out of range for a 64-bit float")
    hint = ""
    if s.endswith("\r"):
        hint = "; the line ends with a carriage return: use \\n line endings"
    elif glued:
        hint = '; metric names may only hold [a-zA-Z0-9_:] (quote any other name: {"my.metric"})'
    raise BadLine(
        f"invalid value {s!r}: use a float such as 1, -2.5, 1e-3, NaN, +Inf or -Inf{hint}"
    )


def show(line: str, i: int) -> str:
    return repr(line[i : i + 24]) if i < len(line) else "end of line"
