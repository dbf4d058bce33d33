"""The in-memory head of the metric store: typed arrays per series and an inverted index.

Every series keeps its samples in two `array` buffers (int64 milliseconds, float64
values) that grow in place while samples arrive in order: 16 bytes per sample and a few
hundred bytes per series, since label strings and (name, value) pairs are interned and
postings are int32 arrays.

Concurrency: one writer at a time (MetricStore serialises writers with its lock), any
number of readers in other threads without a lock. Readers copy slices (one C call under
the GIL, so never torn) and never hold a buffer export on a live array, which would make
the writer's next append fail. The writer appends a value before its timestamp and a
reader only trusts the shorter of the two buffers; anything that is not an append at the
end (out-of-order insert, merge, trim) builds new buffers and swaps the pair in one
assignment, then bumps the series' version (derived data such as rollups keys on it).
"""

from __future__ import annotations

import operator
import re
import sys
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tenantwatch.promql.model import (
    METRIC_NAME,
    FloatArray,
    IntArray,
    Matcher,
    PackedSeries,
    SeriesData,
)
from tenantwatch.types import Labels, Millis

Buffers = tuple["array[int]", "array[float]"]

_EMPTY_TS: IntArray = np.empty(0, dtype=np.int64)
_EMPTY_VALS: FloatArray = np.empty(0, dtype=np.float64)
MIN_TIME = -(2**63)
MAX_TIME = 2**63 - 1


def _buffers(ts: IntArray, vals: FloatArray) -> Buffers:
    new_ts: array[int] = array("q")
    new_vals: array[float] = array("d")
    new_ts.frombytes(np.ascontiguousarray(ts, dtype=np.int64).tobytes())
    new_vals.frombytes(np.ascontiguousarray(vals, dtype=np.float64).tobytes())
    return new_ts, new_vals


