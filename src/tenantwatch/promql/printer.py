"""Print a promql-parser tree as Prometheus' Go printer does, optionally pinning every
selector with `@ <t>`.

promql-parser's own str() loses the colon of `x[5m:]` and spaces things differently;
printing like Prometheus keeps annotation positions (`(1:25)`) where upstream has them.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from typing import Any

import promql_parser as pp

from tenantwatch.promql.model import METRIC_NAME

_LEGACY_LABEL = (
    frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"),
    frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"),
)
_DURATION_UNITS = (
    ("y", 365 * 86_400_000, True),
    ("w", 7 * 86_400_000, True),
    ("d", 86_400_000, False),
    ("h", 3_600_000, False),
    ("m", 60_000, False),
    ("s", 1000, False),
    ("ms", 1, False),
)


def render(node: Any, pin: int | None = None) -> str:
    """PromQL text for a tree. With pin (ms), selectors and subqueries without a fixed
    `@` get `@ pin` (`@ start()`/`@ end()` included); inside a subquery nothing changes."""
    if isinstance(node, pp.NumberLiteral):
        return number(node.val)
    if isinstance(node, pp.StringLiteral):
        return quote(node.val)
    if isinstance(node, pp.ParenExpr):
        return f"({render(node.expr, pin)})"
    if isinstance(node, pp.UnaryExpr):
        return f"-{render(node.expr, pin)}"
    if isinstance(node, pp.BinaryExpr):
        lhs, rhs = render(node.lhs, pin), render(node.rhs, pin)
        return f"{lhs} {node.op}{_bin_modifier(node.modifier)} {rhs}"
    if isinstance(node, pp.Call):
        args = ", ".join(render(a, pin) for a in node.args if a is not None)
        return f"{node.func.name}({args})"
    if isinstance(node, pp.AggregateExpr):
        param = f"{render(node.param, pin)}, " if node.param is not None else ""
        return f"{node.op}{_grouping(node.modifier)}({param}{render(node.expr, pin)})"
    if isinstance(node, pp.VectorSelector):
        return _selector(node) + _modifiers(node.offset, node.at, pin)
    if isinstance(node, pp.MatrixSelector):
        vs = node.vector_selector
        return f"{_selector(vs)}[{duration(node.range)}]{_modifiers(vs.offset, vs.at, pin)}"
    if isinstance(node, pp.SubqueryExpr):
        inner = render(node.expr, None)
        if isinstance(node.expr, pp.BinaryExpr | pp.UnaryExpr):
            inner = f"({inner})"
        step = duration(node.step) if node.step else ""
        window = duration(node.range) if node.range is not None else "0s"
        return f"{inner}[{window}:{step}]{_modifiers(node.offset, node.at, pin)}"
    raise ValueError(f"cannot print a {type(node).__name__} node")


def number(v: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = format(Decimal(repr(v)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def duration(d: timedelta) -> str:
    """Prometheus' model.Duration text: 90s is 1m30s; years and weeks only when exact."""
    ms = d // timedelta(milliseconds=1)
    if ms == 0:
        return "0s"
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    out = ""
    for unit, size, exact in _DURATION_UNITS:
        if exact and ms % size:
            continue
        if n := ms // size:
            out += f"{n}{unit}"
            ms -= n * size
    return sign + out


def quote(value: str) -> str:
    """A double-quoted PromQL string (Go's strconv.Quote for the common cases)."""
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif not c.isprintable():
            out.append(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _label(name: str) -> str:
    legacy = name and name[0] in _LEGACY_LABEL[0] and all(c in _LEGACY_LABEL[1] for c in name)
    return name if legacy else quote(name)


def _labels(names: list[str]) -> str:
    return ", ".join(_label(n) for n in names)


def _op(op: Any) -> str:
    if op == pp.MatchOp.Equal:
        return "="
    if op == pp.MatchOp.NotEqual:
        return "!="
    return "=~" if op == pp.MatchOp.Re else "!~"


def _selector(vs: Any) -> str:
    groups = vs.matchers.or_matchers or [vs.matchers.matchers]
    texts = []
    for group in groups:
        parts = [
            f"{_label(m.name)}{_op(m.op)}{quote(m.value)}"
            for m in group
            if not (m.name == METRIC_NAME and m.value == vs.name and _op(m.op) == "=")
        ]
        texts.append(",".join(sorted(parts)))
    body = " or ".join(t for t in texts if t)
    name = vs.name or ""
    return f"{name}{{{body}}}" if body or not name else name


def _modifiers(offset: timedelta | None, at: Any, pin: int | None) -> str:
    out = ""
    if at is not None and at.type == pp.AtModifierType.At:
        out += f" @ {_at_ms(at) / 1000:.3f}"
    elif pin is not None:
        # Upstream pins `@ start()` / `@ end()` too: they equal t in an instant query.
        out += f" @ {pin / 1000:.3f}"
    elif at is not None:
        out += " @ start()" if at.type == pp.AtModifierType.Start else " @ end()"
    if offset:
        out += f" offset {duration(offset)}"
    return out


def _at_ms(at: Any) -> int:
    try:
        return round(float(at.at.timestamp()) * 1000)
    except BaseException as exc:  # promql-parser panics on times before 1970
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ValueError("promql-parser cannot read an @ timestamp before 1970") from None


def _grouping(mod: Any) -> str:
    if mod is None:
        return ""
    if mod.type == pp.AggModifierType.Without:
        return f" without ({_labels(mod.labels)}) "
    return f" by ({_labels(mod.labels)}) " if mod.labels else ""


def _bin_modifier(mod: Any) -> str:
    if mod is None:
        return ""
    out = " bool" if mod.return_bool else ""
    card = mod.card
    grouped = card in (pp.VectorMatchCardinality.ManyToOne, pp.VectorMatchCardinality.OneToMany)
    matching = mod.matching
    on = matching is not None and matching.type == pp.LabelModifierType.Include
    labels = list(matching.labels) if matching is not None else []
    if labels or on or grouped:
        out += f" {'on' if on else 'ignoring'} ({_labels(labels)})"
    if grouped:
        side = "left" if card == pp.VectorMatchCardinality.ManyToOne else "right"
        out += f" group_{side} ({_labels(list(mod.group_labels or []))})"
    fill = getattr(mod, "fill_values", None)
    if fill is not None and (fill.lhs is not None or fill.rhs is not None):
        if fill.lhs is not None and fill.lhs == fill.rhs:
            out += f" fill ({number(fill.lhs)})"
        else:
            if fill.lhs is not None:
                out += f" fill_left ({number(fill.lhs)})"
            if fill.rhs is not None:
                out += f" fill_right ({number(fill.rhs)})"
    return out
