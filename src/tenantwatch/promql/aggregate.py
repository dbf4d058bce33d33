"""Aggregation operators: sum, avg, count, min, max, group, stddev, stdvar, topk,
bottomk, quantile, count_values, with by / without."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import promql_parser as pp

from tenantwatch.gotext.floats import format_f, format_g_wide
from tenantwatch.promql.functions import LABEL_NAME
from tenantwatch.promql.model import METRIC_NAME, FloatArray, PromQLError
from tenantwatch.promql.rangefn import quantile
from tenantwatch.promql.values import Vec
from tenantwatch.types import Labels


def _grouping(node: Any) -> tuple[bool, set[str]]:
    mod = node.modifier
    if mod is None:
        return False, set()
    without = mod.type == pp.AggModifierType.Without
    return without, set(mod.labels)


def _key(labels: Labels, without: bool, names: set[str]) -> Labels:
    if without:
        return tuple(p for p in labels if p[0] not in names and p[0] != METRIC_NAME)
    return tuple(p for p in labels if p[0] in names)


def _groups(v: Vec, without: bool, names: set[str]) -> tuple[list[Labels], list[int]]:
    keys: dict[Labels, int] = {}
    gid = []
    for labels in v.labels:
        key = _key(labels, without, names)
        g = keys.get(key)
        if g is None:
            g = keys[key] = len(keys)
        gid.append(g)
    return list(keys), gid


def aggregate(ev: Any, node: Any) -> Vec:
    op = str(node.op)
    without, names = _grouping(node)
    param = None
    if op in ("topk", "bottomk", "quantile"):
        param = ev.eval_scalar(node.param)
        if op == "quantile":
            bad = param[(param < 0) | (param > 1) | np.isnan(param)]
            if len(bad):
                ev.warn(
                    "PromQL warning: quantile value should be between 0 and 1, "
                    f"got {format_g_wide(float(bad[0]))}{ev.pos(node.param)}"
                )
    elif op == "count_values":
        param_s = ev.eval(node.param)
        if not isinstance(param_s, str):
            raise PromQLError("bad_data", "count_values needs a string parameter")
    elif op in ("limitk", "limit_ratio"):
        raise PromQLError("bad_data", f"{op} is experimental and not supported")
    if param is not None and op in ("topk", "bottomk") and np.isnan(param).any():
        raise PromQLError("bad_data", "Parameter value is NaN")
    v: Vec = ev.eval_vector(node.expr)
    if op == "count_values":
        return _count_values(ev, v, without, names, param_s)
    if v.n == 0:
        return Vec.empty(ev.k)
    if op in ("topk", "bottomk"):
        assert param is not None
        return _topk(ev, v, without, names, param, op == "topk")
    keys, gid_list = _groups(v, without, names)
    gid = np.asarray(gid_list, dtype=np.intp)
    ng = len(keys)
    order = np.argsort(gid, kind="stable")
    sorted_gid = gid[order]
    starts = np.flatnonzero(np.r_[True, sorted_gid[1:] != sorted_gid[:-1]])
    vals = v.vals[order]
    present = v.present[order]
    count = np.add.reduceat(present.astype(np.float64), starts, axis=0)
    has = count > 0
    masked = np.where(present, vals, 0.0)
    with np.errstate(all="ignore"):
        if op == "sum":
            out = _sum(masked, present, starts)
        elif op == "avg":
            out = _avg(masked, present, starts, count)
        elif op == "count":
            out = count
        elif op == "group":
            out = np.ones_like(count)
        elif op in ("max", "min"):
            filled = np.where(present, vals, np.nan)
            f = np.fmax if op == "max" else np.fmin
            out = f.reduceat(filled, starts, axis=0)
        elif op in ("stddev", "stdvar"):
            mean = _avg(masked, present, starts, count)
            row_group = np.searchsorted(starts, np.arange(len(order)), side="right") - 1
            row_mean = mean[row_group]
            # second pass: correct the mean, so equal values give exactly zero deviation
            resid = np.where(present, vals - row_mean, 0.0)
            mean = mean + np.add.reduceat(resid, starts, axis=0) / count
            row_mean = mean[row_group]
            dev = np.where(present, (vals - row_mean) ** 2, 0.0)
            var = np.add.reduceat(dev, starts, axis=0) / count
            # any infinite input makes the deviation undefined
            inf = np.add.reduceat(present & np.isinf(vals), starts, axis=0) > 0
            var = np.where(inf, np.nan, var)
            out = np.sqrt(var) if op == "stddev" else var
        elif op == "quantile":
            assert param is not None
            out = _quantile(param, vals, present, starts, ng)
        else:
            raise PromQLError("bad_data", f"unsupported aggregation {op!r}")
    drop = [False] * ng
    if not without and METRIC_NAME in names:
        for i, g in enumerate(gid_list):
            if v.drop[i]:
                drop[g] = True
    return Vec(keys, np.asarray(out, dtype=np.float64), has, drop).compact()


def _sum(masked: FloatArray, present: Any, starts: Any) -> FloatArray:
    out: FloatArray = np.add.reduceat(masked, starts, axis=0)
    mag = np.add.reduceat(np.abs(masked), starts, axis=0)
    suspect = np.isfinite(mag) & (np.abs(out) < mag * 1e-9)
    if suspect.any():
        bounds = [*starts.tolist(), len(masked)]
        for g, j in zip(*np.nonzero(suspect), strict=True):
            col = masked[bounds[g] : bounds[g + 1], j]
            out[g, j] = math.fsum(col.tolist())
    return out


def _avg(masked: FloatArray, present: Any, starts: Any, count: FloatArray) -> FloatArray:
    total = _sum(masked, present, starts)
    with np.errstate(all="ignore"):
        out: FloatArray = total / count
        overflow = np.isinf(out) & (np.add.reduceat(np.isinf(masked), starts, axis=0) == 0)
        if overflow.any():
            bounds = [*starts.tolist(), len(masked)]
            for g, j in zip(*np.nonzero(overflow), strict=True):
                col = masked[bounds[g] : bounds[g + 1], j]
                sel = present[bounds[g] : bounds[g + 1], j]
                n = float(sel.sum())
                out[g, j] = math.fsum((col[sel] / n).tolist())
    return out


def _quantile(q: FloatArray, vals: FloatArray, present: Any, starts: Any, ng: int) -> FloatArray:
    k = vals.shape[1]
    out = np.full((ng, k), math.nan)
    bounds = [*starts.tolist(), len(vals)]
    for g in range(ng):
        a, b = bounds[g], bounds[g + 1]
        for j in range(k):
            sel = present[a:b, j]
            if sel.any():
                out[g, j] = quantile(float(q[j]), vals[a:b, j][sel].tolist())
    return out


def _topk(ev: Any, v: Vec, without: bool, names: set[str], param: FloatArray, top: bool) -> Vec:
    k = ev.k
    _, gid_list = _groups(v, without, names)
    members: dict[int, list[int]] = {}
    for i, g in enumerate(gid_list):
        members.setdefault(g, []).append(i)
    selected = np.zeros_like(v.present)
    rank = np.zeros(v.present.shape, dtype=np.int64)
    for j in range(k):
        p = float(param[j])
        if math.isnan(p):
            raise PromQLError("bad_data", "Parameter value is NaN")
        n = int(p) if abs(p) < 2**62 else (2**62 if p > 0 else 0)
        if n < 1:
            continue
        for rows in members.values():
            live = [i for i in rows if v.present[i, j]]
            if not live:
                continue

            def sort_key(i: int, j: int = j) -> tuple[bool, float]:
                x = float(v.vals[i, j])
                if math.isnan(x):
                    return (True, 0.0)
                return (False, -x if top else x)

            live.sort(key=sort_key)
            for r, i in enumerate(live[:n]):
                selected[i, j] = True
                rank[i, j] = r
    out = Vec(v.labels, v.vals, selected, list(v.drop)).compact()
    if k == 1 and out.n:
        # instant queries list each group's series best first
        group_of = {lbl: gid_list[i] for i, lbl in enumerate(v.labels)}
        idx = {lbl: i for i, lbl in enumerate(v.labels)}
        order = sorted(
            range(out.n),
            key=lambda r: (group_of[out.labels[r]], rank[idx[out.labels[r]], 0]),
        )
        out = out.take(order)
    return out


def _count_values(ev: Any, v: Vec, without: bool, names: set[str], label: str) -> Vec:
    if not LABEL_NAME.match(label):
        raise PromQLError("bad_data", f"invalid label name {label!r}")
    k = ev.k
    rows: dict[Labels, FloatArray] = {}
    for i, labels in enumerate(v.labels):
        key = _key(labels, without, names)
        for j in range(k):
            if not v.present[i, j]:
                continue
            out_labels = tuple(sorted({**dict(key), label: format_f(float(v.vals[i, j]))}.items()))
            row = rows.get(out_labels)
            if row is None:
                row = rows[out_labels] = np.zeros(k)
            row[j] += 1
    if not rows:
        return Vec.empty(k)
    vals = np.vstack(list(rows.values()))
    return Vec(list(rows), vals, vals > 0, [False] * len(rows))
