"""Parse Prometheus text format 0.0.4 and OpenMetrics 1.0 expositions into samples.

Behaviour follows Prometheus 3's scraper (`model/textparse`, `scrape/scrape.go`):

- Values are Go `strconv.ParseFloat` without hex floats or `_` (Prometheus rejects both), so
  `NaN`, `+Inf`, `-Inf`, `1e-3` work and `1e400` is out of range. Text-format timestamps
  are integer milliseconds; OpenMetrics timestamps are float seconds, truncated to ms.
- `le` on histograms and `quantile` on summaries are normalised as Prometheus 3 does
  (`le="1"` -> `le="1.0"`). As in Prometheus, the type in effect is that of the last
  `# TYPE` line, whichever family it named.
- OpenMetrics `_created` series are kept as ordinary series and counters keep their
  `_total` sample names: Prometheus 3 does this unless `created-timestamp-zero-ingestion`
  is enabled. Exemplars are checked for syntax and dropped.
- Label values with an empty string are dropped; a repeated label name is an error.
- A series repeated at the same timestamp is a duplicate: `parse_text` rejects it (as the
  Pushgateway does); `parse_lines_cached` drops it and counts it, as Prometheus' scraper
  does (`prometheus_target_scrapes_sample_duplicate_timestamp_total`).
- Stricter than Prometheus: a quoted label value cannot run across lines (write a newline
  as `\\n`); Prometheus' text lexer lets it.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from tenantwatch.promql.model import METRIC_NAME, Labels

_INT64_MAX = 2**63 - 1
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_QSTR = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_NAME_RE = re.compile(_NAME)
_LNAME_RE = re.compile(_LNAME)
_QSTR_RE = re.compile(_QSTR)
_CANONICAL_RE = re.compile(rf"{_NAME}(?:\{{(?:{_LNAME}={_QSTR},)*(?:{_LNAME}={_QSTR})?\}})?")
_PAIR_RE = re.compile(rf'({_LNAME})="([^"\\]*(?:\\.[^"\\]*)*)"')
_UNESCAPE_RE = re.compile(r'\\([\\"n])')
_HELP_UNESCAPE_RE = re.compile(r"\\([\\n])")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
_SPECIALS = frozenset(["NaN", "+Inf", "-Inf", "Inf", "nan", "inf", "+inf", "-inf"])
_TEXT_TYPES = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "untyped": "unknown",
}
_OM_TYPES = frozenset(
    ["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"]
)


@dataclass(frozen=True, slots=True)
class ParsedSample:
    labels: Labels
    value: float
    timestamp_ms: int | None


_new = object.__new__
_set_labels = vars(ParsedSample)["labels"].__set__
_set_value = vars(ParsedSample)["value"].__set__
_set_ts = vars(ParsedSample)["timestamp_ms"].__set__


def _new_sample(labels: Labels, value: float, ts: int | None) -> ParsedSample:
    """ParsedSample(labels, value, ts) at a third of the cost: a frozen dataclass's
    __init__ goes through object.__setattr__ per field; the slot descriptors do not."""
    sample: ParsedSample = _new(ParsedSample)
    _set_labels(sample, labels)
    _set_value(sample, value)
    _set_ts(sample, ts)
    return sample


class ExpositionError(ValueError):
    """A line of an exposition that Prometheus would reject; `line` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MetricMetadata:
    type: str = "unknown"
    help: str = ""
    unit: str = ""


@dataclass(slots=True)
class ParsedExposition:
    """Samples as parallel lists (fast to build and to hand to the store)."""

    labels: list[Labels]
    values: list[float]
    timestamps: list[int | None]
    duplicates: int = 0
    metadata: dict[str, MetricMetadata] = field(default_factory=dict)


class SeriesCache:
    """Parsed label sets by series text (`name{a="b"}`), kept across scrapes of one target.

    Like Prometheus' scrape cache, it lets a scrape skip label parsing for series it has
    seen before. Equal label sets share one tuple, so `labels is other` is a cheap identity
    test. Entries not seen in the latest parse are pruned once they outnumber the live
    ones. Use one cache per target: a cached `le`/`quantile` value keeps the normalisation
    of the `# TYPE` in effect when it was first parsed.
    """

    __slots__ = ("_interned", "_om", "_text")

    def __init__(self) -> None:
        self._text: dict[str, Labels] = {}
        self._om: dict[str, Labels] = {}
        self._interned: dict[Labels, Labels] = {}

    def __len__(self) -> int:
        return len(self._text) + len(self._om)

    def _prune(self, series: dict[str, Labels], live: set[int]) -> None:
        if len(series) <= 2 * len(live) + 1024:
            return
        kept = {k: v for k, v in series.items() if id(v) in live}
        series.clear()
        series.update(kept)
        other = self._text if series is self._om else self._om
        self._interned = {v: v for v in (*series.values(), *other.values())}


