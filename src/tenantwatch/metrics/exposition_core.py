"""Parse a whole exposition into samples, fast: series seen before skip label parsing.

SeriesCache plays the part of Prometheus' scrape cache; lines the cache cannot take go to
the exact scanner (exposition_scan), and duplicates are dropped or rejected here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tenantwatch.metrics.exposition_meta import MetricMetadata, metadata_of, parse_meta_line
from tenantwatch.metrics.exposition_scan import (
    SPECIALS,
    BadLine,
    parse_line,
    scan_tail_om,
    scan_tail_text,
    ws,
)
from tenantwatch.promql.model import METRIC_NAME
from tenantwatch.types import Labels


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

    __slots__ = ("_interned", "_om", "_pairs", "_text")

    def __init__(self, pairs: dict[tuple[str, str], tuple[str, str]] | None = None) -> None:
        """pairs: a (name, value) interning table to share, e.g. the metric store's, so a
        parsed label set costs only its outer tuple."""
        self._text: dict[str, Labels] = {}
        self._om: dict[str, Labels] = {}
        self._interned: dict[Labels, Labels] = {}
        self._pairs = pairs

    def __len__(self) -> int:
        return len(self._text) + len(self._om)

    def texts(self, *, openmetrics: bool) -> dict[str, Labels]:
        """Series text -> label set, for the format's lines (read only)."""
        return self._om if openmetrics else self._text

    def _prune(self, series: dict[str, Labels], live: set[int]) -> None:
        if len(series) <= 2 * len(live) + 1024:
            return
        kept = {k: v for k, v in series.items() if id(v) in live}
        series.clear()
        series.update(kept)
        other = self._text if series is self._om else self._om
        self._interned = {v: v for v in (*series.values(), *other.values())}


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
                ) or vs in SPECIALS:
                    add_labels(labels)
                    add_value(value)
                    add_ts(None)
                    continue
        try:
            if not line:
                if om:
                    raise BadLine("blank lines are not allowed in OpenMetrics")
                continue
            if line[0] == "#" or (not om and line[0] in " \t"):
                stripped = line if om else line.lstrip(" \t")
                if not stripped:
                    continue
                if stripped[0] == "#":
                    meta = parse_meta_line(stripped, om)
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
            labels, value, ts = _sample(line, series, cache._interned, om, mtype, cache._pairs)
        except BadLine as exc:
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
        {name: metadata_of(entry) for name, entry in metadata.items()},
    )


def _sample(
    line: str,
    series: dict[str, Labels],
    interned: dict[Labels, Labels],
    om: bool,
    mtype: str,
    pairs: dict[tuple[str, str], tuple[str, str]] | None = None,
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
                    return (labels, *scan_tail_om(line, sp))
                if line[ws(line, sp) : ws(line, sp) + 1] != "{":
                    return (labels, *scan_tail_text(line, sp))
            except BadLine:
                pass
    labels, value, ts, key = parse_line(line, key, om, mtype)
    if pairs is not None and labels not in interned:
        labels = tuple([pairs.setdefault(p, p) for p in labels])
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
            meta = parse_meta_line(stripped, om)
            if meta is not None and meta[0] == "TYPE":
                mtype = meta[2]
            continue
        count += 1
        got, _, got_ts, _ = parse_line(line, line, om, mtype)
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