class MemSeries:
    """One series: its id (the store's series ref), labels and samples, ascending."""

    __slots__ = ("_data", "id", "labels", "version")

    def __init__(self, sid: int, labels: Labels) -> None:
        self.id = sid
        self.labels = labels
        self._data: Buffers = (array("q"), array("d"))
        self.version = 0

    def _replace(self, data: Buffers) -> None:
        self._data = data
        self.version += 1

    # -- reading (safe from any thread) -----------------------------------------------
    def _span(self, mint: Millis, maxt: Millis) -> tuple[Buffers, int, int]:
        data = self._data
        ts, vals = data
        n = min(len(ts), len(vals))
        hi = bisect_right(ts, maxt, 0, n)
        lo = bisect_left(ts, mint, 0, hi)
        return data, lo, hi

    def window(self, mint: Millis, maxt: Millis) -> tuple[IntArray, FloatArray]:
        """Copies of the samples with mint <= t <= maxt."""
        (ts, vals), lo, hi = self._span(mint, maxt)
        if lo >= hi:
            return _EMPTY_TS, _EMPTY_VALS
        return (
            np.frombuffer(ts[lo:hi], dtype=np.int64),
            np.frombuffer(vals[lo:hi], dtype=np.float64),
        )

    def value_at(self, t: int) -> float | None:
        """The value stored at timestamp t, or None."""
        (_, vals), lo, hi = self._span(t, t)
        return vals[lo] if lo < hi else None

    def count_before(self, t: Millis) -> int:
        """How many samples are older than t."""
        ts, vals = self._data
        return bisect_left(ts, t, 0, min(len(ts), len(vals)))

    def has_samples(self, mint: Millis, maxt: Millis) -> bool:
        _, lo, hi = self._span(mint, maxt)
        return lo < hi

    @property
    def n(self) -> int:
        ts, vals = self._data
        return min(len(ts), len(vals))

    @property
    def ts(self) -> IntArray:
        return self.window(MIN_TIME, MAX_TIME)[0]

    @property
    def vals(self) -> FloatArray:
        return self.window(MIN_TIME, MAX_TIME)[1]

    @property
    def first_t(self) -> int | None:
        ts, vals = self._data
        return ts[0] if min(len(ts), len(vals)) else None

    @property
    def last_t(self) -> int:
        ts, vals = self._data
        n = min(len(ts), len(vals))
        return ts[n - 1] if n else -(2**62)

    def nbytes(self) -> int:
        """Bytes allocated for this series' samples, object and label tuple."""
        ts, vals = self._data
        return (
            sys.getsizeof(ts)
            + sys.getsizeof(vals)
            + sys.getsizeof(self._data)
            + sys.getsizeof(self)
            + sys.getsizeof(self.labels)
        )

    # -- writing (one writer at a time) --------------------------------------------------
    def append(self, t: int, v: float) -> bool:
        """Add one sample. True when a sample was added, False when it replaced the value
        at an existing timestamp. Out-of-order samples are inserted in place."""
        ts, vals = self._data
        if ts and t <= ts[-1]:
            return self._append_old(t, v)
        vals.append(v)
        try:
            ts.append(t)
        except TypeError:
            vals.pop()
            raise
        return True

    def _append_old(self, t: int, v: float) -> bool:
        t = operator.index(t)
        v = float(v)
        ts, vals = self._data
        i = bisect_left(ts, t)
        if ts[i] == t:
            vals[i] = v
            self.version += 1
            return False
        new_ts, new_vals = ts[:], vals[:]
        new_ts.insert(i, t)
        new_vals.insert(i, v)
        self._replace((new_ts, new_vals))
        return True

    def extend(self, ts: bytes | memoryview, vals: bytes | memoryview) -> None:
        """Append raw int64 timestamps and float64 values that are known to be ascending,
        unique and newer than the last sample (replay's fast path; no checks)."""
        cur_ts, cur_vals = self._data
        cur_vals.frombytes(vals)
        cur_ts.frombytes(ts)

    def merge(self, ts: IntArray, vals: FloatArray) -> int:
        """Merge a batch of samples in any order; a later value wins on equal timestamps.
        Returns how many samples were added."""
        ts = np.ascontiguousarray(ts, dtype=np.int64)
        vals = np.ascontiguousarray(vals, dtype=np.float64)
        if len(ts) != len(vals):
            raise ValueError(f"merge needs as many values as timestamps ({len(ts)} != {len(vals)})")
        if len(ts) == 0:
            return 0
        cur_ts, cur_vals = self._data
        n = len(cur_ts)
        if (n == 0 or ts[0] > cur_ts[-1]) and bool(np.all(ts[1:] > ts[:-1])):
            cur_vals.frombytes(vals.tobytes())
            cur_ts.frombytes(ts.tobytes())
            return len(ts)
        all_ts = np.concatenate([np.frombuffer(cur_ts[:], dtype=np.int64), ts])
        all_vals = np.concatenate([np.frombuffer(cur_vals[:], dtype=np.float64), vals])
        order = np.argsort(all_ts, kind="stable")
        all_ts, all_vals = all_ts[order], all_vals[order]
        keep = np.ones(len(all_ts), dtype=bool)
        keep[:-1] = all_ts[1:] != all_ts[:-1]
        self._replace(_buffers(all_ts[keep], all_vals[keep]))
        return int(keep.sum()) - n

    def trim_before(self, cutoff: int) -> int:
        """Drop samples older than cutoff; returns how many were dropped."""
        ts, vals = self._data
        lo = bisect_left(ts, cutoff)
        if lo == 0:
            return 0
        self._replace((ts[lo:], vals[lo:]))
        return lo


@dataclass(frozen=True)
class HeadStats:
    series: int
    samples: int
    bytes: int


# Per series, beyond MemSeries.nbytes: the id map entry, six postings slots and the
# series list slot, measured with tracemalloc on 200,000 series (see tests/metrics).
_INDEX_BYTES_PER_SERIES = 96


def check_labels(labels: Labels) -> None:
    """Raise ValueError unless labels is a canonical label set (see model.Labels)."""
    if not isinstance(labels, tuple):
        raise ValueError(f"labels must be a tuple of (name, value) pairs, got {labels!r}")
    prev = ""
    for i, pair in enumerate(labels):
        if not (
            isinstance(pair, tuple)
            and len(pair) == 2
            and isinstance(pair[0], str)
            and isinstance(pair[1], str)
        ):
            raise ValueError(f"label {i} of {labels!r} is not a (name, value) pair of strings")
        name, value = pair
        if not name:
            raise ValueError(f"label {i} of {labels!r} has an empty name")
        if not value:
            raise ValueError(
                f"label {name!r} has an empty value; drop it (an empty value means absent)"
            )
        if i and name <= prev:
            raise ValueError(
                f"labels must be sorted by name without duplicates ({prev!r} before {name!r});"
                " build them with tenantwatch.promql.model.labels_of"
            )
        prev = name


