"""PromQL function calls: dispatch, element-wise math, labels, time and histograms."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import promql_parser as pp

from tenantwatch.gotext.floats import format_g_wide
from tenantwatch.gotext.regex import GoRegex, RegexError, expand
from tenantwatch.promql import rangefn
from tenantwatch.promql.histogram import histogram_fraction, histogram_quantile
from tenantwatch.promql.model import METRIC_NAME, FloatArray, PromQLError, compile_regex
from tenantwatch.promql.values import Matrix, Vec, merge_rows
from tenantwatch.types import Labels

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _unary(f: Callable[[FloatArray], FloatArray]) -> Callable[[Any, list[Any]], Vec]:
    def call(ev: Any, args: list[Any]) -> Vec:
        v: Vec = ev.eval_vector(args[0])
        with np.errstate(all="ignore"):
            out = f(v.vals)
        return Vec(v.labels, out, v.present, [True] * v.n)

    return call


def _sgn(x: FloatArray) -> FloatArray:
    return np.where(np.isnan(x), x, np.sign(x))


MATH: dict[str, Callable[[FloatArray], FloatArray]] = {
    "abs": np.abs,
    "ceil": np.ceil,
    "floor": np.floor,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sgn": _sgn,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "deg": np.degrees,
    "rad": np.radians,
}


def _round(ev: Any, args: list[Any]) -> Vec:
    v: Vec = ev.eval_vector(args[0])
    to = ev.eval_scalar(args[1]) if len(args) > 1 else np.ones(ev.k)
    with np.errstate(all="ignore"):
        inv = 1.0 / to
        out = np.floor(v.vals * inv + 0.5) / inv
    return Vec(v.labels, out, v.present, [True] * v.n)


def _clamp(ev: Any, args: list[Any]) -> Vec:
    v: Vec = ev.eval_vector(args[0])
    lo = ev.eval_scalar(args[1])
    hi = ev.eval_scalar(args[2])
    out = np.maximum(lo, np.minimum(hi, v.vals))
    keep = ~(lo > hi)
    return Vec(v.labels, out, v.present & keep, [True] * v.n).compact()


def _clamp_min(ev: Any, args: list[Any]) -> Vec:
    v: Vec = ev.eval_vector(args[0])
    lo = ev.eval_scalar(args[1])
    return Vec(v.labels, np.maximum(lo, v.vals), v.present, [True] * v.n)


def _clamp_max(ev: Any, args: list[Any]) -> Vec:
    v: Vec = ev.eval_vector(args[0])
    hi = ev.eval_scalar(args[1])
    return Vec(v.labels, np.minimum(hi, v.vals), v.present, [True] * v.n)


def _time(ev: Any, args: list[Any]) -> FloatArray:
    return np.asarray(ev.times / 1000.0, dtype=np.float64)


def _pi(ev: Any, args: list[Any]) -> FloatArray:
    return np.full(ev.k, math.pi)


def _vector(ev: Any, args: list[Any]) -> Vec:
    s = ev.eval_scalar(args[0])
    return Vec([()], s.reshape(1, -1).copy(), np.ones((1, ev.k), dtype=bool), [False])


def _scalar(ev: Any, args: list[Any]) -> FloatArray:
    v: Vec = ev.eval_vector(args[0])
    counts = v.present.sum(axis=0)
    out = np.full(ev.k, math.nan)
    one = counts == 1
    if one.any():
        idx = np.argmax(v.present, axis=0)
        vals = v.vals[idx, np.arange(ev.k)]
        out = np.where(one, vals, math.nan)
    return out


def _unwrap(node: Any) -> Any:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def _timestamp(ev: Any, args: list[Any]) -> Vec:
    node = _unwrap(args[0])
    if isinstance(node, pp.VectorSelector):
        refs = ev.at_times(node.at, node.offset)
        v, ts = ev.select_instant(node, refs)
        return Vec(v.labels, ts / 1000.0, v.present, [True] * v.n)
    v = ev.eval_vector(args[0])
    times = np.broadcast_to(ev.times / 1000.0, v.vals.shape).copy()
    return Vec(v.labels, times, v.present, [True] * v.n)


def _date(part: Callable[[datetime], float]) -> Callable[[Any, list[Any]], Vec]:
    def call(ev: Any, args: list[Any]) -> Vec:
        if args:
            v: Vec = ev.eval_vector(args[0])
        else:
            v = Vec(
                [()], (ev.times / 1000.0).reshape(1, -1), np.ones((1, ev.k), dtype=bool), [False]
            )
        out = np.zeros_like(v.vals)
        flat_v = v.vals.ravel()
        flat_p = v.present.ravel()
        res = out.ravel()
        for i, x in enumerate(flat_v.tolist()):
            if not flat_p[i]:
                continue
            if not math.isfinite(x):
                res[i] = math.nan
                continue
            res[i] = part(datetime.fromtimestamp(math.floor(x), tz=UTC))
        return Vec(v.labels, res.reshape(v.vals.shape), v.present, [True] * v.n)

    return call


def _days_in_month(d: datetime) -> float:
    nxt = datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=UTC)
    return float((nxt - datetime(d.year, d.month, 1, tzinfo=UTC)).days)


DATES: dict[str, Callable[[datetime], float]] = {
    "day_of_month": lambda d: float(d.day),
    "day_of_week": lambda d: float((d.weekday() + 1) % 7),
    "day_of_year": lambda d: float(d.timetuple().tm_yday),
    "days_in_month": _days_in_month,
    "hour": lambda d: float(d.hour),
    "minute": lambda d: float(d.minute),
    "month": lambda d: float(d.month),
    "year": lambda d: float(d.year),
}


def _sort(descending: bool) -> Callable[[Any, list[Any]], Vec]:
    def call(ev: Any, args: list[Any]) -> Vec:
        node = ev.current_call
        v: Vec = ev.eval_vector(args[0])
        if ev.k != 1:
            ev.warn(
                "PromQL warning: sort is ineffective for range queries since results are "
                f"always ordered by labels{ev.pos(node)}"
            )
            return v
        if v.n == 0:
            return v
        vals = v.vals[:, 0]
        nan = np.isnan(vals)
        key = -vals if descending else vals
        order = np.lexsort((key, nan))
        return v.take(order)

    return call


def _compile(regex: str, fn: str) -> GoRegex:
    try:
        return compile_regex(regex)
    except RegexError as exc:
        raise PromQLError("bad_data", f"invalid regular expression in {fn}(): {regex}") from exc


def _string_arg(ev: Any, node: Any) -> str:
    value = ev.eval(node)
    if not isinstance(value, str):
        raise PromQLError("bad_data", "expected a string argument")
    return value


def _set_label(labels: Labels, name: str, value: str) -> Labels:
    d = dict(labels)
    if value:
        d[name] = value
    else:
        d.pop(name, None)
    return tuple(sorted(d.items()))


def _label_replace(ev: Any, args: list[Any]) -> Vec:
    v: Vec = ev.eval_vector(args[0])
    dst = _string_arg(ev, args[1])
    repl = _string_arg(ev, args[2])
    src = _string_arg(ev, args[3])
    regex = _compile(_string_arg(ev, args[4]), "label_replace")
    if not LABEL_NAME.match(dst):
        raise PromQLError("bad_data", f'invalid destination label name in label_replace(): "{dst}"')
    labels, drop = [], []
    for lbl, d in zip(v.labels, v.drop, strict=True):
        value = dict(lbl).get(src, "")
        m = regex.fullmatch(value)
        if m is None:
            labels.append(lbl)
            drop.append(d)
            continue
        labels.append(_set_label(lbl, dst, expand(repl, m)))
        drop.append(False if dst == METRIC_NAME else d)
    return merge_rows(Vec(labels, v.vals, v.present, drop))


def _label_join(ev: Any, args: list[Any]) -> Vec:
    v: Vec = ev.eval_vector(args[0])
    dst = _string_arg(ev, args[1])
    sep = _string_arg(ev, args[2])
    srcs = [_string_arg(ev, a) for a in args[3:]]
    if not LABEL_NAME.match(dst):
        raise PromQLError("bad_data", f'invalid destination label name in label_join(): "{dst}"')
    for s in srcs:
        if not LABEL_NAME.match(s):
            raise PromQLError("bad_data", f'invalid source label name in label_join(): "{s}"')
    labels, drop = [], []
    for lbl, d in zip(v.labels, v.drop, strict=True):
        values = dict(lbl)
        joined = sep.join(values.get(s, "") for s in srcs)
        labels.append(_set_label(lbl, dst, joined))
        drop.append(False if dst == METRIC_NAME else d)
    return merge_rows(Vec(labels, v.vals, v.present, drop))


def _absent_labels(node: Any) -> Labels:
    node = _unwrap(node)
    if isinstance(node, pp.MatrixSelector):
        node = node.vector_selector
    if not isinstance(node, pp.VectorSelector):
        return ()
    found: dict[str, str] = {}
    seen: set[str] = set()
    dup: set[str] = set()
    for m in node.matchers.matchers:
        if m.name == METRIC_NAME:
            continue
        if m.name in seen:
            dup.add(m.name)
        seen.add(m.name)
        if str(m.op).endswith("Equal") and not str(m.op).endswith("NotEqual"):
            found[m.name] = m.value
    return tuple(sorted((k, v) for k, v in found.items() if k not in dup and v))


def _absent(ev: Any, args: list[Any]) -> Vec:
    v: Vec = ev.eval_vector(args[0])
    missing = ~v.present.any(axis=0) if v.n else np.ones(ev.k, dtype=bool)
    if not missing.any():
        return Vec.empty(ev.k)
    return Vec([_absent_labels(args[0])], np.ones((1, ev.k)), missing.reshape(1, -1), [False])


def _absent_over_time(ev: Any, args: list[Any]) -> Vec:
    m: Matrix = ev.eval_matrix(args[0])
    ones, missing = rangefn.absent_over_time(m)
    if not missing.any():
        return Vec.empty(ev.k)
    return Vec([_absent_labels(args[0])], ones.reshape(1, -1), missing.reshape(1, -1), [False])


def _range(name: str) -> Callable[[Any, list[Any]], Vec]:
    def call(ev: Any, args: list[Any]) -> Vec:
        ev.rollup_ok = name in ("rate", "increase", "delta") and isinstance(
            args[0], pp.MatrixSelector
        )
        try:
            m: Matrix = ev.eval_matrix(args[0])
        finally:
            ev.rollup_ok = False
        if name == "rate":
            return rangefn.extrapolated_rate(m, is_counter=True, is_rate=True)
        if name == "increase":
            return rangefn.extrapolated_rate(m, is_counter=True, is_rate=False)
        if name == "delta":
            return rangefn.extrapolated_rate(m, is_counter=False, is_rate=False)
        if name == "irate":
            return rangefn.instant_delta(m, is_rate=True)
        if name == "idelta":
            return rangefn.instant_delta(m, is_rate=False)
        if name == "deriv":
            return rangefn.deriv(m)
        if name == "resets":
            return rangefn.resets(m)
        if name == "changes":
            return rangefn.changes(m)
        return rangefn.over_time(name, m)

    return call


def _predict_linear(ev: Any, args: list[Any]) -> Vec:
    m: Matrix = ev.eval_matrix(args[0])
    duration = ev.eval_scalar(args[1])
    return rangefn.predict_linear(m, duration, ev.times)


def _quantile_over_time(ev: Any, args: list[Any]) -> Vec:
    q = ev.eval_scalar(args[0])
    m: Matrix = ev.eval_matrix(args[1])
    bad = q[(q < 0) | (q > 1) | np.isnan(q)]
    if len(bad):
        ev.warn(
            "PromQL warning: quantile value should be between 0 and 1, "
            f"got {format_g_wide(float(bad[0]))}{ev.pos(args[0])}"
        )
    return rangefn.quantile_over_time(m, q)


def _histogram_quantile(ev: Any, args: list[Any]) -> Vec:
    q = ev.eval_scalar(args[0])
    v: Vec = ev.eval_vector(args[1])
    return histogram_quantile(ev, q, v, args[0], args[1])


def _histogram_fraction(ev: Any, args: list[Any]) -> Vec:
    lower = ev.eval_scalar(args[0])
    upper = ev.eval_scalar(args[1])
    v: Vec = ev.eval_vector(args[2])
    return histogram_fraction(ev, lower, upper, v, args[2])


def _query_time(part: str) -> Callable[[Any, list[Any]], FloatArray]:
    def call(ev: Any, args: list[Any]) -> FloatArray:
        step = int(ev.times[1] - ev.times[0]) if len(ev.times) > 1 else 0
        value = {
            "start": ev.start / 1000.0,
            "end": ev.end / 1000.0,
            "range": (ev.end - ev.start) / 1000.0,
            "step": step / 1000.0,
        }[part]
        return np.full(ev.k, value)

    return call


def _scalar_fold(
    fold: Callable[[FloatArray, FloatArray], FloatArray],
) -> Callable[[Any, list[Any]], FloatArray]:
    def call(ev: Any, args: list[Any]) -> FloatArray:
        out: FloatArray = ev.eval_scalar(args[0])
        for a in args[1:]:
            out = fold(out, ev.eval_scalar(a))
        return out

    return call


def _histogram_quantiles(ev: Any, args: list[Any]) -> Vec:
    v: Vec = ev.eval_vector(args[0])
    label = _string_arg(ev, args[1])
    if not LABEL_NAME.match(label):
        raise PromQLError("bad_data", f"invalid label name {label!r}")
    parts: list[Vec] = []
    for node in args[2:]:
        q = ev.eval_scalar(node)
        out = histogram_quantile(ev, q, v, node, args[0])
        value = _label_float(float(q[0]))
        labels = [_set_label(lbl, label, value) for lbl in out.labels]
        parts.append(Vec(labels, out.vals, out.present, out.drop))
    parts = [p for p in parts if p.n]
    if not parts:
        return Vec.empty(ev.k)
    return merge_rows(
        Vec(
            [lbl for p in parts for lbl in p.labels],
            np.vstack([p.vals for p in parts]),
            np.vstack([p.present for p in parts]),
            [d for p in parts for d in p.drop],
        )
    )


def _label_float(x: float) -> str:
    """Prometheus' label formatting of a float: 1 -> "1.0", 0.25 -> "0.25"."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    text = repr(x)
    if "e" not in text and "." not in text:
        text += ".0"
    return text


