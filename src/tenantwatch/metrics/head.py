"""The in-memory head of the metric store: typed arrays per series and an inverted index.

Every series keeps its samples in two numpy arrays (int64 milliseconds, float64 values)
that grow by doubling; `select` hands out read-only views, and nothing ever writes over a
slot a view can see (out-of-order inserts and trims build new arrays). Postings are
append-only arrays of series ids per label pair, so they stay sorted and intersect with
numpy.
"""

from __future__ import annotations

import re
import sys
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tenantwatch.promql.model import (
    METRIC_NAME,
    FloatArray,
    IntArray,
    Labels,
    Matcher,
    SeriesData,
)

_EMPTY_TS: IntArray = np.empty(0, dtype=np.int64)
_EMPTY_VALS: FloatArray = np.empty(0, dtype=np.float64)


class MemSeries:
    __slots__ = ("id", "labels", "n", "ts", "vals")

    def __init__(self, sid: int, labels: Labels) -> None:
        self.id = sid
        self.labels = labels
        self.ts: IntArray = _EMPTY_TS
        self.vals: FloatArray = _EMPTY_VALS
        self.n = 0

    @property
    def last_t(self) -> int:
        return int(self.ts[self.n - 1]) if self.n else -(2**62)

    def append(self, t: int, v: float) -> bool:
        """Append one sample; False when it is out of order (older than the last)."""
        n = self.n
        if n:
            last = self.ts[n - 1]
            if t <= last:
                if t == last:
                    self.vals[n - 1] = v
                    return True
                return self._insert(t, v)
        if n == len(self.ts):
            self._grow(max(8, n * 2))
        self.ts[n] = t
        self.vals[n] = v
        self.n = n + 1
        return True

    def _grow(self, capacity: int) -> None:
        ts = np.empty(capacity, dtype=np.int64)
        vals = np.empty(capacity, dtype=np.float64)
        ts[: self.n] = self.ts[: self.n]
        vals[: self.n] = self.vals[: self.n]
        self.ts, self.vals = ts, vals

    def _insert(self, t: int, v: float) -> bool:
        n = self.n
        i = int(np.searchsorted(self.ts[:n], t))
        if i < n and self.ts[i] == t:
            ts = self.ts[:n].copy()
            vals = self.vals[:n].copy()
            vals[i] = v
        else:
            ts = np.insert(self.ts[:n], i, t)
            vals = np.insert(self.vals[:n], i, v)
        self.ts, self.vals, self.n = ts, vals, len(ts)
        return True

    def merge(self, ts: IntArray, vals: FloatArray) -> None:
        """Merge a batch of samples (ascending); a later value wins on equal timestamps."""
        if len(ts) == 0:
            return
        if self.n == 0 or ts[0] > self.ts[self.n - 1]:
            need = self.n + len(ts)
            if need > len(self.ts):
                self._grow(max(8, need, self.n * 2))
            self.ts[self.n : need] = ts
            self.vals[self.n : need] = vals
            self.n = need
            return
        all_ts = np.concatenate([self.ts[: self.n], ts])
        all_vals = np.concatenate([self.vals[: self.n], vals])
        order = np.argsort(all_ts, kind="stable")
        all_ts, all_vals = all_ts[order], all_vals[order]
        keep = np.ones(len(all_ts), dtype=bool)
        keep[:-1] = all_ts[1:] != all_ts[:-1]
        self.ts, self.vals = all_ts[keep], all_vals[keep]
        self.n = len(self.ts)

    def window(self, mint: int, maxt: int) -> tuple[IntArray, FloatArray]:
        ts = self.ts[: self.n]
        lo = int(np.searchsorted(ts, mint, side="left"))
        hi = int(np.searchsorted(ts, maxt, side="right"))
        return ts[lo:hi], self.vals[lo:hi]

    def trim_before(self, cutoff: int) -> int:
        """Drop samples older than cutoff; returns how many were dropped."""
        ts = self.ts[: self.n]
        lo = int(np.searchsorted(ts, cutoff, side="left"))
        if lo == 0:
            return 0
        self.ts = ts[lo:].copy()
        self.vals = self.vals[lo : self.n].copy()
        self.n = len(self.ts)
        return lo


@dataclass(frozen=True)
class HeadStats:
    series: int
    samples: int
    bytes: int


