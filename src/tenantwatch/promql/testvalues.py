"""The small languages inside promqltest lines: durations, numbers, quoted strings, and
series descriptions (`name{label="value"} 0+10x5 _ stale 1x3`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser as pp

from tenantwatch.promql.model import METRIC_NAME, STALE_NAN, labels_of
from tenantwatch.types import Labels


@dataclass(frozen=True, slots=True)
class Histogram:
    """A native histogram value `{{...}}`; kept as text (native histograms are out of scope)."""

    text: str


SeqValue = float | Histogram | None  # None is `_`: no sample at that step

MAX_VALUES_PER_LINE = 1_000_000

_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_UNIT_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)


def parse_duration(text: str) -> int:
    """Milliseconds of a Prometheus duration (`1h30m`, `10s53ms`, `0`); ValueError if invalid."""
    if text == "0":
        return 0
    m = _DURATION.match(text)
    if not text or m is None:
        raise ValueError(f"not a duration: {text!r} (write e.g. 0, 30s, 5m, 1h30m, 250ms)")
    return sum(int(g) * unit for g, unit in zip(m.groups(), _UNIT_MS, strict=True) if g)


_GO_INT = re.compile(r"[+-]?(?:0[xX]_?[0-9a-fA-F_]+|0[oO]_?[0-7_]+|0[bB]_?[01_]+|[0-9][0-9_]*)")
_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE
)
_GO_HEX_FLOAT = re.compile(r"[+-]?0[xX][0-9a-fA-F.]+[pP][+-]?\d+")


def parse_number(text: str) -> float:
    """A number as Go's ParseInt(s, 0) then ParseFloat(s) read it; ValueError if not one."""
    if _GO_INT.fullmatch(text):
        body = text.lstrip("+-").replace("_", "")
        sign = -1 if text.startswith("-") else 1
        try:
            if len(body) > 1 and body[0] == "0" and body[1].isdigit():
                return float(sign * int(body, 8))  # Go reads a leading 0 as octal
            return float(sign * int(body, 0))
        except ValueError:
            pass  # e.g. 09: not octal, but a valid float below
    if _GO_FLOAT.fullmatch(text):
        return float(text.replace("_", ""))
    if _GO_HEX_FLOAT.fullmatch(text):
        return float.fromhex(text)
    raise ValueError(f"not a number: {text!r}")


# -- series descriptions -------------------------------------------------------------

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_DUMMY = "__promqltest_dummy__"
_NUM = (
    r"(?:(?:\d+(?:ms|[smhdwy]))+"
    r"|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?"
    r"|[iI][nN][fF]|[nN][aA][nN])"
)
_ITEM = re.compile(rf"(?P<a>[+-]?{_NUM})(?:(?P<b>[+-]{_NUM})?x(?P<n>\d+))?")
_HIST = re.compile(r"(\{\{.*?\}\})(?:(?:[+-]\{\{.*?\}\})?x(\d+))?", re.DOTALL)
_BLANKS = re.compile(r"_(?:x(\d+))?")
_VALUE_HELP = (
    "expected a number, NaN, Inf, stale, _, a repetition like 1x3, 0+10x5 or _x3, "
    "or a native histogram {{...}}"
)


def parse_series_line(line: str) -> tuple[Labels, list[SeqValue]]:
    """Split `<series> <values>` into a label set and the expanded values; ValueError if bad."""
    name, body, rest = _split_descriptor(line)
    labels = _labels(name, body, line[: len(line) - len(rest)])
    values: list[SeqValue] = []
    for item in _items(rest):
        values.extend(_expand(item))
        if len(values) > MAX_VALUES_PER_LINE:
            raise ValueError(f"more than {MAX_VALUES_PER_LINE} values on one line")
    return labels, values


def _split_descriptor(line: str) -> tuple[str, str | None, str]:
    i = 0
    while i < len(line) and not line[i].isspace() and line[i] != "{":
        i += 1
    name = line[:i]
    body = None
    if line.startswith("{", i):
        end = _closing_brace(line, i)
        body = line[i + 1 : end]
        i = end + 1
    rest = line[i:]
    if rest and not rest[0].isspace():
        raise ValueError(f"expected a space between the series and its values in {line!r}")
    if not name and body is None:
        raise ValueError(f'expected a series like name{{label="value"}} in {line!r}')
    return name, body, rest


def _closing_brace(line: str, start: int) -> int:
    i = start + 1
    quote = ""
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c == "}":
            return i
        i += 1
    raise ValueError(f"unclosed {{ or quote in the series of {line!r}")


def _labels(name: str, body: str | None, descriptor: str) -> Labels:
    if name and not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid metric name {name!r}; quote unusual names inside the braces: "
            '{"my.metric", label="value"}'
        )
    parts = [f'{METRIC_NAME}="{name}"'] if name else []
    inner = (body or "").strip().rstrip(",").strip()
    if inner:
        parts.append(inner)
    # A dummy matcher lets the PromQL parser read `{}` and `{a=""}` as a selector.
    parts.append(f'{_DUMMY}="1"')
    try:
        sel = pp.parse("{" + ", ".join(parts) + "}")
    except ValueError as exc:
        raise ValueError(f"cannot read the series {descriptor.strip()!r}: {exc}") from None
    if not isinstance(sel, pp.VectorSelector) or sel.matchers.or_matchers:
        raise ValueError(f"cannot read the series {descriptor.strip()!r}: not a plain label set")
    pairs: dict[str, str] = {}
    if sel.name:
        pairs[METRIC_NAME] = sel.name
    for m in sel.matchers.matchers:
        if m.op != pp.MatchOp.Equal:
            raise ValueError(
                f"the series {descriptor.strip()!r} must use `=` only, not {m.name}{m.op}"
            )
        if m.name != _DUMMY:
            pairs[m.name] = m.value
    return labels_of(pairs)


def _items(text: str) -> list[str]:
    items = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        j = i
        while j < len(text) and not text[j].isspace():
            if text.startswith("{{", j):
                close = text.find("}}", j + 2)
                if close < 0:
                    raise ValueError(f"unclosed native histogram {text[j:]!r}; close it with }}}}")
                j = close + 2
            else:
                j += 1
        items.append(text[i:j])
        i = j
    return items


def _expand(item: str) -> list[SeqValue]:
    if m := _BLANKS.fullmatch(item):
        return [None] * (int(m.group(1)) if m.group(1) else 1)
    if item == "stale":
        return [STALE_NAN]
    if m := _HIST.fullmatch(item):
        count = int(m.group(2)) + 1 if m.group(2) else 1
        return [Histogram(m.group(1))] * count
    m = _ITEM.fullmatch(item)
    if m is None:
        raise ValueError(f"cannot read value {item!r}: {_VALUE_HELP}")
    value = _series_number(m.group("a"))
    if m.group("n") is None:
        return [value]
    n = int(m.group("n"))
    if n >= MAX_VALUES_PER_LINE:
        raise ValueError(f"repetition {item!r} is too long (at most {MAX_VALUES_PER_LINE})")
    step = _series_number(m.group("b")) if m.group("b") else 0.0
    out: list[SeqValue] = []
    for _ in range(n + 1):
        out.append(value)
        value += step  # accumulated, as upstream does (not value + i*step)
    return out


def _series_number(token: str) -> float:
    sign = -1.0 if token.startswith("-") else 1.0
    body = token.lstrip("+-")
    if body[-1:].isalpha() and body.lower() not in ("inf", "nan"):
        return sign * parse_duration(body) / 1000.0  # a duration counts as seconds
    return sign * parse_number(body)