class Head:
    """All series in memory; thread-safe for one writer and many readers."""

    def __init__(self) -> None:
        self._series: list[MemSeries | None] = []
        self.by_id = self._series  # read-only for callers: index = series ref, None if dropped
        self._ids: dict[Labels, int] = {}
        self._postings: dict[str, dict[str, array[int]]] = {}
        self._strings: dict[str, str] = {}
        self._pairs: dict[tuple[str, str], tuple[str, str]] = {}
        self._lock = threading.RLock()
        self.samples_appended = 0
        self.active = 0

    # -- writing -------------------------------------------------------------------
    @property
    def label_pairs(self) -> dict[tuple[str, str], tuple[str, str]]:
        return self._pairs

    def intern(self, labels: Labels) -> Labels:
        """The label set with shared pair and string objects; the caller's own tuple when
        it is made of the shared pairs already (so a caller keeping it costs nothing)."""
        out = []
        same = type(labels) is tuple
        pairs, strings = self._pairs, self._strings
        for pair in labels:
            found = pairs.get(pair)
            if found is None:
                k, v = pair
                k2, v2 = strings.setdefault(k, k), strings.setdefault(v, v)
                found = pair if k2 is k and v2 is v and type(pair) is tuple else (k2, v2)
                pairs[found] = found
            same = same and found is pair
            out.append(found)
        return labels if same else tuple(out)

    def lookup(self, labels: Labels) -> MemSeries | None:
        try:
            sid = self._ids.get(labels)
        except TypeError:  # unhashable: not a tuple of pairs
            check_labels(labels)
            raise
        return None if sid is None else self._series[sid]

    def create(self, labels: Labels, sid: int | None = None) -> MemSeries:
        """Add a new series (with a given id when replaying). Raises ValueError for labels
        that are not canonical or already present, and for an id in use."""
        check_labels(labels)
        return self._create(labels, sid)

    def restore(self, labels: Labels, sid: int, ts: IntArray, vals: FloatArray) -> MemSeries:
        """Add a series from a checkpoint: labels canonical, timestamps ascending, unique."""
        series = self._create(labels, sid)
        series._data = _buffers(ts, vals)
        return series

    def _create(self, labels: Labels, sid: int | None) -> MemSeries:
        with self._lock:
            if labels in self._ids:
                raise ValueError(f"series {labels!r} exists already")
            if sid is None:
                sid = len(self._series)
            elif sid < len(self._series) and self._series[sid] is not None:
                raise ValueError(f"series id {sid} is in use")
            labels = self.intern(labels)
            series = MemSeries(sid, labels)
            if sid >= len(self._series):
                self._series.extend([None] * (sid - len(self._series) + 1))
            self._series[sid] = series
            self._ids[labels] = sid
            postings = self._postings
            for name, value in labels:
                values = postings.get(name)
                if values is None:
                    values = postings[name] = {}
                hit = values.get(value)
                if hit is None:
                    hit = values[value] = array("i")
                hit.append(sid)
            self.active += 1
            return series

    @property
    def next_id(self) -> int:
        return len(self._series)

    def reserve_ids(self, next_id: int) -> None:
        """Never hand out ids below next_id (ids of dropped series stay retired)."""
        with self._lock:
            if next_id > len(self._series):
                self._series.extend([None] * (next_id - len(self._series)))

    def get_or_create(self, labels: Labels) -> MemSeries:
        return self.lookup(labels) or self.create(labels)

    def count_with(self, name: str, value: str) -> int:
        """How many series have the label name=value."""
        hit = self._postings.get(name, {}).get(value)
        return 0 if hit is None else len(hit)

    def series_by_id(self, sid: int) -> MemSeries | None:
        return self._series[sid] if 0 <= sid < len(self._series) else None

    def append(self, labels: Labels, t: int, v: float) -> MemSeries:
        series = self.get_or_create(labels)
        series.append(t, v)
        self.samples_appended += 1
        return series

    # -- reading -------------------------------------------------------------------
    def _ids_for(self, m: Matcher) -> np.ndarray | None:
        values = self._postings.get(m.name)
        if not values:
            return None
        if m.op == "=":
            hit = values.get(m.value)
            return None if hit is None else np.frombuffer(hit[:], dtype=np.int32)
        parts = [
            np.frombuffer(p[:], dtype=np.int32) for v, p in list(values.items()) if m.matches(v)
        ]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))

    def _candidates(self, matchers: Sequence[Matcher]) -> list[int]:
        ids: np.ndarray | None = None
        negative: list[Matcher] = []
        for m in matchers:
            if m.matches_empty():
                negative.append(m)
                continue
            found = self._ids_for(m)
            if found is None:
                return []
            ids = found if ids is None else np.intersect1d(ids, found, assume_unique=True)
            if len(ids) == 0:
                return []
        listed: list[int] = list(range(len(self._series))) if ids is None else sorted(ids.tolist())
        if not negative:
            return listed
        out = []
        for sid in listed:
            series = self._series[sid]
            if series is None:
                continue
            labels = dict(series.labels)
            if all(m.matches(labels.get(m.name, "")) for m in negative):
                out.append(sid)
        return out

    def matching(self, matchers: Sequence[Matcher]) -> list[MemSeries]:
        out = []
        for sid in self._candidates(matchers):
            series = self._series[sid]
            if series is not None:
                out.append(series)
        return out

    def select(self, matchers: Sequence[Matcher], mint: Millis, maxt: Millis) -> list[SeriesData]:
        out = []
        for series in self.matching(matchers):
            ts, vals = series.window(mint, maxt)
            if len(ts):
                out.append(SeriesData(series.labels, ts, vals))
        return out

    def select_packed(
        self,
        matchers: Sequence[Matcher],
        mint: Millis,
        maxt: Millis,
        *,
        max_step_ms: Millis | None = None,
    ) -> PackedSeries:
        """As select (the head keeps no rollups: max_step_ms is accepted and ignored), with every series' samples in one pair of arrays (no numpy object
        per series: the C-level array slices and extends cost about a microsecond)."""
        labels: list[Labels] = []
        lengths: array[int] = array("q")
        all_ts: array[int] = array("q")
        all_vals: array[float] = array("d")
        for series in self.matching(matchers):
            (ts, vals), lo, hi = series._span(mint, maxt)
            if lo < hi:
                labels.append(series.labels)
                lengths.append(hi - lo)
                all_ts += ts[lo:hi]
                all_vals += vals[lo:hi]
        return PackedSeries(
            labels,
            np.frombuffer(lengths, dtype=np.int64) if lengths else np.empty(0, np.int64),
            np.frombuffer(all_ts, dtype=np.int64) if all_ts else np.empty(0, np.int64),
            np.frombuffer(all_vals, dtype=np.float64) if all_vals else np.empty(0),
        )

    def series(self, matchers: Sequence[Matcher], mint: Millis, maxt: Millis) -> list[Labels]:
        return [s.labels for s in self.matching(matchers) if s.has_samples(mint, maxt)]

    def label_names(self, matchers: Sequence[Matcher], mint: Millis, maxt: Millis) -> list[str]:
        return names_in(self.series(matchers, mint, maxt))

    def label_values(
        self, name: str, matchers: Sequence[Matcher], mint: Millis, maxt: Millis
    ) -> list[str]:
        return values_in(name, self.series(matchers, mint, maxt))

    def all_series(self) -> list[MemSeries]:
        return [s for s in self._series if s is not None]

    # -- housekeeping ----------------------------------------------------------------
    def drop_series(self, keep: Callable[[MemSeries], bool]) -> int:
        """Remove series for which keep() is False (e.g. empty after retention)."""
        with self._lock:
            gone: dict[tuple[str, str], set[int]] = {}
            dropped = 0
            for s in self.all_series():
                if keep(s):
                    continue
                dropped += 1
                self._series[s.id] = None
                del self._ids[s.labels]
                for pair in s.labels:
                    gone.setdefault(pair, set()).add(s.id)
            for (name, value), sids in gone.items():
                values = self._postings[name]
                left = array("i", (x for x in values[value] if x not in sids))
                if left:
                    values[value] = left
                else:
                    del values[value]
                    self._pairs.pop((name, value), None)
                    if not values:
                        del self._postings[name]
            self.active -= dropped
            return dropped

    def stats(self, *, exact_up_to: int = 10_000) -> HeadStats:
        """Series, samples and bytes. Beyond `exact_up_to` series, samples and bytes are
        estimated from an evenly spread sample of that many series: walking 200,000
        series every few seconds cost more CPU than the scrapes it reports on."""
        series = self.all_series()
        n = len(series)
        chosen = series if n <= exact_up_to else series[:: max(1, n // exact_up_to)]
        scale = n / len(chosen) if chosen else 0.0
        samples = round(sum(s.n for s in chosen) * scale)
        size = round(sum(s.nbytes() for s in chosen) * scale) + _INDEX_BYTES_PER_SERIES * n
        return HeadStats(n, samples, size)


def names_in(series: Sequence[Labels]) -> list[str]:
    """The label names of these label sets, sorted."""
    return sorted({k for labels in series for k, _ in labels})


def values_in(name: str, series: Sequence[Labels]) -> list[str]:
    """The values of label `name` in these label sets, sorted."""
    return sorted({v for labels in series for k, v in labels if k == name})


NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def metric_name(labels: Labels) -> str:
    for k, v in labels:
        if k == METRIC_NAME:
            return v
    return ""
