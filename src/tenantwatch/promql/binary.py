"""Binary operators: arithmetic, comparison (with and without bool) and set operators,
with one-to-one and many-to-one vector matching (on / ignoring / group_left / group_right)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import promql_parser as pp

from tenantwatch.promql.model import METRIC_NAME, FloatArray, PromQLError, go_labels
from tenantwatch.promql.values import Vec, merge_rows
from tenantwatch.types import Labels

ARITH: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,
    "^": np.power,
    "atan2": np.arctan2,
}
COMPARE: dict[str, Callable[[FloatArray, FloatArray], Any]] = {
    "==": np.equal,
    "!=": np.not_equal,
    ">": np.greater,
    "<": np.less,
    ">=": np.greater_equal,
    "<=": np.less_equal,
}
SET_OPS = ("and", "or", "unless")


def binary(ev: Any, node: Any) -> Any:
    op = str(node.op)
    mod = node.modifier
    return_bool = bool(mod is not None and mod.return_bool)
    lhs = ev.eval(node.lhs)
    rhs = ev.eval(node.rhs)
    if op in SET_OPS:
        if not isinstance(lhs, Vec) or not isinstance(rhs, Vec):
            raise PromQLError(
                "bad_data", f"set operator {op!r} not allowed in binary scalar expression"
            )
        return _set_op(op, lhs, rhs, mod)
    if isinstance(lhs, np.ndarray) and isinstance(rhs, np.ndarray):
        with np.errstate(all="ignore"):
            if op in COMPARE:
                return COMPARE[op](lhs, rhs).astype(np.float64)
            return ARITH[op](lhs, rhs)
    if isinstance(lhs, Vec) and isinstance(rhs, np.ndarray):
        return _vector_scalar(op, lhs, rhs, swap=False, return_bool=return_bool)
    if isinstance(lhs, np.ndarray) and isinstance(rhs, Vec):
        return _vector_scalar(op, rhs, lhs, swap=True, return_bool=return_bool)
    if isinstance(lhs, Vec) and isinstance(rhs, Vec):
        return _vector_vector(op, lhs, rhs, mod, return_bool)
    raise PromQLError(
        "bad_data", f"binary expression {op!r} needs scalar or instant vector operands"
    )


def _vector_scalar(op: str, v: Vec, s: FloatArray, *, swap: bool, return_bool: bool) -> Vec:
    left, right = (s, v.vals) if swap else (v.vals, s)
    with np.errstate(all="ignore"):
        if op in COMPARE:
            keep = COMPARE[op](left, right)
            if return_bool:
                return Vec(v.labels, keep.astype(np.float64), v.present, [True] * v.n)
            return Vec(v.labels, v.vals, v.present & keep, list(v.drop)).compact()
        out = ARITH[op](left, right)
    return Vec(v.labels, out, v.present, [True] * v.n)


def _signature_fn(mod: Any) -> Callable[[Labels], Labels]:
    if mod is None or mod.matching is None:
        return lambda labels: tuple(p for p in labels if p[0] != METRIC_NAME)
    names = set(mod.matching.labels)
    if mod.matching.type == pp.LabelModifierType.Include:
        return lambda labels: tuple(p for p in labels if p[0] in names)
    names.add(METRIC_NAME)
    return lambda labels: tuple(p for p in labels if p[0] not in names)


def _by_sig(
    v: Vec, sig: Callable[[Labels], Labels]
) -> tuple[list[Labels], dict[Labels, list[int]]]:
    sigs = [sig(labels) for labels in v.labels]
    groups: dict[Labels, list[int]] = {}
    for i, s in enumerate(sigs):
        groups.setdefault(s, []).append(i)
    return sigs, groups


def _any_present(v: Vec, groups: dict[Labels, list[int]]) -> dict[Labels, Any]:
    return {s: v.present[rows].any(axis=0) for s, rows in groups.items()}


def _set_op(op: str, lhs: Vec, rhs: Vec, mod: Any) -> Vec:
    sig = _signature_fn(mod)
    k = lhs.k
    if op in ("and", "unless"):
        lsigs, _ = _by_sig(lhs, sig)
        _, rgroups = _by_sig(rhs, sig)
        rany = _any_present(rhs, rgroups)
        none = np.zeros(k, dtype=bool)
        present = lhs.present.copy()
        for i, s in enumerate(lsigs):
            hit = rany.get(s, none)
            present[i] &= hit if op == "and" else ~hit
        return Vec(lhs.labels, lhs.vals, present, list(lhs.drop)).compact()
    # or
    _, lgroups = _by_sig(lhs, sig)
    rsigs, _ = _by_sig(rhs, sig)
    lany = _any_present(lhs, lgroups)
    rpresent = rhs.present.copy()
    for i, s in enumerate(rsigs):
        hit = lany.get(s)
        if hit is not None:
            rpresent[i] &= ~hit
    both = Vec(
        lhs.labels + rhs.labels,
        np.vstack([lhs.vals, rhs.vals])
        if lhs.n and rhs.n
        else (lhs.vals if rhs.n == 0 else rhs.vals),
        np.vstack([lhs.present, rpresent])
        if lhs.n and rhs.n
        else (lhs.present if rhs.n == 0 else rpresent),
        lhs.drop + rhs.drop,
    ).compact()
    return merge_rows(both)


def _result_labels(many: Labels, one: Labels, mod: Any, card: Any, include: list[str]) -> Labels:
    d = dict(many)
    if card == pp.VectorMatchCardinality.OneToOne and mod is not None and mod.matching is not None:
        names = set(mod.matching.labels)
        if mod.matching.type == pp.LabelModifierType.Include:
            d = {k: v for k, v in d.items() if k in names}
        else:
            d = {k: v for k, v in d.items() if k not in names}
    if include:
        od = dict(one)
        for name in include:
            value = od.get(name, "")
            if value:
                d[name] = value
            else:
                d.pop(name, None)
    return tuple(sorted(d.items()))


def _vector_vector(op: str, lhs: Vec, rhs: Vec, mod: Any, return_bool: bool) -> Vec:
    k = lhs.k
    card = mod.card if mod is not None else pp.VectorMatchCardinality.OneToOne
    include = list(mod.group_labels or []) if mod is not None and mod.group_labels else []
    swap = card == pp.VectorMatchCardinality.OneToMany
    many, one = (rhs, lhs) if swap else (lhs, rhs)
    if many.n == 0 or one.n == 0:
        return Vec.empty(k)
    sig = _signature_fn(mod)
    msigs, mgroups = _by_sig(many, sig)
    _, ogroups = _by_sig(one, sig)
    side = "left" if swap else "right"
    for s, rows in ogroups.items():
        if len(rows) > 1:
            counts = one.present[rows].sum(axis=0)
            if (counts > 1).any():
                j = int(np.argmax(counts > 1))
                dup = sorted(one.labels[r] for r in rows if one.present[r, j])[:2]
                raise PromQLError(
                    "execution",
                    f"found duplicate series for the match group {go_labels(s)} on the {side} "
                    f"hand-side of the operation: [{go_labels(dup[0])}, {go_labels(dup[1])}]"
                    ";many-to-many matching not allowed: matching labels must be unique on one side",
                )
    oany = _any_present(one, ogroups)
    if card == pp.VectorMatchCardinality.OneToOne:
        for s, rows in mgroups.items():
            if len(rows) > 1 and s in oany:
                counts = many.present[rows].sum(axis=0)
                if ((counts > 1) & oany[s]).any():
                    raise PromQLError(
                        "execution",
                        "multiple matches for labels: many-to-one matching must be explicit "
                        "(group_left/group_right)",
                    )
    pairs_m: list[int] = []
    pairs_o: list[int] = []
    for i, s in enumerate(msigs):
        for o in ogroups.get(s, ()):
            pairs_m.append(i)
            pairs_o.append(o)
    if not pairs_m:
        return Vec.empty(k)
    im = np.asarray(pairs_m, dtype=np.intp)
    io = np.asarray(pairs_o, dtype=np.intp)
    mv, ov = many.vals[im], one.vals[io]
    present = many.present[im] & one.present[io]
    lv, rv = (ov, mv) if swap else (mv, ov)
    is_cmp = op in COMPARE
    with np.errstate(all="ignore"):
        if is_cmp:
            keep = COMPARE[op](lv, rv)
            if return_bool:
                vals = keep.astype(np.float64)
            else:
                vals = lv
                present = present & keep
        else:
            vals = ARITH[op](lv, rv)
    drop_name = return_bool or not is_cmp
    simple = card == pp.VectorMatchCardinality.OneToOne and (mod is None or mod.matching is None)
    labels: list[Labels] = []
    drops: list[bool] = []
    for a, b in zip(pairs_m, pairs_o, strict=True):
        if simple:
            labels.append(many.labels[a])
        else:
            labels.append(_result_labels(many.labels[a], one.labels[b], mod, card, include))
        drops.append(drop_name or many.drop[a])
    if not drop_name and card == pp.VectorMatchCardinality.OneToOne and is_cmp and swap is False:
        pass
    out = Vec(labels, vals, present, drops).compact()
    try:
        return merge_rows(out)
    except PromQLError as exc:
        if card == pp.VectorMatchCardinality.OneToOne:
            raise
        raise PromQLError(
            "execution", "multiple matches for labels: grouping labels must ensure unique matches"
        ) from exc
