"""PromQL evaluation (Prometheus 3.x semantics) over a SeriesSource.

Every node is evaluated at all steps of the query at once (instant queries are one
step). Selectors read the source once per node; functions, operators and aggregations
work on whole arrays. The rules followed are in ../shared/REFERENCE.md section A.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import promql_parser as pp

from tenantwatch.promql.model import (
    FloatArray,
    IntArray,
    Matcher,
    MatrixResult,
    PackedSeries,
    PromQLError,
    QueryResult,
    ScalarResult,
    Series,
    SeriesSource,
    StringResult,
    VectorResult,
    VectorSample,
    stale_mask,
)
from tenantwatch.promql.parse import line_col, parse_query
from tenantwatch.promql.printer import render
from tenantwatch.promql.selectors import selector_matchers
from tenantwatch.promql.values import Matrix, RangeSeries, Vec, effective, merge_rows
from tenantwatch.types import Labels, Millis

DEFAULT_LOOKBACK_MS = 300_000
DEFAULT_SUBQUERY_STEP_MS = 60_000
MAX_POINTS = 11_000
# Prometheus' --query.max-samples is 50,000,000; a point here takes about 17 bytes while
# a query runs, so the embedded default keeps a query under about 340 MB
DEFAULT_MAX_SAMPLES = 20_000_000

Value = FloatArray | str | Vec | Matrix


def ms(delta: timedelta | None) -> int:
    if delta is None:
        return 0
    return delta // timedelta(milliseconds=1)


class Evaluator:
    """Evaluates one query's nodes at an array of step timestamps."""

    def __init__(
        self,
        source: SeriesSource,
        times: IntArray,
        *,
        start: int,
        end: int,
        lookback_ms: int,
        enforce: Sequence[Matcher],
        max_samples: int,
        subquery_step_ms: int = DEFAULT_SUBQUERY_STEP_MS,
        deadline: float | None = None,
        query: str = "",
    ) -> None:
        self.source = source
        self.deadline = deadline
        self.query = query
        self.times = times
        self.start = start
        self.end = end
        self.lookback_ms = lookback_ms
        self.enforce = list(enforce)
        self.max_samples = max_samples
        self.subquery_step_ms = subquery_step_ms
        self.samples_loaded = 0
        self.warnings: list[str] = []
        self.infos: list[str] = []
        self.current_call: Any = None
        self.rollup_ok = False

    @property
    def k(self) -> int:
        return len(self.times)

    def child(self, times: IntArray) -> Evaluator:
        ev = Evaluator(
            self.source,
            times,
            start=self.start,
            end=self.end,
            lookback_ms=self.lookback_ms,
            enforce=self.enforce,
            max_samples=self.max_samples,
            subquery_step_ms=self.subquery_step_ms,
            deadline=self.deadline,
            query=self.query,
        )
        ev.samples_loaded = self.samples_loaded
        ev.warnings = self.warnings
        ev.infos = self.infos
        return ev

    def pos(self, node: Any) -> str:
        """` (line:col)` of a node in the query text, as Prometheus suffixes annotations."""
        return f" ({position(self.query, node)})"

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def info(self, message: str) -> None:
        if message not in self.infos:
            self.infos.append(message)

    def count_samples(self, n: int) -> None:
        self.samples_loaded += n
        if self.samples_loaded > self.max_samples:
            raise PromQLError(
                "execution",
                "query processing would load too many samples into memory in query execution",
            )

    # -- dispatch ----------------------------------------------------------------------
    def eval(self, node: Any) -> Value:
        from tenantwatch.promql import aggregate, binary, functions

        if self.deadline is not None and time.monotonic() > self.deadline:
            raise PromQLError("timeout", "query timed out in expression evaluation")

        if isinstance(node, pp.NumberLiteral):
            return np.full(self.k, float(node.val))
        if isinstance(node, pp.StringLiteral):
            return str(node.val)
        if isinstance(node, pp.ParenExpr):
            return self.eval(node.expr)
        if isinstance(node, pp.UnaryExpr):
            inner = self.eval(node.expr)
            if isinstance(inner, Vec):
                return Vec(inner.labels, -inner.vals, inner.present, [True] * inner.n)
            if isinstance(inner, np.ndarray):
                return -inner
            raise PromQLError(
                "bad_data",
                "unary expression only allowed on expressions of type scalar or instant vector",
            )
        if isinstance(node, pp.VectorSelector):
            return self.vector_selector(node)
        if isinstance(node, pp.MatrixSelector):
            return self.matrix_selector(node)
        if isinstance(node, pp.SubqueryExpr):
            return self.subquery(node)
        if isinstance(node, pp.Call):
            called: Value = functions.call(self, node)
            return called
        if isinstance(node, pp.AggregateExpr):
            return aggregate.aggregate(self, node)
        if isinstance(node, pp.BinaryExpr):
            combined: Value = binary.binary(self, node)
            return combined
        raise PromQLError("bad_data", f"unsupported expression {node}")

    def eval_vector(self, node: Any) -> Vec:
        value = self.eval(node)
        if not isinstance(value, Vec):
            raise PromQLError("bad_data", "expected an instant vector")
        return value

    def eval_scalar(self, node: Any) -> FloatArray:
        value = self.eval(node)
        if not isinstance(value, np.ndarray):
            raise PromQLError("bad_data", "expected a scalar")
        return value

    def eval_matrix(self, node: Any) -> Matrix:
        value = self.eval(node)
        if not isinstance(value, Matrix):
            raise PromQLError("bad_data", "expected a range vector")
        return value

    # -- time modifiers ------------------------------------------------------------------
    def at_times(self, at: Any, offset: timedelta | None) -> IntArray:
        """The reference time per step for a selector with @ and offset."""
        if at is None:
            base = self.times
        else:
            if at.type == pp.AtModifierType.Start:
                fixed = self.start
            elif at.type == pp.AtModifierType.End:
                fixed = self.end
            else:
                fixed = round(at.at.timestamp() * 1000)
            base = np.full(self.k, fixed, dtype=np.int64)
        return base - ms(offset)

    def matchers(self, node: Any) -> list[Matcher]:
        return [*selector_matchers(node), *self.enforce]

    # -- selectors -----------------------------------------------------------------------
    def vector_selector(self, node: Any, *, with_times: bool = False) -> Vec:
        refs = self.at_times(node.at, node.offset)
        vec, _ = self.select_instant(node, refs)
        return vec

    def select_instant(self, node: Any, refs: IntArray) -> tuple[Vec, IntArray]:
        """The newest sample at or before each ref, within the lookback window.

        Returns the vector and, per row and step, the chosen sample's timestamp.
        """
        k = len(refs)
        lo_t = int(refs.min()) - self.lookback_ms + 1
        hi_t = int(refs.max())
        packed = self.select_packed(node, lo_t, hi_t)
        n = len(packed.labels)
        if n == 0:
            return Vec.empty(k), np.empty((0, k), dtype=np.int64)
        self.count_samples(n * k)  # the vector at every step, as Prometheus counts it
        ends = np.cumsum(packed.lengths)
        if k == 1:
            # every selected sample is inside the lookback window: take each series' last
            last = ends - 1
            vals = packed.vals[last]
            ts = packed.ts[last]
            labels_1 = packed.labels
            keep = ~stale_mask(vals)
            if not keep.all():
                idx = np.flatnonzero(keep)
                labels_1 = [packed.labels[i] for i in idx.tolist()]
                vals, ts = vals[idx], ts[idx]
            m = len(labels_1)
            return (
                Vec(labels_1, vals.reshape(m, 1), np.ones((m, 1), dtype=bool), [False] * m),
                ts.reshape(m, 1),
            )
        starts = ends - packed.lengths
        labels: list[Labels] = []
        rows_v: list[FloatArray] = []
        rows_p: list[Any] = []
        rows_t: list[IntArray] = []
        for i, lbl in enumerate(packed.labels):
            a, b = int(starts[i]), int(ends[i])
            sts = packed.ts[a:b]
            idx = np.searchsorted(sts, refs, side="right") - 1
            valid = idx >= 0
            idx_c = np.maximum(idx, 0) + a
            ts = packed.ts[idx_c]
            vals = packed.vals[idx_c]
            present = valid & (ts > refs - self.lookback_ms) & ~stale_mask(vals)
            if not present.any():
                continue
            labels.append(lbl)
            rows_v.append(vals)
            rows_p.append(present)
            rows_t.append(ts)
        if not labels:
            return Vec.empty(k), np.empty((0, k), dtype=np.int64)
        return (
            Vec(labels, np.vstack(rows_v), np.vstack(rows_p), [False] * len(labels)),
            np.vstack(rows_t),
        )

    def matrix_selector(self, node: Any) -> Matrix:
        vs = node.vector_selector
        range_ms = ms(node.range)
        ends = self.at_times(vs.at, vs.offset)
        return self.select_range(vs, ends, range_ms)

    def select_packed(
        self, vs: Any, mint: Millis, maxt: Millis, *, max_step_ms: Millis | None = None
    ) -> PackedSeries:
        """All matching series' samples in [mint, maxt], packed, from any source.

        max_step_ms lets a source answer from a downsampled rollup (long rate windows)."""
        matchers = self.matchers(vs)
        packed = getattr(self.source, "select_packed", None)
        if packed is not None:
            found: PackedSeries = (
                packed(matchers, mint, maxt, max_step_ms=max_step_ms)
                if max_step_ms is not None
                else packed(matchers, mint, maxt)
            )
        else:
            data = [sd for sd in self.source.select(matchers, mint, maxt) if len(sd.ts)]
            found = PackedSeries(
                [sd.labels for sd in data],
                np.fromiter((len(sd.ts) for sd in data), dtype=np.int64, count=len(data)),
                np.concatenate([sd.ts for sd in data]) if data else np.empty(0, np.int64),
                np.concatenate([sd.vals for sd in data]) if data else np.empty(0),
            )
        self.count_samples(len(found.ts))
        return found

    def select_range(self, vs: Any, ends: IntArray, range_ms: int) -> Matrix:
        lo_t = int(ends.min()) - range_ms + 1
        hi_t = int(ends.max())
        # rate/increase/delta over long windows tolerate samples a tenth of the window apart
        max_step = range_ms // 10 if self.rollup_ok else None
        packed = self.select_packed(vs, lo_t, hi_t, max_step_ms=max_step)
        stale = stale_mask(packed.vals)
        if stale.any():
            keep = ~stale
            owner = np.repeat(np.arange(len(packed.labels)), packed.lengths)
            lengths = np.bincount(owner[keep], minlength=len(packed.labels))
            live = lengths > 0
            packed = PackedSeries(
                [lbl for lbl, ok in zip(packed.labels, live.tolist(), strict=True) if ok],
                lengths[live],
                packed.ts[keep],
                packed.vals[keep],
            )
        return Matrix(None, ends, range_ms, packed)

    def subquery(self, node: Any) -> Matrix:
        range_ms = ms(node.range)
        step = ms(node.step) if node.step is not None else self.subquery_step_ms
        if step <= 0:
            raise PromQLError("bad_data", "subquery step must be positive")
        ends = self.at_times(node.at, node.offset)
        lo = int(ends.min()) - range_ms
        first = (lo // step + 1) * step
        last = int(ends.max())
        if first > last:
            return Matrix([], ends, range_ms)
        if (last - first) // step + 1 > self.max_samples:  # before allocating the steps
            raise PromQLError(
                "execution",
                "query processing would load too many samples into memory in subquery "
                f"evaluation ({(last - first) // step + 1} steps of {step} ms); use a larger "
                "subquery step or a shorter range",
            )
        sub_times = np.arange(first, last + 1, step, dtype=np.int64)
        # only the sub-steps some window needs
        need = np.zeros(len(sub_times), dtype=bool)
        for e in np.unique(ends).tolist():
            a = np.searchsorted(sub_times, e - range_ms, side="right")
            b = np.searchsorted(sub_times, e, side="right")
            need[a:b] = True
        sub_times = sub_times[need]
        if len(sub_times) == 0:
            return Matrix([], ends, range_ms)
        inner = self.child(sub_times)
        value = inner.eval(node.expr)
        self.samples_loaded = inner.samples_loaded
        if isinstance(value, np.ndarray):
            vec = Vec([()], value.reshape(1, -1), np.ones((1, len(sub_times)), dtype=bool), [False])
        elif isinstance(value, Vec):
            vec = value
        else:
            raise PromQLError("bad_data", "subquery is only allowed on instant vector")
        series = []
        for i, labels in enumerate(vec.labels):
            p = vec.present[i]
            if p.any():
                series.append(RangeSeries(labels, sub_times[p], vec.vals[i][p], vec.drop[i]))
        return Matrix(series, ends, range_ms)


class Engine:
    """Evaluates instant and range queries.

    `enforce` matchers are added to every selector of the query (tenant isolation is
    enforced here, not by rewriting the query text).
    """

    def __init__(
        self,
        source: SeriesSource,
        *,
        lookback_ms: int = DEFAULT_LOOKBACK_MS,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        subquery_step_ms: int = DEFAULT_SUBQUERY_STEP_MS,
        timeout_s: float = 120.0,
    ) -> None:
        self.source = source
        self.lookback_ms = lookback_ms
        self.max_samples = max_samples
        self.subquery_step_ms = subquery_step_ms
        self.timeout_s = timeout_s

    def _evaluator(
        self,
        times: IntArray,
        start: int,
        end: int,
        enforce: Sequence[Matcher],
        lookback: int | None,
        query: str = "",
        timeout_s: float | None = None,
    ) -> Evaluator:
        return Evaluator(
            self.source,
            times,
            query=query,
            start=start,
            end=end,
            lookback_ms=lookback if lookback else self.lookback_ms,
            enforce=enforce,
            max_samples=self.max_samples,
            subquery_step_ms=self.subquery_step_ms,
            deadline=time.monotonic() + min(self.timeout_s, timeout_s or self.timeout_s),
        )

    def instant(
        self,
        query: str,
        t: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        """Evaluate at t; stops with a timeout error once timeout_s (at most the engine's)
        has passed."""
        expr = parse_query(query)
        times = np.array([t], dtype=np.int64)
        ev = self._evaluator(times, t, t, enforce, lookback_ms, query, timeout_s)
        value = ev.eval(expr)
        result: ScalarResult | StringResult | VectorResult | MatrixResult
        if isinstance(value, np.ndarray):
            result = ScalarResult(t, float(value[0]))
        elif isinstance(value, str):
            result = StringResult(t, value)
        elif isinstance(value, Vec):
            vec = merge_rows(value, finalize=True)
            result = VectorResult(
                tuple(
                    VectorSample(vec.labels[i], t, float(vec.vals[i, 0]))
                    for i in range(vec.n)
                    if vec.present[i, 0]
                )
            )
        else:
            result = _matrix_result(value)
        return QueryResult(result, tuple(ev.warnings), tuple(ev.infos))

    def range(
        self,
        query: str,
        start: int,
        end: int,
        step: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        if step <= 0:
            raise PromQLError(
                "bad_data",
                "zero or negative query resolution step widths are not accepted. "
                "Try a positive integer",
            )
        if end < start:
            raise PromQLError("bad_data", "end timestamp must not be before start time")
        if (end - start) / step > MAX_POINTS:
            raise PromQLError(
                "bad_data",
                "exceeded maximum resolution of 11,000 points per timeseries. "
                "Try decreasing the query resolution (?step=XX)",
            )
        expr = parse_query(query)
        times = np.arange(start, end + 1, step, dtype=np.int64)
        ev = self._evaluator(times, start, end, enforce, lookback_ms, query, timeout_s)
        value = ev.eval(expr)
        tl = times.tolist()
        if isinstance(value, np.ndarray):
            series = (Series((), tuple(zip(tl, value.tolist(), strict=True))),)
            return QueryResult(MatrixResult(series), tuple(ev.warnings), tuple(ev.infos))
        if not isinstance(value, Vec):
            kind = "string" if isinstance(value, str) else "range vector"
            raise PromQLError(
                "bad_data",
                f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector',
            )
        vec = merge_rows(value, finalize=True)
        out = []
        for i in range(vec.n):
            p = vec.present[i]
            if not p.any():
                continue
            idx = np.flatnonzero(p)
            points = tuple(zip(times[idx].tolist(), vec.vals[i, idx].tolist(), strict=True))
            out.append(Series(vec.labels[i], points))
        out.sort(key=lambda s: s.labels)
        return QueryResult(MatrixResult(tuple(out)), tuple(ev.warnings), tuple(ev.infos))


def _matrix_result(m: Matrix) -> MatrixResult:
    end = int(m.ends[0])
    out = []
    seen: set[Labels] = set()
    for s in m.series:
        lo = int(np.searchsorted(s.ts, end - m.range_ms, side="right"))
        hi = int(np.searchsorted(s.ts, end, side="right"))
        if hi <= lo:
            continue
        labels = effective(s.labels, s.drop)
        if labels in seen:
            raise PromQLError("execution", "vector cannot contain metrics with the same labelset")
        seen.add(labels)
        out.append(
            Series(labels, tuple(zip(s.ts[lo:hi].tolist(), s.vals[lo:hi].tolist(), strict=True)))
        )
    return MatrixResult(tuple(out))


def is_finite(v: float) -> bool:
    return math.isfinite(v)


def position(query: str, node: Any) -> str:
    """Where a node's text starts in the query (promql-parser keeps no positions)."""
    try:
        text = render(node)
    except ValueError:
        text = ""
    at = query.find(text) if text else -1
    if at < 0 and isinstance(node, pp.VectorSelector) and node.name:
        at = query.find(node.name)
    return line_col(query, max(at, 0))
