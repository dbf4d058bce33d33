"""1-minute and 1-hour rollups: downsampled series that long-range queries read instead of raw.

A rollup keeps only real samples: the last sample of every step-aligned bucket and, for
counters (names ending in _total, _count, _sum or _bucket), the samples on both sides of
every counter reset. Consequences, which tests/metrics/test_rollup.py checks:
- rate(), increase() and delta() over a window W at least 10 x the step stay within
  2 x step / W (relative) of the raw answer for a counter growing at a steady rate, resets
  included: every reset still counts, and the window edges move by less than one step
  (extrapolation absorbs most of that).
- Gauges get the last value of each bucket: last_over_time and instant selectors with a
  lookback longer than the step see the value at most one step old; min/max/avg/sum/count
  over rollups are NOT the raw answers, so callers must not ask for a rollup there.

When a rollup is read (choose_step): only when the caller allows it with `max_step_ms` (the
coarsest sample spacing its functions tolerate) AND the selected span is long: the 1 h
rollup for spans over 30 days, the 1 m rollup for spans over 1 day. Without max_step_ms
the answer is always raw, so promqltest semantics never change behind anyone's back.

Blocks store the rollups of their samples once merged (block_format.py), so they survive
a restart. The head's rollups are derived data: built on first use per series from its
raw samples, extended as new buckets complete, rebuilt when a series changes other than
by appending (version). Blocks and head are aligned to whole hours, so a bucket never
straddles the two.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tenantwatch.metrics.head import MemSeries
from tenantwatch.promql.model import FloatArray, IntArray, label_value, stale_mask
from tenantwatch.types import Labels, Millis

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
# (step, the span above which it is used), coarsest first
RULES: tuple[tuple[int, int], ...] = ((HOUR_MS, 30 * DAY_MS), (MINUTE_MS, DAY_MS))
COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")

_EMPTY_TS: IntArray = np.empty(0, dtype=np.int64)
_EMPTY_VALS: FloatArray = np.empty(0, dtype=np.float64)


def choose_step(mint: Millis, maxt: Millis, max_step_ms: Millis | None) -> int | None:
    """The rollup step to read for [mint, maxt], or None for raw samples."""
    if max_step_ms is None:
        return None
    for step, above in RULES:
        if max_step_ms >= step and maxt - mint > above:
            return step
    return None


def is_counter(labels: Labels) -> bool:
    return label_value(labels, "__name__").endswith(COUNTER_SUFFIXES)


def downsample(
    ts: IntArray, vals: FloatArray, step: int, *, counter: bool, prev: float | None = None
) -> tuple[IntArray, FloatArray]:
    """Keep the last sample of each step-aligned bucket (and, for counters, both samples
    of every reset). `prev` is the value of the sample just before ts[0], if any, so a
    reset across the start is not missed."""
    n = len(ts)
    if n == 0:
        return _EMPTY_TS, _EMPTY_VALS
    buckets = ts // step
    keep = np.ones(n, dtype=bool)
    keep[:-1] = buckets[1:] != buckets[:-1]
    if counter:
        live = np.flatnonzero(~stale_mask(vals))
        v = vals[live]
        drops = np.flatnonzero(v[1:] < v[:-1])
        keep[live[drops]] = True
        keep[live[drops + 1]] = True
        if prev is not None and len(live) and v[0] < prev:
            keep[live[0]] = True
    return ts[keep], vals[keep]


@dataclass(frozen=True, slots=True)
class _Rollup:
    version: int
    upto: int  # every raw sample before this bucket boundary is rolled up
    ts: IntArray
    vals: FloatArray


class RollupCache:
    """Rollups of the series queries asked for, bounded by a sample budget.

    Safe to call from several query threads: entries are immutable and swapped whole.
    """

    def __init__(self, max_samples: int = 20_000_000) -> None:
        self.max_samples = max_samples
        self._entries: dict[tuple[int, int], _Rollup] = {}
        self._size = 0
        self._lock = threading.Lock()

    def _current(self, series: MemSeries, step: int) -> _Rollup:
        key = (series.id, step)
        entry = self._entries.get(key)
        version = series.version
        if entry is None or entry.version != version:
            entry = _Rollup(version, -(2**62), _EMPTY_TS, _EMPTY_VALS)
        last = series.last_t
        upto = (last // step) * step
        if upto <= entry.upto:
            return entry
        ts, vals = series.window(entry.upto, upto - 1)
        prev = float(entry.vals[-1]) if len(entry.vals) else None
        new_ts, new_vals = downsample(ts, vals, step, counter=is_counter(series.labels), prev=prev)
        grown = _Rollup(
            version,
            upto,
            np.concatenate([entry.ts, new_ts]),
            np.concatenate([entry.vals, new_vals]),
        )
        if series.version == version:  # not changed under us: worth keeping
            self._keep(key, grown)
        return grown

    def _keep(self, key: tuple[int, int], entry: _Rollup) -> None:
        with self._lock:
            old = self._entries.get(key)
            self._size += len(entry.ts) - (len(old.ts) if old else 0)
            self._entries[key] = entry
            if self._size > self.max_samples:
                self._entries = {key: entry}
                self._size = len(entry.ts)

    def window(
        self, series: MemSeries, step: int, mint: Millis, maxt: Millis
    ) -> tuple[IntArray, FloatArray]:
        """The rollup of series at `step` for mint <= t <= maxt."""
        entry = self._current(series, step)
        lo = int(np.searchsorted(entry.ts, mint, side="left"))
        hi = int(np.searchsorted(entry.ts, maxt, side="right"))
        head_ts, head_vals = entry.ts[lo:hi], entry.vals[lo:hi]
        if maxt < entry.upto:
            return head_ts, head_vals
        start = max(mint, entry.upto)
        raw_ts, raw_vals = series.window(start, maxt)
        prev = float(entry.vals[-1]) if start == entry.upto and len(entry.vals) else None
        tail_ts, tail_vals = downsample(
            raw_ts, raw_vals, step, counter=is_counter(series.labels), prev=prev
        )
        if not len(head_ts):
            return tail_ts, tail_vals
        return np.concatenate([head_ts, tail_ts]), np.concatenate([head_vals, tail_vals])

    def prune(self, alive: Callable[[int], bool]) -> None:
        """Drop the rollups of series for which alive(series ref) is False."""
        with self._lock:
            self._entries = {k: e for k, e in self._entries.items() if alive(k[0])}
            self._size = sum(len(e.ts) for e in self._entries.values())

    def forget(self) -> None:
        with self._lock:
            self._entries = {}
            self._size = 0