class _Bad(Exception):
    """The reason the current line is invalid (the caller adds the line number)."""


def is_openmetrics(content_type: str | None) -> bool:
    """True when a Content-Type names OpenMetrics (`application/openmetrics-text`)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/openmetrics-text"


def decode_exposition(body: bytes) -> str:
    """The body as text. Invalid UTF-8 raises ExpositionError naming its line."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise ExpositionError(
            line,
            f"invalid UTF-8 byte {body[exc.start : exc.start + 1]!r}: expositions must be UTF-8",
        ) from None


def parse_text(data: str, *, openmetrics: bool = False) -> list[ParsedSample]:
    """Every sample of an exposition. Raises ExpositionError for the first bad line."""
    parsed = _parse(data, SeriesCache(), openmetrics, strict=True)
    return list(map(_new_sample, parsed.labels, parsed.values, parsed.timestamps))


def parse_lines_cached(
    data: str, cache: SeriesCache, *, openmetrics: bool = False
) -> ParsedExposition:
    """Parse an exposition as a scraper does, reusing `cache` across scrapes of one target.

    A series repeated at the same timestamp keeps its first sample; the others are counted
    in `duplicates`. Raises ExpositionError for the first bad line.
    """
    return _parse(data, cache, openmetrics, strict=False)


def metric_types(data: str, *, openmetrics: bool | None = None) -> dict[str, str]:
    """Family name -> type from `# TYPE` lines (text `untyped` reads as `unknown`).

    `openmetrics=None` reads the data as OpenMetrics when it ends with `# EOF`.
    """
    return {
        name: meta.type for name, meta in metric_metadata(data, openmetrics=openmetrics).items()
    }


def metric_metadata(data: str, *, openmetrics: bool | None = None) -> dict[str, MetricMetadata]:
    """Family name -> type, help and unit from `# TYPE`, `# HELP` and `# UNIT` lines.

    Malformed metadata lines are skipped; `parse_text` reports them.
    """
    om = data.rstrip("\n").endswith("# EOF") if openmetrics is None else openmetrics
    found: dict[str, dict[str, str]] = {}
    for line in data.split("\n"):
        stripped = line if om else line.lstrip(" \t")
        if not stripped.startswith("#"):
            continue
        try:
            meta = _meta(stripped, om)
        except _Bad:
            continue
        if meta is not None and meta[0] != "EOF":
            kind, name, text = meta
            found.setdefault(name, {})[kind] = text
    return {name: _metadata(entry) for name, entry in found.items()}


def _metadata(entry: dict[str, str]) -> MetricMetadata:
    return MetricMetadata(
        entry.get("TYPE", "unknown"), entry.get("HELP", ""), entry.get("UNIT", "")
    )


