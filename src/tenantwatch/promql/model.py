"""Types shared by the PromQL engine, the metric store and the query API.

Timestamps are integer milliseconds since the epoch, as in Prometheus. A label set is a
tuple of (name, value) pairs sorted by name, with no empty values; it is hashable and
compact, and the store interns its strings.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from tenantwatch.gotext.regex import GoRegex, RegexError
from tenantwatch.types import Labels, Millis

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

METRIC_NAME = "__name__"
STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN: float = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]


def is_stale(value: float) -> bool:
    """True for Prometheus' stale marker (compare the bits: any other NaN is a value)."""
    return value != value and struct.pack("<d", value) == struct.pack("<Q", STALE_NAN_BITS)


def stale_mask(values: FloatArray) -> npt.NDArray[np.bool_]:
    mask: npt.NDArray[np.bool_] = values.view(np.uint64) == np.uint64(STALE_NAN_BITS)
    return mask


def labels_of(mapping: Mapping[str, str]) -> Labels:
    """A canonical label set: sorted by name, empty values dropped."""
    return tuple(sorted((k, v) for k, v in mapping.items() if v != ""))


def label_value(labels: Labels, name: str) -> str:
    for k, v in labels:
        if k == name:
            return v
    return ""


def without(labels: Labels, names: Iterable[str]) -> Labels:
    drop = set(names)
    return tuple(p for p in labels if p[0] not in drop)


def only(labels: Labels, names: Iterable[str]) -> Labels:
    keep = set(names)
    return tuple(p for p in labels if p[0] in keep)


def drop_name(labels: Labels) -> Labels:
    return tuple(p for p in labels if p[0] != METRIC_NAME)


def format_labels(labels: Labels) -> str:
    """`name{a="b"}` as Prometheus prints a series."""
    name = label_value(labels, METRIC_NAME)
    rest = ", ".join(f"{k}={_quote(v)}" for k, v in labels if k != METRIC_NAME)
    return f"{name}{{{rest}}}"


def go_labels(labels: Labels) -> str:
    """`{__name__="x", a="b"}` as Go's labels.String() prints a label set."""
    return "{" + ", ".join(f"{k}={_quote(v)}" for k, v in labels) + "}"


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def compile_regex(pattern: str) -> GoRegex:
    """A label matcher's regex as Prometheus compiles it: RE2, `^(?s:pattern)$`."""
    return GoRegex(pattern, dot_nl=True)


MatchOp = Literal["=", "!=", "=~", "!~"]


@dataclass(frozen=True, slots=True)
class Matcher:
    """A label matcher; regexes are fully anchored, as in Prometheus."""

    name: str
    op: MatchOp
    value: str
    regex: GoRegex | None = field(default=None, compare=False, hash=False)

    @staticmethod
    def of(name: str, op: MatchOp, value: str) -> Matcher:
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = compile_regex(value)
            except RegexError as exc:
                raise PromQLError(
                    "bad_data", f"invalid regular expression {value!r}: {exc}"
                ) from exc
        return Matcher(name, op, value, regex)

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        assert self.regex is not None
        hit = self.regex.matches(value)
        return hit if self.op == "=~" else not hit

    def matches_empty(self) -> bool:
        return self.matches("")

    def __str__(self) -> str:
        return f"{self.name}{self.op}{_quote(self.value)}"


@dataclass(slots=True)
class SeriesData:
    """One series' samples in a time range, ascending; stale markers included."""

    labels: Labels
    ts: IntArray
    vals: FloatArray


@dataclass(frozen=True, slots=True)
class PackedSeries:
    """Many series' samples in one pair of arrays: series i owns `lengths[i]` samples,
    in order. Sources that can answer this way spare the engine a Python object per
    series, which is what makes queries over 100,000 series fast."""

    labels: list[Labels]
    lengths: IntArray
    ts: IntArray
    vals: FloatArray


class PackedSource(Protocol):
    def select_packed(
        self,
        matchers: Sequence[Matcher],
        mint: Millis,
        maxt: Millis,
        *,
        max_step_ms: Millis | None = None,
    ) -> PackedSeries:
        """As SeriesSource.select, packed; series without samples in range are left out.
        max_step_ms: samples that far apart are enough (a source may read a rollup)."""
        ...


class SeriesSource(Protocol):
    """Where the engine reads samples: the embedded store, a test script's data, ..."""

    def select(
        self, matchers: Sequence[Matcher], mint: Millis, maxt: Millis
    ) -> Sequence[SeriesData]:
        """Series matching all matchers with their samples in [mint, maxt]."""
        ...

    def label_names(self, matchers: Sequence[Matcher], mint: Millis, maxt: Millis) -> list[str]: ...

    def label_values(
        self, name: str, matchers: Sequence[Matcher], mint: Millis, maxt: Millis
    ) -> list[str]: ...

    def series(self, matchers: Sequence[Matcher], mint: Millis, maxt: Millis) -> list[Labels]: ...


ErrorType = Literal["bad_data", "execution", "timeout", "canceled", "internal", "unavailable"]


class PromQLError(Exception):
    """A query error with Prometheus' errorType (bad_data for parse errors)."""

    def __init__(self, kind: ErrorType, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorType = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class VectorSample:
    """One element of an instant vector (Prometheus' promql.Sample): a series at time t."""

    labels: Labels
    t: Millis
    v: float


@dataclass(frozen=True, slots=True)
class Series:
    labels: Labels
    points: tuple[tuple[Millis, float], ...]


@dataclass(frozen=True, slots=True)
class ScalarResult:
    t: Millis
    v: float


@dataclass(frozen=True, slots=True)
class StringResult:
    t: Millis
    v: str


@dataclass(frozen=True, slots=True)
class VectorResult:
    samples: tuple[VectorSample, ...]


@dataclass(frozen=True, slots=True)
class MatrixResult:
    series: tuple[Series, ...]


Value = ScalarResult | StringResult | VectorResult | MatrixResult


@dataclass(frozen=True, slots=True)
class QueryResult:
    value: Value
    warnings: tuple[str, ...] = ()
    infos: tuple[str, ...] = ()