class Head:
    """All series in memory; thread-safe for one writer and many readers."""

    def __init__(self) -> None:
        self._series: list[MemSeries | None] = []
        self._ids: dict[Labels, int] = {}
        self._postings: dict[str, dict[str, array[int]]] = {}
        self._strings: dict[str, str] = {}
        self._lock = threading.RLock()
        self.samples_appended = 0

    # -- writing -------------------------------------------------------------------
    def intern(self, labels: Labels) -> Labels:
        s = self._strings
        return tuple((s.setdefault(k, k), s.setdefault(v, v)) for k, v in labels)

    def get_or_create(self, labels: Labels) -> MemSeries:
        sid = self._ids.get(labels)
        if sid is not None:
            series = self._series[sid]
            assert series is not None
            return series
        with self._lock:
            sid = self._ids.get(labels)
            if sid is not None:
                found = self._series[sid]
                assert found is not None
                return found
            labels = self.intern(labels)
            sid = len(self._series)
            series = MemSeries(sid, labels)
            self._series.append(series)
            self._ids[labels] = sid
            for name, value in labels:
                self._postings.setdefault(name, {}).setdefault(value, array("q")).append(sid)
            return series

    def series_by_id(self, sid: int) -> MemSeries | None:
        return self._series[sid] if 0 <= sid < len(self._series) else None

    def append(self, labels: Labels, t: int, v: float) -> MemSeries:
        series = self.get_or_create(labels)
        series.append(t, v)
        self.samples_appended += 1
        return series

    # -- reading -------------------------------------------------------------------
    def _candidates(self, matchers: Sequence[Matcher]) -> Iterable[int]:
        ids: np.ndarray | None = None
        negative: list[Matcher] = []
        for m in matchers:
            if m.matches_empty():
                negative.append(m)
                continue
            values = self._postings.get(m.name)
            if not values:
                return ()
            if m.op == "=":
                hit = values.get(m.value)
                if hit is None:
                    return ()
                found = np.frombuffer(hit, dtype=np.int64).copy()
            else:
                parts = [
                    np.frombuffer(p, dtype=np.int64)
                    for v, p in list(values.items())
                    if m.matches(v)
                ]
                if not parts:
                    return ()
                found = np.unique(np.concatenate(parts))
            ids = found if ids is None else np.intersect1d(ids, found, assume_unique=True)
            if len(ids) == 0:
                return ()
        if ids is None:
            ids = np.arange(len(self._series), dtype=np.int64)
        if not negative:
            listed: list[int] = ids.tolist()
            return listed
        out = []
        for sid in ids.tolist():
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

    def select(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[SeriesData]:
        out = []
        for series in self.matching(matchers):
            ts, vals = series.window(mint, maxt)
            if len(ts):
                out.append(SeriesData(series.labels, ts, vals))
        return out

    def series(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[Labels]:
        return [s.labels for s in self.select(matchers, mint, maxt)]

    def label_names(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[str]:
        names: set[str] = set()
        for labels in self.series(matchers, mint, maxt):
            names.update(k for k, _ in labels)
        return sorted(names)

    def label_values(
        self, name: str, matchers: Sequence[Matcher], mint: int, maxt: int
    ) -> list[str]:
        values: set[str] = set()
        for labels in self.series(matchers, mint, maxt):
            for k, v in labels:
                if k == name:
                    values.add(v)
        return sorted(values)

    def all_series(self) -> list[MemSeries]:
        return [s for s in self._series if s is not None]

    # -- housekeeping ----------------------------------------------------------------
    def drop_series(self, keep: Callable[[MemSeries], bool]) -> int:
        """Remove series for which keep() is False (e.g. empty after retention)."""
        with self._lock:
            dropped = 0
            for i, s in enumerate(self._series):
                if s is not None and not keep(s):
                    self._series[i] = None
                    del self._ids[s.labels]
                    for name, value in s.labels:
                        post = self._postings[name][value]
                        ids = [x for x in post if x != i]
                        if ids:
                            self._postings[name][value] = array("q", ids)
                        else:
                            del self._postings[name][value]
                            if not self._postings[name]:
                                del self._postings[name]
                    dropped += 1
            return dropped

    def stats(self) -> HeadStats:
        series = self.all_series()
        samples = sum(s.n for s in series)
        size = sum(s.ts.nbytes + s.vals.nbytes for s in series)
        size += sum(sys.getsizeof(s.labels) for s in series)
        return HeadStats(len(series), samples, size)


NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def metric_name(labels: Labels) -> str:
    for k, v in labels:
        if k == METRIC_NAME:
            return v
    return ""
