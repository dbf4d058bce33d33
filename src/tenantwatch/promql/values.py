"""Evaluation values: instant vectors over many steps (columnar) and range vectors.

An instant vector evaluated at k steps is a `Vec`: one row per series, with a (n, k)
array of values and a (n, k) presence mask. Keeping the steps in columns makes element
functions, matching and aggregation whole-array numpy operations, for instant queries
(k = 1) and range queries alike.

Names are removed late, as in Prometheus 3 (delayed name removal): a row keeps its
`__name__` with a `drop` flag until the end of the evaluation, so label_replace and
`by (__name__)` can still see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tenantwatch.promql.model import (
    METRIC_NAME,
    FloatArray,
    IntArray,
    PackedSeries,
    PromQLError,
    drop_name,
)
from tenantwatch.types import Labels

BoolArray = npt.NDArray[np.bool_]


@dataclass(slots=True)
class Vec:
    labels: list[Labels]
    vals: FloatArray  # shape (n, k)
    present: BoolArray  # shape (n, k)
    drop: list[bool]

    @staticmethod
    def empty(k: int) -> Vec:
        return Vec([], np.empty((0, k)), np.zeros((0, k), dtype=bool), [])

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def k(self) -> int:
        return int(self.vals.shape[1])

    def take(self, rows: Sequence[int] | npt.NDArray[np.intp]) -> Vec:
        idx = np.asarray(rows, dtype=np.intp)
        return Vec(
            [self.labels[i] for i in idx.tolist()],
            self.vals[idx],
            self.present[idx],
            [self.drop[i] for i in idx.tolist()],
        )

    def compact(self) -> Vec:
        """Drop rows that are absent at every step."""
        if self.n == 0:
            return self
        keep = self.present.any(axis=1)
        if keep.all():
            return self
        return self.take(np.flatnonzero(keep))

    def with_drop(self) -> Vec:
        return Vec(self.labels, self.vals, self.present, [True] * self.n)


def effective(labels: Labels, drop: bool) -> Labels:
    return drop_name(labels) if drop else labels


@dataclass(slots=True)
class RangeSeries:
    labels: Labels
    ts: IntArray
    vals: FloatArray
    drop: bool = False


class Matrix:
    """Series' raw samples plus, per step, the window (end - range, end].

    Selectors hand over their samples packed (one pair of arrays for all series); the
    per-series view is built only for functions that need it.
    """

    __slots__ = ("_series", "ends", "packed", "range_ms")

    def __init__(
        self,
        series: list[RangeSeries] | None,
        ends: IntArray,
        range_ms: int,
        packed: PackedSeries | None = None,
    ) -> None:
        self._series = series
        self.ends = ends
        self.range_ms = range_ms
        self.packed = packed

    @property
    def series(self) -> list[RangeSeries]:
        if self._series is None:
            p = self.packed
            assert p is not None
            bounds = np.concatenate(([0], np.cumsum(p.lengths))).tolist()
            self._series = [
                RangeSeries(lbl, p.ts[a:b], p.vals[a:b])
                for lbl, a, b in zip(p.labels, bounds, bounds[1:], strict=False)
            ]
        return self._series

    def bounds(self, s: RangeSeries) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        lo = np.searchsorted(s.ts, self.ends - self.range_ms, side="right")
        hi = np.searchsorted(s.ts, self.ends, side="right")
        return lo, hi


DUPLICATE_LABELSET = "vector cannot contain metrics with the same labelset"


def merge_rows(vec: Vec, *, finalize: bool = False) -> Vec:
    """Merge rows with identical labels (after name removal when finalizing).

    Rows may share a label set only if they are never present at the same step;
    otherwise Prometheus fails the query.
    """
    labels = [
        effective(lbl, d) if finalize else lbl for lbl, d in zip(vec.labels, vec.drop, strict=True)
    ]
    first: dict[Labels, int] = {}
    dupes = False
    for i, lbl in enumerate(labels):
        if lbl in first:
            dupes = True
        else:
            first[lbl] = i
    if not dupes:
        if finalize:
            return Vec(labels, vec.vals, vec.present, [False] * vec.n)
        return vec
    order = list(first.values())
    index = {lbl: j for j, lbl in enumerate(first)}
    vals = vec.vals[order].copy()
    present = vec.present[order].copy()
    drop = [vec.drop[i] for i in order]
    for i, lbl in enumerate(labels):
        j = index[lbl]
        if first[lbl] == i:
            continue
        overlap = present[j] & vec.present[i]
        if overlap.any():
            raise PromQLError("execution", f"{DUPLICATE_LABELSET}")
        sel = vec.present[i]
        vals[j, sel] = vec.vals[i, sel]
        present[j] |= sel
        drop[j] = drop[j] or vec.drop[i]
    out_labels = list(first)
    return Vec(out_labels, vals, present, [False] * len(out_labels) if finalize else drop)


def check_unique_per_step(vec: Vec) -> None:
    """Fail like Prometheus when two rows with one label set are present at one step."""
    merge_rows(vec, finalize=True)


def name_of(labels: Labels) -> str:
    for k, v in labels:
        if k == METRIC_NAME:
            return v
    return ""
