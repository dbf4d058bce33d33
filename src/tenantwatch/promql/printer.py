"""Print a promql-parser tree as Prometheus' Go printer does, optionally pinning every
selector with `@ <t>` and adding enforced matchers to every selector.

promql-parser's own str() cannot be sent anywhere: it loses the colon of `x[5m:]` (turning
a subquery into a range), prints `or` matchers as `{ or a="1"}`, leaves label names such
as `a.b` unquoted, prints `@` times before 1970 as 0 and spaces things differently.
Printing like Prometheus also keeps annotation positions (`(1:25)`) where upstream has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import promql_parser as pp

from tenantwatch.gotext.floats import format_f
from tenantwatch.promql.model import METRIC_NAME, Matcher
from tenantwatch.promql.selectors import match_op

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_LEGACY_LABEL = (frozenset(_LETTERS), frozenset(_LETTERS + "0123456789"))
_LEGACY_METRIC = (frozenset(_LETTERS + ":"), frozenset(_LETTERS + ":0123456789"))
_DURATION_UNITS = (
    ("y", 365 * 86_400_000, True),
    ("w", 7 * 86_400_000, True),
    ("d", 86_400_000, False),
    ("h", 3_600_000, False),
    ("m", 60_000, False),
    ("s", 1000, False),
    ("ms", 1, False),
)
# A subquery of anything else needs parentheses: `(a + b)[5m:]`, `(-a)[5m:]`.
_BARE_SUBQUERY = (pp.VectorSelector, pp.Call, pp.ParenExpr, pp.AggregateExpr, pp.SubqueryExpr)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def render(node: Any, pin: int | None = None, enforce: Sequence[Matcher] = ()) -> str:
    """PromQL text for a tree. With pin (ms), selectors and subqueries without a fixed
    `@` get `@ pin` (`@ start()`/`@ end()` included); inside a subquery nothing changes.
    Every selector, inside subqueries too, gets the matchers of enforce.

    Raises ValueError for an `@` before 1970, which promql-parser cannot hand over.
    """
    return _render(node, pin, tuple(_matcher(m.name, m.op, m.value) for m in enforce))


def selector(matchers: Sequence[Matcher]) -> str:
    """`{a="b",c=~"d"}`, a series selector with matchers in the order given."""
    return "{" + ",".join(_matcher(m.name, m.op, m.value) for m in matchers) + "}"


def seconds(ms: int) -> str:
    """ms as exact decimal seconds, as PromQL and Prometheus' API read times: `-1.500`."""
    sign = "-" if ms < 0 else ""
    return f"{sign}{abs(ms) // 1000}.{abs(ms) % 1000:03d}"


def duration(d: timedelta) -> str:
    """Prometheus' model.Duration text: 90s is 1m30s; years and weeks only when exact."""
    ms = d // _MS
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


def _render(node: Any, pin: int | None, extra: tuple[str, ...]) -> str:
    if isinstance(node, pp.NumberLiteral):
        return format_f(node.val)
    if isinstance(node, pp.StringLiteral):
        return quote(node.val)
    if isinstance(node, pp.ParenExpr):
        return f"({_render(node.expr, pin, extra)})"
    if isinstance(node, pp.UnaryExpr):
        return f"-{_render(node.expr, pin, extra)}"
    if isinstance(node, pp.BinaryExpr):
        lhs, rhs = _render(node.lhs, pin, extra), _render(node.rhs, pin, extra)
        return f"{lhs} {node.op}{_bin_modifier(node.modifier)} {rhs}"
    if isinstance(node, pp.Call):
        args = ", ".join(_render(a, pin, extra) for a in node.args if a is not None)
        return f"{node.func.name}({args})"
    if isinstance(node, pp.AggregateExpr):
        param = f"{_render(node.param, pin, extra)}, " if node.param is not None else ""
        inner = _render(node.expr, pin, extra)
        return f"{node.op}{_grouping(node.modifier)}({param}{inner})"
    if isinstance(node, pp.VectorSelector):
        return _selector(node, extra) + _modifiers(node.offset, node.at, pin)
    if isinstance(node, pp.MatrixSelector):
        vs = node.vector_selector
        window = duration(node.range)
        return f"{_selector(vs, extra)}[{window}]{_modifiers(vs.offset, vs.at, pin)}"
    if isinstance(node, pp.SubqueryExpr):
        return _subquery(node, pin, extra)
    raise ValueError(f"cannot print a {type(node).__name__} node")


def _subquery(node: Any, pin: int | None, extra: tuple[str, ...]) -> str:
    inner = _render(node.expr, None, extra)
    if not isinstance(node.expr, _BARE_SUBQUERY):
        inner = f"({inner})"
    step = duration(node.step) if node.step else ""
    window = duration(node.range) if node.range is not None else "0s"
    return f"{inner}[{window}:{step}]{_modifiers(node.offset, node.at, pin)}"


def _is_legacy(name: str, chars: tuple[frozenset[str], frozenset[str]]) -> bool:
    return bool(name) and name[0] in chars[0] and all(c in chars[1] for c in name)


def _label(name: str) -> str:
    return name if _is_legacy(name, _LEGACY_LABEL) else quote(name)


def _labels(names: list[str]) -> str:
    return ", ".join(_label(n) for n in names)


def _matcher(name: str, op: str, value: str) -> str:
    return f"{_label(name)}{op}{quote(value)}"


def _selector(vs: Any, extra: tuple[str, ...]) -> str:
    """`name{...}` with matchers sorted, as Prometheus prints; `or` groups each get the
    shared matchers and extra. A name that is no legacy metric name becomes a matcher."""
    name = vs.name or ""
    base = [m for m in vs.matchers.matchers if not _names_selector(m, name)]
    shared = list(extra)
    if name and not _is_legacy(name, _LEGACY_METRIC):
        shared.append(_matcher(METRIC_NAME, "=", name))
        name = ""
    texts = []
    for group in vs.matchers.or_matchers or [[]]:
        parts = [_matcher(m.name, match_op(m.op), m.value) for m in [*base, *group]]
        texts.append(",".join(sorted([*parts, *shared])))
    body = " or ".join(t for t in texts if t)
    return f"{name}{{{body}}}" if body or not name else name


def _names_selector(m: Any, name: str) -> bool:
    return bool(name) and m.name == METRIC_NAME and m.value == name and match_op(m.op) == "="


def _modifiers(offset: timedelta | None, at: Any, pin: int | None) -> str:
    out = ""
    if at is not None and at.type == pp.AtModifierType.At:
        out += f" @ {seconds(_at_ms(at))}"
    elif pin is not None:
        # Upstream pins `@ start()` / `@ end()` too: they equal t in an instant query.
        out += f" @ {seconds(pin)}"
    elif at is not None:
        out += " @ start()" if at.type == pp.AtModifierType.Start else " @ end()"
    if offset:
        out += f" offset {duration(offset)}"
    return out


def _at_ms(at: Any) -> int:
    try:
        when = at.at
    except BaseException as exc:  # promql-parser panics on times before 1970
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ValueError("promql-parser cannot read an @ timestamp before 1970") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int((when - _EPOCH) // _MS)


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
            out += f" fill ({format_f(fill.lhs)})"
        else:
            if fill.lhs is not None:
                out += f" fill_left ({format_f(fill.lhs)})"
            if fill.rhs is not None:
                out += f" fill_right ({format_f(fill.rhs)})"
    return out
