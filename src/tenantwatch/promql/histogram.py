"""histogram_quantile and histogram_fraction on classic (le-bucket) histograms."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tenantwatch.gotext.floats import format_g_wide
from tenantwatch.promql.model import METRIC_NAME, FloatArray
from tenantwatch.promql.values import Vec, name_of
from tenantwatch.types import Labels

SMALL_DELTA = 1e-12
MONOTONIC_INFO = (
    "PromQL info: input to histogram_quantile needed to be fixed for monotonicity "
    "(see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) "
    'for metric name "{}"'
)
BAD_LE = 'PromQL warning: bucket label "le" is missing or has a malformed value of "{}" for metric name "{}"'


def _parse_le(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        t = text.strip().lower()
        if t in ("+inf", "inf"):
            return math.inf
        if t == "-inf":
            return -math.inf
        return None


def _groups(ev: Any, v: Vec, where: str) -> dict[Labels, list[tuple[int, float]]]:
    groups: dict[Labels, list[tuple[int, float]]] = {}
    for i, labels in enumerate(v.labels):
        le_text = None
        rest = []
        for k, val in labels:
            if k == "le":
                le_text = val
            else:
                rest.append((k, val))
        le = _parse_le(le_text) if le_text is not None else None
        if le is None:
            ev.warn(BAD_LE.format(le_text or "", name_of(labels)) + where)
            continue
        groups.setdefault(tuple(rest), []).append((i, le))
    return groups


def _coalesce(buckets: list[tuple[float, float]]) -> list[list[float]]:
    buckets.sort(key=lambda b: b[0])
    out: list[list[float]] = []
    for ub, c in buckets:
        if out and out[-1][0] == ub:
            out[-1][1] += c
        else:
            out.append([ub, c])
    return out


def _monotonic(buckets: list[list[float]]) -> bool:
    forced = False
    prev = buckets[0][1]
    for b in buckets[1:]:
        curr = b[1]
        if curr == prev:
            continue
        if abs(curr - prev) <= SMALL_DELTA * max(abs(curr), abs(prev)):
            b[1] = prev
            continue
        if curr < prev:
            b[1] = prev
            forced = True
            continue
        prev = curr
    return forced


def bucket_quantile(q: float, raw: list[tuple[float, float]]) -> tuple[float, bool]:
    if math.isnan(q):
        return math.nan, False
    if q < 0:
        return -math.inf, False
    if q > 1:
        return math.inf, False
    if not raw:
        return math.nan, False
    buckets = _coalesce(list(raw))
    if not math.isinf(buckets[-1][0]) or buckets[-1][0] < 0:
        return math.nan, False
    forced = _monotonic(buckets)
    if len(buckets) < 2:
        return math.nan, forced
    total = buckets[-1][1]
    if total == 0 or math.isnan(total):
        return math.nan, forced
    rank = q * total
    b = len(buckets) - 1
    for i in range(len(buckets) - 1):
        if buckets[i][1] >= rank:
            b = i
            break
    if b == len(buckets) - 1:
        return buckets[-2][0], forced
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0], forced
    start = 0.0
    end = buckets[b][0]
    count = buckets[b][1]
    if b > 0:
        start = buckets[b - 1][0]
        count -= buckets[b - 1][1]
        rank -= buckets[b - 1][1]
    return start + (end - start) * (rank / count), forced


def bucket_fraction(lower: float, upper: float, raw: list[tuple[float, float]]) -> float:
    if not raw:
        return math.nan
    buckets = _coalesce(list(raw))
    if not math.isinf(buckets[-1][0]) or buckets[-1][0] < 0:
        return math.nan
    _monotonic(buckets)
    count = buckets[-1][1]
    if count == 0 or math.isnan(lower) or math.isnan(upper):
        return math.nan
    if lower >= upper:
        return 0.0
    rank = 0.0
    lower_rank = upper_rank = 0.0
    lower_set = upper_set = False
    for i, (ub, c) in enumerate(buckets):
        lb = -math.inf if i == 0 else buckets[i - 1][0]
        if i == 0 and ub > 0:
            lb = 0.0

        def interpolate(
            x: float, lb: float = lb, ub: float = ub, c: float = c, rank: float = rank
        ) -> float:
            if math.isinf(lb) or math.isinf(ub):
                return rank if math.isinf(ub) else c
            return rank + (c - rank) * (x - lb) / (ub - lb)

        if not lower_set and lb >= lower:
            lower_rank, lower_set = rank, True
        if not upper_set and lb >= upper:
            upper_rank, upper_set = rank, True
        if lower_set and upper_set:
            break
        if not lower_set and lb < lower < ub:
            lower_rank, lower_set = interpolate(lower), True
        if not upper_set and lb < upper < ub:
            upper_rank, upper_set = interpolate(upper), True
        if lower_set and upper_set:
            break
        rank = c
    if not lower_set or lower_rank > count:
        lower_rank = count
    if not upper_set or upper_rank > count:
        upper_rank = count
    return (upper_rank - lower_rank) / count


def _per_group(ev: Any, v: Vec, compute: Any, where: str) -> Vec:
    k = ev.k
    labels, rows_v, rows_p, drop = [], [], [], []
    for key, members in _groups(ev, v, where).items():
        vals = np.zeros(k)
        present = np.zeros(k, dtype=bool)
        name = name_of(v.labels[members[0][0]])
        for j in range(k):
            buckets = [(le, float(v.vals[i, j])) for i, le in members if v.present[i, j]]
            if not buckets:
                continue
            value = compute(j, buckets, name)
            if value is None:
                continue
            vals[j] = value
            present[j] = True
        if present.any():
            labels.append(key)
            rows_v.append(vals)
            rows_p.append(present)
            drop.append(True)
    if not labels:
        return Vec.empty(k)
    return Vec(labels, np.vstack(rows_v), np.vstack(rows_p), drop)


def histogram_quantile(ev: Any, q: FloatArray, v: Vec, q_node: Any, v_node: Any) -> Vec:
    bad = q[(q < 0) | (q > 1) | np.isnan(q)]
    if len(bad):
        ev.warn(
            "PromQL warning: quantile value should be between 0 and 1, "
            f"got {format_g_wide(float(bad[0]))}{ev.pos(q_node)}"
        )
    where = ev.pos(v_node)

    def compute(j: int, buckets: list[tuple[float, float]], name: str) -> float:
        value, forced = bucket_quantile(float(q[j]), buckets)
        if forced:
            ev.info(MONOTONIC_INFO.format(name) + where)
        return value

    return _per_group(ev, v, compute, where)


def histogram_fraction(ev: Any, lower: FloatArray, upper: FloatArray, v: Vec, v_node: Any) -> Vec:
    def compute(j: int, buckets: list[tuple[float, float]], name: str) -> float:
        return bucket_fraction(float(lower[j]), float(upper[j]), buckets)

    return _per_group(ev, v, compute, ev.pos(v_node))


__all__ = ["METRIC_NAME", "histogram_fraction", "histogram_quantile"]
