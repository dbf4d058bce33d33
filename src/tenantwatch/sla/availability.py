"""Time-based availability from a check's up samples (`tenantwatch_check_up`: 1 or 0).

Each sample holds its state until the next one, for at most `max_gap_s` (a check that
stopped reporting, or a tenantwatch that was not running, is unknown, not down). The
accounting rules are explicit:
- a down run shorter than `min_downtime_s` counts as up (a blip below the SLA's minimum
  downtime period);
- excluded windows (maintenance, and time when the probing side itself failed) count
  neither up nor down;
- values between 0 and 1 (a degraded state, if a check reports one) count as `degraded`
  says: "up", "down", or "partial" (the value's share of the time is up).
Availability = up / (up + down); None when nothing was measured.

A tenant with several checks is down while any of them is down: `combine` takes the
lowest value of the checks that report at each instant. Everything is numpy over
(start, end, value) runs, so a month of one-minute samples costs microseconds, not a
Python loop per sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

Window = tuple[int, int]  # [start, end) in ms
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Rules:
    min_downtime_s: float = 0.0
    max_gap_s: float = 300.0
    degraded: Literal["up", "down", "partial"] = "down"


@dataclass(frozen=True)
class Availability:
    up_ms: float
    down_ms: float
    excluded_ms: float
    unknown_ms: float
    downtimes: tuple[Window, ...] = field(default=())

    @property
    def ratio(self) -> float | None:
        measured = self.up_ms + self.down_ms
        return None if measured <= 0 else self.up_ms / measured


@dataclass(frozen=True)
class Runs:
    """Ascending, non-overlapping [start, end) runs with the value held over each."""

    starts: Ints
    ends: Ints
    values: Floats

    @classmethod
    def empty(cls) -> Runs:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))

    def __len__(self) -> int:
        return len(self.starts)

    def within(self, window: Window) -> Runs:
        """These runs clipped to a window."""
        lo, hi = window
        first = int(np.searchsorted(self.ends, lo, side="right"))
        last = int(np.searchsorted(self.starts, hi, side="left"))
        starts = np.maximum(self.starts[first:last], lo)
        ends = np.minimum(self.ends[first:last], hi)
        return Runs(starts, ends, self.values[first:last])


def merge_windows(windows: Sequence[Window]) -> list[Window]:
    """Windows sorted, with overlapping or touching ones joined; empty ones dropped."""
    out: list[Window] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def runs_of(ts: Ints, values: Floats, period: Window, max_gap_ms: int) -> Runs:
    """A check's runs within the period from its ascending samples; NaN (stale) is unknown."""
    lo, hi = period
    ts = np.asarray(ts, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if not len(ts):
        return Runs.empty()
    following = np.empty_like(ts)
    following[:-1] = ts[1:]
    following[-1] = np.iinfo(np.int64).max
    until = np.minimum(ts + max_gap_ms, following)
    starts = np.maximum(ts, lo)
    ends = np.minimum(until, hi)
    keep = (ends > starts) & ~np.isnan(values)
    runs = Runs(starts[keep], ends[keep], values[keep])
    return Runs(*_joined(runs, runs.values))  # a month of minutes is a handful of runs


def combine(runs: Sequence[Runs]) -> Runs:
    """The lowest value of the checks reporting at each instant (down if any is down)."""
    present = [r for r in runs if len(r)]
    if not present:
        return Runs.empty()
    if len(present) == 1:
        return present[0]
    bounds = np.sort(np.concatenate([np.concatenate([r.starts, r.ends]) for r in present]))
    bounds = bounds[np.concatenate(([True], bounds[1:] != bounds[:-1]))]
    seg_starts, seg_ends = bounds[:-1], bounds[1:]
    lowest = np.full(len(seg_starts), np.inf)
    for r in present:
        at = np.searchsorted(r.starts, seg_starts, side="right") - 1
        safe = np.maximum(at, 0)
        covered = (at >= 0) & (r.ends[safe] > seg_starts)
        lowest = np.where(covered, np.minimum(lowest, r.values[safe]), lowest)
    keep = np.isfinite(lowest)
    return Runs(seg_starts[keep], seg_ends[keep], lowest[keep])


def _joined(runs: Runs, shares: Floats) -> tuple[Ints, Ints, Floats]:
    """Contiguous runs of equal share joined into one (so a down run is measured whole)."""
    if not len(runs):
        return runs.starts, runs.ends, shares
    new = np.ones(len(runs), dtype=bool)
    new[1:] = (runs.starts[1:] != runs.ends[:-1]) | (shares[1:] != shares[:-1])
    firsts = np.flatnonzero(new)
    lasts = np.append(firsts[1:] - 1, len(runs) - 1)
    return runs.starts[firsts], runs.ends[lasts], shares[firsts]


def _excluded_before(skip: Sequence[Window]) -> tuple[Floats, Floats]:
    """Breakpoints of E(t), the excluded time before t, for np.interp."""
    xs: list[float] = []
    ys: list[float] = []
    total = 0.0
    for start, end in skip:
        xs += [start, end]
        ys += [total, total + (end - start)]
        total += end - start
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def shares_of(values: Floats, degraded: Literal["up", "down", "partial"]) -> Floats:
    """The share of each run's time that counts as up."""
    partial = {"up": np.ones_like(values), "down": np.zeros_like(values), "partial": values}
    return np.where(values >= 1, 1.0, np.where(values <= 0, 0.0, partial[degraded]))


def of_runs(
    runs: Runs, period: Window, *, rules: Rules = Rules(), excluded: Sequence[Window] = ()
) -> Availability:
    """The period's availability from runs (one check's, or several combined)."""
    lo, hi = period
    runs = runs.within(period)
    skip = merge_windows([(max(s, lo), min(e, hi)) for s, e in excluded])
    excluded_ms = float(sum(e - s for s, e in skip))
    starts, ends, shares = _joined(runs, shares_of(runs.values, rules.degraded))
    lengths = (ends - starts).astype(np.float64)
    if skip:
        xs, ys = _excluded_before(skip)
        skipped = np.interp(ends, xs, ys) - np.interp(starts, xs, ys)
    else:
        skipped = np.zeros_like(lengths)
    counted = lengths - skipped
    shares = np.where((shares < 1) & (lengths < rules.min_downtime_s * 1000), 1.0, shares)
    down_runs = (shares < 1) & (counted > 0)
    covered = float(lengths.sum())
    unknown = (hi - lo) - covered - (excluded_ms - float(skipped.sum()))
    return Availability(
        up_ms=float((counted * shares).sum()),
        down_ms=float((counted * (1 - shares)).sum()),
        excluded_ms=excluded_ms,
        unknown_ms=max(0.0, float(unknown)),
        downtimes=tuple(
            (int(s), int(e)) for s, e in zip(starts[down_runs], ends[down_runs], strict=True)
        ),
    )


def availability(
    samples: Sequence[tuple[int, float]],
    period: Window,
    *,
    rules: Rules = Rules(),
    excluded: Sequence[Window] = (),
) -> Availability:
    """The period's availability from one check's ascending (ms, value) samples."""
    ts = np.fromiter((t for t, _ in samples), dtype=np.int64, count=len(samples))
    values = np.fromiter((v for _, v in samples), dtype=np.float64, count=len(samples))
    runs = runs_of(ts, values, period, round(rules.max_gap_s * 1000))
    return of_runs(runs, period, rules=rules, excluded=excluded)