def _parse(data: str, cache: SeriesCache, om: bool, strict: bool) -> ParsedExposition:
    lines = data.split("\n")
    if lines[-1] == "":
        lines.pop()
    series = cache._om if om else cache._text
    get = series.get
    out_labels: list[Labels] = []
    out_values: list[float] = []
    out_ts: list[int | None] = []
    add_labels, add_value, add_ts = out_labels.append, out_values.append, out_ts.append
    mtype = ""
    metadata: dict[str, dict[str, str]] = {}
    eof = False
    for line in lines:
        # Fast path: `series value` with a series seen before (the scrape-cache case).
        key, _, vs = line.rpartition(" ")
        labels = get(key)
        if labels is not None:
            try:
                value = float(vs)
            except ValueError:
                pass
            else:
                # Python's float() also takes "1_0", "+nan", " 1", non-ASCII digits, and
                # overflows to inf where Go's ParseFloat fails.
                if (
                    value - value == 0.0 and vs.isascii() and vs.isprintable() and "_" not in vs
                ) or vs in _SPECIALS:
                    add_labels(labels)
                    add_value(value)
                    add_ts(None)
                    continue
        try:
            if not line:
                if om:
                    raise _Bad("blank lines are not allowed in OpenMetrics")
                continue
            if line[0] == "#" or (not om and line[0] in " \t"):
                stripped = line if om else line.lstrip(" \t")
                if not stripped:
                    continue
                if stripped[0] == "#":
                    meta = _meta(stripped, om)
                    if meta is None:
                        continue
                    kind, name, text = meta
                    if kind == "EOF":
                        eof = True
                        if line is not lines[-1]:
                            raise ExpositionError(
                                _line_index(lines, line) + 2,
                                "unexpected data after # EOF: it must be the last line",
                            )
                        break
                    if kind == "TYPE":
                        mtype = text
                    metadata.setdefault(name, {})[kind] = text
                    continue
            labels, value, ts = _sample(line, series, cache._interned, om, mtype)
        except _Bad as exc:
            raise ExpositionError(_line_index(lines, line) + 1, str(exc)) from None
        add_labels(labels)
        add_value(value)
        add_ts(ts)
    if om and not eof:
        raise ExpositionError(
            len(lines) + 1,
            "data does not end with # EOF: OpenMetrics needs '# EOF' as its last line",
        )
    live = set(map(id, out_labels))
    duplicates = 0
    if len(live) != len(out_labels):
        duplicates = _drop_duplicates(out_labels, out_values, out_ts, strict, lines, om)
    cache._prune(series, live)
    return ParsedExposition(
        out_labels,
        out_values,
        out_ts,
        duplicates,
        {name: _metadata(entry) for name, entry in metadata.items()},
    )


def _sample(
    line: str,
    series: dict[str, Labels],
    interned: dict[Labels, Labels],
    om: bool,
    mtype: str,
) -> tuple[Labels, float, int | None]:
    """One sample line that the fast path did not take (timestamps, new series, errors)."""
    sp = line.find(" ")
    key = line
    if sp > 0:
        key = line[:sp]
        if "{" in key and key[-1] != "}":
            end = line.find("} ", sp)
            if end > 0:
                key = line[: end + 1]
                sp = end + 1
        labels = series.get(key)
        if labels is not None:
            # Only ever a prefix that is a whole series text hits: the tail starts at sp.
            try:
                if om:
                    return (labels, *_scan_tail_om(line, sp))
                if line[_ws(line, sp) : _ws(line, sp) + 1] != "{":
                    return (labels, *_scan_tail_text(line, sp))
            except _Bad:
                pass
    labels, value, ts, key = _parse_line(line, key, om, mtype)
    labels = interned.setdefault(labels, labels)
    series[key] = labels
    return labels, value, ts


def _line_index(lines: list[str], line: str) -> int:
    """Index of this very string in lines (errors only: the hot loop keeps no counter)."""
    return next(i for i, candidate in enumerate(lines) if candidate is line)


def _drop_duplicates(
    labels: list[Labels],
    values: list[float],
    timestamps: list[int | None],
    strict: bool,
    lines: list[str],
    om: bool,
) -> int:
    """Keep the first sample per (series, timestamp); return how many were dropped."""
    seen: set[tuple[int, int | None]] = set()
    keep: list[int] = []
    for k, (lset, ts) in enumerate(zip(labels, timestamps, strict=True)):
        key = (id(lset), ts)
        if key in seen:
            if strict:
                raise _duplicate_error(lines, k, lset, ts, om)
            continue
        seen.add(key)
        keep.append(k)
    dropped = len(labels) - len(keep)
    if dropped:
        labels[:] = [labels[k] for k in keep]
        values[:] = [values[k] for k in keep]
        timestamps[:] = [timestamps[k] for k in keep]
    return dropped


def _duplicate_error(
    lines: list[str], index: int, labels: Labels, ts: int | None, om: bool
) -> ExpositionError:
    """The error for the sample at `index`, which repeats an earlier one."""
    first = 0
    count = -1
    mtype = ""
    for lineno, line in enumerate(lines, 1):
        stripped = line if om else line.lstrip(" \t")
        if not stripped:
            continue
        if stripped[0] == "#":
            meta = _meta(stripped, om)
            if meta is not None and meta[0] == "TYPE":
                mtype = meta[2]
            continue
        count += 1
        got, _, got_ts, _ = _parse_line(line, line, om, mtype)
        if not first and got == labels and got_ts == ts:
            first = lineno
        if count == index:
            when = "" if ts is None else f" at timestamp {ts}"
            return ExpositionError(
                lineno,
                f"duplicate sample for timestamp: series {_format(labels)} already has a "
                f"sample{when} on line {first}; each series may appear once per timestamp",
            )
    raise AssertionError("unreachable: the sample index is within the exposition")


