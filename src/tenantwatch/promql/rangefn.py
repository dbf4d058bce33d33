"""Functions over range vectors: rate and friends, *_over_time, deriv, changes ..."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tenantwatch.promql.model import FloatArray, IntArray
from tenantwatch.promql.values import Matrix, RangeSeries, Vec
from tenantwatch.types import Labels

WindowFn = Callable[[IntArray, FloatArray, int], float | None]
"""(timestamps, values, step index) -> value or None for no output."""


def per_window(m: Matrix, fn: WindowFn, *, keep_name: bool = False, min_samples: int = 1) -> Vec:
    k = len(m.ends)
    labels, rows_v, rows_p, drop = [], [], [], []
    for s in m.series:
        lo, hi = m.bounds(s)
        vals = np.zeros(k)
        present = np.zeros(k, dtype=bool)
        for j in range(k):
            a, b = int(lo[j]), int(hi[j])
            if b - a < min_samples:
                continue
            v = fn(s.ts[a:b], s.vals[a:b], j)
            if v is not None:
                vals[j] = v
                present[j] = True
        if present.any():
            labels.append(s.labels)
            rows_v.append(vals)
            rows_p.append(present)
            drop.append(s.drop or not keep_name)
    if not labels:
        return Vec.empty(k)
    return Vec(labels, np.vstack(rows_v), np.vstack(rows_p), drop)


def _packed_rate(m: Matrix, *, is_counter: bool, is_rate: bool) -> Vec:
    """extrapolatedRate for one step, over all series at once (concatenated arrays)."""
    end = int(m.ends[0])
    start = end - m.range_ms
    p = m.packed
    if p is not None:
        # a one-step selection holds exactly the window's samples
        enough = p.lengths >= 2
        if not enough.any():
            return Vec.empty(1)
        kept_labels = p.labels
        lengths = p.lengths
        ts_all = p.ts.astype(np.float64)
        v = p.vals
        if not enough.all():
            owner = np.repeat(enough, p.lengths)
            kept_labels = [lbl for lbl, ok in zip(p.labels, enough.tolist(), strict=True) if ok]
            lengths = p.lengths[enough]
            ts_all, v = ts_all[owner], v[owner]
        return _rate_core(
            kept_labels, lengths, ts_all, v, start, end, m.range_ms, is_counter, is_rate
        )
    kept: list[RangeSeries] = []
    parts_t: list[IntArray] = []
    parts_v: list[FloatArray] = []
    for s in m.series:
        ts = s.ts
        if len(ts) and (ts[0] <= start or ts[-1] > end):
            lo = int(np.searchsorted(ts, start, side="right"))
            hi = int(np.searchsorted(ts, end, side="right"))
            ts, vals = ts[lo:hi], s.vals[lo:hi]
        else:
            vals = s.vals
        if len(ts) < 2:
            continue
        kept.append(s)
        parts_t.append(ts)
        parts_v.append(vals)
    if not kept:
        return Vec.empty(1)
    lengths = np.fromiter((len(t) for t in parts_t), dtype=np.int64, count=len(parts_t))
    return _rate_core(
        [s.labels for s in kept],
        lengths,
        np.concatenate(parts_t).astype(np.float64),
        np.concatenate(parts_v),
        start,
        end,
        m.range_ms,
        is_counter,
        is_rate,
    )


def _rate_core(
    labels: list[Labels],
    lengths: IntArray,
    ts_all: FloatArray,
    v: FloatArray,
    start: int,
    end: int,
    range_ms: int,
    is_counter: bool,
    is_rate: bool,
) -> Vec:
    last = np.cumsum(lengths) - 1
    first = last - lengths + 1
    if is_counter:
        prev = v[:-1]
        add = np.where(v[1:] < prev, prev, 0.0)
        add[first[1:] - 1] = 0.0  # no correction across series boundaries
        corr = np.concatenate(([0.0], np.cumsum(add)))
        result = (v[last] - v[first]) + (corr[last] - corr[first])
    else:
        result = v[last] - v[first]
    t_first, t_last = ts_all[first], ts_all[last]
    with np.errstate(divide="ignore", invalid="ignore"):
        to_start = (t_first - start) / 1000.0
        to_end = (end - t_last) / 1000.0
        sampled = (t_last - t_first) / 1000.0
        avg = sampled / (lengths - 1)
        threshold = avg * 1.1
        to_start = np.where(to_start >= threshold, avg / 2, to_start)
        if is_counter:
            first_v = v[first]
            zero = sampled * (first_v / result)
            clamp = (result > 0) & (first_v >= 0) & (zero < to_start)
            to_start = np.where(clamp, zero, to_start)
        to_end = np.where(to_end >= threshold, avg / 2, to_end)
        factor = (sampled + to_start + to_end) / sampled
        if is_rate:
            factor = factor / (range_ms / 1000.0)
        out = result * factor
    n = len(labels)
    return Vec(list(labels), out.reshape(n, 1), np.ones((n, 1), dtype=bool), [True] * n)


def extrapolated_rate(m: Matrix, *, is_counter: bool, is_rate: bool) -> Vec:
    """rate / increase / delta (Prometheus' extrapolatedRate, float samples)."""
    k = len(m.ends)
    if k == 1:
        return _packed_rate(m, is_counter=is_counter, is_rate=is_rate)
    range_s = m.range_ms / 1000.0
    starts = (m.ends - m.range_ms).astype(np.float64)
    ends = m.ends.astype(np.float64)
    labels, rows_v, rows_p, drop = [], [], [], []
    for s in m.series:
        lo, hi = m.bounds(s)
        n = hi - lo
        ok = n >= 2
        if not ok.any():
            continue
        first = np.where(ok, lo, 0)
        last = np.where(ok, hi - 1, 0)
        v = s.vals
        if is_counter and len(v) > 1:
            prev = v[:-1]
            add = np.where(v[1:] < prev, prev, 0.0)
            corr = np.concatenate(([0.0], np.cumsum(add)))
            result = (v[last] - v[first]) + (corr[last] - corr[first])
        else:
            result = v[last] - v[first]
        t_first = s.ts[first].astype(np.float64)
        t_last = s.ts[last].astype(np.float64)
        to_start = (t_first - starts) / 1000.0
        to_end = (ends - t_last) / 1000.0
        sampled = (t_last - t_first) / 1000.0
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = sampled / np.maximum(n - 1, 1)
            threshold = avg * 1.1
            to_start = np.where(to_start >= threshold, avg / 2, to_start)
            if is_counter:
                first_v = v[first]
                zero = sampled * (first_v / result)
                clamp = (result > 0) & (first_v >= 0) & (zero < to_start)
                to_start = np.where(clamp, zero, to_start)
            to_end = np.where(to_end >= threshold, avg / 2, to_end)
            factor = (sampled + to_start + to_end) / sampled
            if is_rate:
                factor = factor / range_s
            out = result * factor
        labels.append(s.labels)
        rows_v.append(np.where(ok, out, 0.0))
        rows_p.append(ok)
        drop.append(True)
    if not labels:
        return Vec.empty(k)
    return Vec(labels, np.vstack(rows_v), np.vstack(rows_p), drop)


def instant_delta(m: Matrix, *, is_rate: bool) -> Vec:
    def fn(ts: IntArray, vals: FloatArray, _j: int) -> float | None:
        last, prev = float(vals[-1]), float(vals[-2])
        if is_rate:
            result = last if last < prev else last - prev
            dt = (int(ts[-1]) - int(ts[-2])) / 1000.0
            if dt == 0:
                return None
            return result / dt
        return last - prev

    return per_window(m, fn, min_samples=2)


def kahan_inc(inc: float, total: float, c: float) -> tuple[float, float]:
    """Prometheus' kahanSumInc (Neumaier's variant), so sums round as Prometheus' do."""
    t = total + inc
    if math.isinf(t):
        c = 0.0
    elif abs(total) >= abs(inc):
        c += (total - t) + inc
    else:
        c += (inc - t) + total
    return t, c


# Windows at least this long (a [30d] range of 15 s samples holds 172,800) are summed
# with math.fsum, exactly rounded, in C: Prometheus' Kahan-Neumaier sum agrees with it
# to the last bit or two, and the sample-by-sample loop costs a microsecond per sample.
# Shorter windows (and the PromQL test files) keep the loop, bit for bit as Prometheus.
LONG_WINDOW = 4096


def _exact_sum(vals: FloatArray) -> float | None:
    """The exactly rounded sum of a long window of finite values, else None."""
    if len(vals) < LONG_WINDOW or not bool(np.isfinite(vals).all()):
        return None
    try:
        total = math.fsum(vals.tolist())
    except OverflowError:
        return None
    return total if math.isfinite(total) else None


def _fsum(vals: FloatArray) -> float:
    exact = _exact_sum(vals)
    if exact is not None:
        return exact
    total = c = 0.0
    for f in vals.tolist():
        total, c = kahan_inc(f, total, c)
    return total + c


def _mean(vals: FloatArray) -> float:
    exact = _exact_sum(vals)
    if exact is not None:
        return exact / len(vals)
    total = mean = c = 0.0
    incremental = False
    count = 0.0
    for i, f in enumerate(vals.tolist()):
        count = float(i + 1)
        if not incremental:
            new_total, new_c = kahan_inc(f, total, c)
            if count == 1 or not math.isinf(new_total):
                total, c = new_total, new_c
                continue
            incremental = True
            mean = total / (count - 1)
            c /= count - 1
        if math.isinf(mean):
            if math.isinf(f) and (mean > 0) == (f > 0):
                continue
            if not math.isinf(f) and not math.isnan(f):
                continue
        q = (count - 1) / count
        mean, c = kahan_inc(f / count, q * mean, q * c)
    if incremental:
        return mean + c
    return total / count + c / count


def _variance(vals: FloatArray) -> float:
    """Welford's algorithm with Kahan-compensated mean, as Prometheus computes it."""
    count = 0.0
    mean = c_mean = 0.0
    aux = c_aux = 0.0
    for f in vals.tolist():
        count += 1
        delta = f - (mean + c_mean)
        mean, c_mean = kahan_inc(delta / count, mean, c_mean)
        aux, c_aux = kahan_inc(delta * (f - (mean + c_mean)), aux, c_aux)
    return (aux + c_aux) / count


def _max(vals: FloatArray) -> float:
    if len(vals) >= LONG_WINDOW and bool(np.isfinite(vals).all()) and bool((vals != 0).all()):
        return float(vals.max())
    out = float(vals[0])
    for f in vals.tolist():
        if f > out or out != out:
            out = f
    return out


def _min(vals: FloatArray) -> float:
    if len(vals) >= LONG_WINDOW and bool(np.isfinite(vals).all()) and bool((vals != 0).all()):
        return float(vals.min())
    out = float(vals[0])
    for f in vals.tolist():
        if f < out or out != out:
            out = f
    return out


def quantile(q: float, values: list[float]) -> float:
    """Prometheus' quantile over a list of floats (linear interpolation)."""
    if math.isnan(q) or not values:
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(values, key=lambda x: (not math.isnan(x), x))
    n = len(ordered)
    rank = q * (n - 1)
    lower = max(0, math.floor(rank))
    upper = min(n - 1, lower + 1)
    weight = rank - math.floor(rank)
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


def linear_regression(ts: IntArray, vals: FloatArray, intercept_t: int) -> tuple[float, float]:
    first = float(vals[0])
    if bool(np.all(vals == first)) and not math.isnan(first):
        if math.isinf(first):
            return math.nan, math.nan
        return 0.0, first
    x = (ts - intercept_t).astype(np.float64) / 1000.0
    n = float(len(vals))
    sum_x = math.fsum(x.tolist())
    sum_y = _fsum(vals)
    with np.errstate(invalid="ignore", over="ignore"):
        sum_xy = _fsum(x * vals)
    sum_x2 = math.fsum((x * x).tolist())
    cov = sum_xy - sum_x * sum_y / n
    var = sum_x2 - sum_x * sum_x / n
    slope = cov / var if var != 0 else (math.nan if cov == 0 else math.copysign(math.inf, cov))
    intercept = sum_y / n - slope * sum_x / n
    return slope, intercept


def deriv(m: Matrix) -> Vec:
    def fn(ts: IntArray, vals: FloatArray, _j: int) -> float:
        slope, _ = linear_regression(ts, vals, int(ts[0]))
        return slope

    return per_window(m, fn, min_samples=2)


def predict_linear(m: Matrix, duration: FloatArray, eval_times: IntArray) -> Vec:
    """Predicted value `duration` seconds after each step's evaluation time."""

    def fn(ts: IntArray, vals: FloatArray, j: int) -> float:
        slope, intercept = linear_regression(ts, vals, int(eval_times[j]))
        return slope * float(duration[j]) + intercept

    return per_window(m, fn, min_samples=2)


def resets(m: Matrix) -> Vec:
    def fn(_ts: IntArray, vals: FloatArray, _j: int) -> float:
        return float(np.count_nonzero(vals[1:] < vals[:-1]))

    return per_window(m, fn)


def changes(m: Matrix) -> Vec:
    def fn(_ts: IntArray, vals: FloatArray, _j: int) -> float:
        a, b = vals[1:], vals[:-1]
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        return float(np.count_nonzero(~same))

    return per_window(m, fn)


OVER_TIME: dict[str, tuple[Callable[[FloatArray], float], bool]] = {
    "sum_over_time": (_fsum, False),
    "avg_over_time": (_mean, False),
    "min_over_time": (_min, False),
    "max_over_time": (_max, False),
    "count_over_time": (lambda v: float(len(v)), False),
    "last_over_time": (lambda v: float(v[-1]), True),
    "first_over_time": (lambda v: float(v[0]), True),
    "present_over_time": (lambda v: 1.0, False),
    "stddev_over_time": (lambda v: math.sqrt(_variance(v)), False),
    "stdvar_over_time": (_variance, False),
}


def over_time(name: str, m: Matrix) -> Vec:
    agg, keep = OVER_TIME[name]

    def fn(_ts: IntArray, vals: FloatArray, _j: int) -> float:
        return agg(vals)

    return per_window(m, fn, keep_name=keep)


def quantile_over_time(m: Matrix, q: FloatArray) -> Vec:
    def fn(_ts: IntArray, vals: FloatArray, j: int) -> float:
        return quantile(float(q[j]), vals.tolist())

    return per_window(m, fn)


def absent_over_time(m: Matrix) -> tuple[FloatArray, np.ndarray]:
    """Per step: True where no series has a sample in the window."""
    k = len(m.ends)
    any_present = np.zeros(k, dtype=bool)
    for s in m.series:
        lo, hi = m.bounds(s)
        any_present |= hi > lo
    return np.ones(k), ~any_present


def rows_of(series: list[RangeSeries]) -> int:
    return len(series)