def _native_only(ev: Any, args: list[Any]) -> Vec:
    """histogram_count/sum/avg/stddev/stdvar apply to native histograms only."""
    ev.eval_vector(args[0])
    return Vec.empty(ev.k)


FUNCTIONS: dict[str, Callable[[Any, list[Any]], Any]] = {
    **{name: _unary(f) for name, f in MATH.items()},
    **{name: _date(f) for name, f in DATES.items()},
    **{name: _range(name) for name in rangefn.OVER_TIME},
    **{
        name: _range(name)
        for name in ("rate", "increase", "delta", "irate", "idelta", "deriv", "resets", "changes")
    },
    "round": _round,
    "clamp": _clamp,
    "clamp_min": _clamp_min,
    "clamp_max": _clamp_max,
    "time": _time,
    "pi": _pi,
    "vector": _vector,
    "scalar": _scalar,
    "timestamp": _timestamp,
    "sort": _sort(False),
    "sort_desc": _sort(True),
    "label_replace": _label_replace,
    "label_join": _label_join,
    "absent": _absent,
    "absent_over_time": _absent_over_time,
    "predict_linear": _predict_linear,
    "quantile_over_time": _quantile_over_time,
    "histogram_quantile": _histogram_quantile,
    "histogram_fraction": _histogram_fraction,
    "histogram_quantiles": _histogram_quantiles,
    "start": _query_time("start"),
    "end": _query_time("end"),
    "range": _query_time("range"),
    "step": _query_time("step"),
    "min_of": _scalar_fold(np.minimum),
    "max_of": _scalar_fold(np.maximum),
    "histogram_count": _native_only,
    "histogram_sum": _native_only,
    "histogram_avg": _native_only,
    "histogram_stddev": _native_only,
    "histogram_stdvar": _native_only,
}


def call(ev: Any, node: Any) -> Any:
    name = node.func.name
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise PromQLError("bad_data", f"function {name!r} is not supported by tenantwatch")
    ev.current_call = node
    return fn(ev, [a for a in node.args if a is not None])