def _format(labels: Labels) -> str:
    name = next((v for k, v in labels if k == METRIC_NAME), "")
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels if k != METRIC_NAME)
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _show(line: str, i: int) -> str:
    return repr(line[i : i + 24]) if i < len(line) else "end of line"


# --- one sample line, the slow and exact way ----------------------------------------------


def _parse_line(line: str, key: str, om: bool, mtype: str) -> tuple[Labels, float, int | None, str]:
    """Labels, value, timestamp and series text of a sample line, or _Bad."""
    labels = None
    end = len(key)
    # A bare name followed by whitespace and '{' is `name {labels}`: text format allows it.
    if (
        _CANONICAL_RE.fullmatch(key) is not None
        and line.startswith(key)
        and (om or "{" in key or line[_ws(line, end) : _ws(line, end) + 1] != "{")
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
        value, ts = _scan_tail_om(line, end)
    else:
        value, ts = _scan_tail_text(line, end)
    return labels, value, ts, line[:end]


def _canonical_labels(key: str, mtype: str) -> Labels:
    brace = key.find("{")
    if brace < 0:
        return ((METRIC_NAME, key),)
    pairs: list[tuple[str, str]] = _PAIR_RE.findall(key, brace + 1, len(key) - 1)
    if "\\" in key:
        pairs = [(k, _unescape(v)) for k, v in pairs]
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
        found["le"] = _normalise_float(found["le"])
    elif mtype == "summary" and "quantile" in found:
        found["quantile"] = _normalise_float(found["quantile"])
    found[METRIC_NAME] = name
    return tuple(sorted(found.items()))


def _build_labels_checked(name: str, pairs: list[tuple[str, str]], mtype: str) -> Labels:
    """The slow twin of _build_labels: names the first problem, drops empty values."""
    if not name:
        raise _Bad("metric name is empty")
    seen = {METRIC_NAME}
    out = [(METRIC_NAME, name)]
    for label, value in pairs:
        if not label:
            raise _Bad("label name is empty")
        if label in seen:
            raise _Bad(
                f'label name "{label}" is not unique: invalid sample; give each label once per series'
            )
        seen.add(label)
        if value:
            if (label == "le" and mtype == "histogram") or (
                label == "quantile" and mtype == "summary"
            ):
                value = _normalise_float(value)
            out.append((label, value))
    out.sort()
    return tuple(out)


def _scan_series(line: str, om: bool, mtype: str) -> tuple[Labels, int]:
    i = 0 if om else _ws(line, 0)
    name: str | None = None
    pairs: list[tuple[str, str]] = []
    match = _NAME_RE.match(line, i)
    if match is not None:
        name, i = match.group(), match.end()
        j = i if om else _ws(line, i)
        if line[j : j + 1] == "{":
            name, i = _scan_labels(line, j + 1, om, name, pairs)
    elif line[i : i + 1] == "{":
        name, i = _scan_labels(line, i + 1, om, None, pairs)
    else:
        raise _Bad(
            f"expected a metric name, got {_show(line, i)}; names match [a-zA-Z_:][a-zA-Z0-9_:]* "
            '(quote any other name inside the braces: {"my.metric"})'
        )
    if name is None:
        raise _Bad(
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
            i = _ws(line, i)
        if i >= n:
            raise _Bad("unterminated label set: expected a label name or '}'")
        if line[i] == "}":
            return name, i + 1
        quoted = line[i] == '"'
        if quoted:
            match = _QSTR_RE.match(line, i)
            if match is None:
                raise _Bad("unterminated quoted name: close it with '\"'")
            label = _unescape(line[i + 1 : match.end() - 1])
        else:
            match = _LNAME_RE.match(line, i)
            if match is None:
                raise _Bad(
                    f"expected a label name, got {_show(line, i)}; label names match "
                    '[a-zA-Z_][a-zA-Z0-9_]* (quote any other name: {"my.label"="v"})'
                )
            label = match.group()
        i = match.end()
        if not om:
            i = _ws(line, i)
        nxt = line[i : i + 1]
        if quoted and nxt in (",", "}") and not exemplar:
            if name is not None:
                raise _Bad(f"metric name already set, got a second one: {label!r}")
            name = label
            i += 1
            if nxt == "}":
                return name, i
            continue
        if nxt != "=":
            raise _Bad(f"expected '=' after label name {label!r}, got {_show(line, i)}")
        i += 1
        if not om:
            i = _ws(line, i)
        if line[i : i + 1] != '"':
            raise _Bad(f"expected a quoted value after {label}=, got {_show(line, i)}")
        match = _QSTR_RE.match(line, i)
        if match is None:
            raise _Bad(
                f"unterminated value of label {label!r}: close it with '\"' "
                '(write a quote inside as \\" and a newline as \\n)'
            )
        pairs.append((label, _unescape(line[i + 1 : match.end() - 1])))
        i = match.end()
        if not om:
            i = _ws(line, i)
        nxt = line[i : i + 1]
        if nxt == ",":
            i += 1
        elif om and nxt != "}":
            raise _Bad(
                f"expected ',' or '}}' after the value of label {label!r}, got {_show(line, i)}"
            )


def _scan_tail_text(line: str, i: int) -> tuple[float, int | None]:
    n = len(line)
    start = i
    i = _ws(line, i)
    j = i
    while j < n and line[j] not in "{ \t":
        j += 1
    if j == i:
        raise _Bad(
            f"expected a value after the series, got {_show(line, i)}; write name{{labels}} value [timestamp]"
        )
    value = _value(line[i:j], glued=i == start)
    i = _ws(line, j)
    if i == n:
        return value, None
    j = i
    while j < n and line[j] not in " \t":
        j += 1
    token = line[i:j]
    if not (token.isascii() and token.isdigit()):
        raise _Bad(
            f"invalid timestamp {token!r}: text-format timestamps are integer milliseconds "
            "since the epoch"
        )
    ts = int(token)
    if ts > _INT64_MAX:
        raise _Bad(f"timestamp {token} out of range: it must fit in 64 bits")
    if _ws(line, j) != n:
        raise _Bad(
            f"unexpected {_show(line, _ws(line, j))} after the timestamp: a sample line ends there"
        )
    return value, ts


def _scan_tail_om(line: str, i: int) -> tuple[float, int | None]:
    n = len(line)
    if line[i : i + 1] != " ":
        raise _Bad(
            f"expected one space and a value after the series, got {_show(line, i)}; "
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
    raise _Bad(
        f"expected an exemplar (' # {{labels}} value') or end of line after the timestamp, "
        f"got {_show(line, k)}"
    )


def _om_token(line: str, i: int, what: str) -> tuple[str, int]:
    end = line.find(" ", i)
    if end < 0:
        end = len(line)
    if end == i:
        raise _Bad(
            f"expected a {what}, got {_show(line, i)}; OpenMetrics separates fields by one space"
        )
    return line[i:end], end


def _scan_exemplar(line: str, i: int) -> None:
    try:
        _, i = _scan_labels(line, i, True, None, [], exemplar=True)
        value_s, j = _om_token(line, i + 1, "exemplar value") if line[i : i + 1] == " " else ("", i)
        if not value_s:
            raise _Bad(f"expected ' value' after the exemplar labels, got {_show(line, i)}")
        _value(value_s, glued=False)
        if j < len(line):
            ts_s, k = _om_token(line, j + 1, "exemplar timestamp")
            _om_timestamp(ts_s)
            if k != len(line):
                raise _Bad(f"unexpected {_show(line, k)} after the exemplar timestamp")
    except _Bad as exc:
        raise _Bad(f"invalid exemplar: {exc}") from None


def _om_timestamp(s: str) -> int:
    seconds = _value(s, glued=False)
    if seconds - seconds != 0.0:
        raise _Bad(f"invalid timestamp {s!r}: it must be a finite number of seconds")
    ms = int(seconds * 1000)
    if not -_INT64_MAX <= ms <= _INT64_MAX:
        raise _Bad(f"timestamp {s!r} out of range")
    return ms


def _ws(line: str, i: int) -> int:
    n = len(line)
    while i < n and line[i] in " \t":
        i += 1
    return i


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return _UNESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], value)


def _plain_value(s: str) -> float | None:
    """A value in its common spelling, or None when _value must judge it."""
    try:
        value = float(s)
    except ValueError:
        return None
    if (
        value - value == 0.0 and s.isascii() and s.isprintable() and "_" not in s
    ) or s in _SPECIALS:
        return value
    return None


def _value(s: str, *, glued: bool) -> float:
    """A sample value as Prometheus' parseFloat reads it, or _Bad."""
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
            raise _Bad(f"value {s!r} is out of range for a 64-bit float")
    hint = ""
    if s.endswith("\r"):
        hint = "; the line ends with a carriage return: use \\n line endings"
    elif glued:
        hint = '; metric names may only hold [a-zA-Z0-9_:] (quote any other name: {"my.metric"})'
    raise _Bad(f"invalid value {s!r}: use a float such as 1, -2.5, 1e-3, NaN, +Inf or -Inf{hint}")


# --- comments, HELP, TYPE, UNIT, EOF --------------------------------------------------------


def _meta(line: str, om: bool) -> tuple[str, str, str] | None:
    """(kind, family name, text) of a metadata line; None for a plain comment."""
    n = len(line)
    if om:
        if line.startswith("# EOF"):
            if line != "# EOF":
                raise _Bad("unexpected data after # EOF: it must be the last line")
            return ("EOF", "", "")
        if not line.startswith("# "):
            raise _Bad("OpenMetrics needs one space after '#'")
        i = 2
    else:
        if n == 1 or line[1] not in " \t":
            return None
        i = _ws(line, 1)
    kind = line[i : i + 4]
    if kind not in ("HELP", "TYPE", "UNIT") or (kind == "UNIT" and not om):
        if om:
            raise _Bad(
                f"unexpected comment {line[:30]!r}: OpenMetrics allows only # HELP, # TYPE, "
                "# UNIT and # EOF lines"
            )
        return None
    if line[i + 4 : i + 5] not in (" ", "\t") or (om and line[i + 4] != " "):
        if om:
            raise _Bad(f"expected one space after {kind}")
        return None
    i = i + 5 if om else _ws(line, i + 4)
    if line[i : i + 1] == '"':
        match = _QSTR_RE.match(line, i)
        name = _unescape(line[i + 1 : match.end() - 1]) if match else None
    else:
        match = _NAME_RE.match(line, i)
        name = match.group() if match else None
    if match is None or name is None:
        raise _Bad(f"expected a metric name after {kind}, got {_show(line, i)}")
    i = match.end()
    if om:
        if line[i : i + 1] != " ":
            raise _Bad(
                f"expected a space and the {kind} text after {name!r} (empty text needs the space too)"
            )
        text = line[i + 1 :]
    else:
        text = line[i + 1 :]
    if kind == "TYPE":
        if om:
            if text not in _OM_TYPES:
                raise _Bad(
                    f"invalid metric type {text!r}: use one of {', '.join(sorted(_OM_TYPES))}"
                )
        elif text in _TEXT_TYPES:
            text = _TEXT_TYPES[text]
        else:
            raise _Bad(
                f"invalid metric type {text!r}: use counter, gauge, histogram, summary or untyped"
            )
    elif kind == "HELP":
        if om:
            text = _unescape(text)
        elif "\\" in text:
            text = _HELP_UNESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], text)
    elif text and not (name.endswith("_" + text)):
        raise _Bad(
            f"unit {text!r} is not a suffix of metric {name!r}: the name must end in _{text}"
        )
    return (kind, name, text)


# --- Go float parsing and formatting (le/quantile normalisation) -----------------------------

_GO_DEC_RE = re.compile(r"[+-]?(?:[0-9_]+(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?")
_GO_HEX_RE = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F_]+(?:\.[0-9a-fA-F_]*)?|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+"
)


@functools.lru_cache(maxsize=4096)
def _normalise_float(value: str) -> str:
    """Prometheus 3's `normalizeFloatsInLabelValues`: `1` -> `1.0`; unparsable stays."""
    parsed = _go_parse_float(value)
    return value if parsed is None else _format_om_float(parsed)


def _go_parse_float(s: str) -> float | None:
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


def _format_om_float(f: float) -> str:
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
