"""What the promqltest runner reads from an eval's expression: the `@`-pinned variants
upstream also runs, experimental features that may be skipped, and the selectors.

The `@` variants are printed by tenantwatch.promql.printer as Prometheus prints them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser as pp

from tenantwatch.promql import printer
from tenantwatch.promql.model import METRIC_NAME, Matcher, label_value
from tenantwatch.promql.selectors import match_op
from tenantwatch.types import Labels

# Functions whose result depends on the evaluation time even when their arguments are
# pinned with `@` (upstream's AtModifierUnsafeFunctions): no `@` variants for these.
AT_UNSAFE_FUNCTIONS = frozenset(
    {
        "days_in_month", "day_of_month", "day_of_week", "day_of_year", "end", "hour",
        "minute", "month", "year", "predict_linear", "range", "start", "step", "time",
        "timestamp",
    }
)  # fmt: skip

# The range-mode re-run is skipped for these (they resolve differently in range queries).
QUERY_CONTEXT_FUNCS = re.compile(r"(start|end|range|step)\(\)")

_EXPERIMENTAL_FUNCTIONS = frozenset(
    {
        "double_exponential_smoothing", "sort_by_label", "sort_by_label_desc",
        "mad_over_time", "info", "start", "end", "range", "step",
    }
)  # fmt: skip
_EXPERIMENTAL_AGGREGATIONS = frozenset({"limitk", "limit_ratio"})
_TYPE_UNIT = re.compile(r"__(type|unit)__")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
# Used only when promql-parser cannot read the expression, to tell newer experimental
# syntax (which may be skipped) from plain errors (which fail).
_TEXT_EXPERIMENTS = (
    (re.compile(r"\b(anchored|smoothed)\b"), "the experimental {} modifier"),
    (re.compile(r"\b(fill|fill_left|fill_right)\s*\("), "the experimental {}() modifier"),
    (re.compile(r"\b(limitk|limit_ratio)\s*\("), "the experimental {} aggregation"),
    (
        re.compile(
            r"\b(double_exponential_smoothing|sort_by_label(?:_desc)?|mad_over_time"
            r"|ts_of_\w+_over_time|info)\s*\("
        ),
        "the experimental function {}",
    ),
    (
        re.compile(r"(?<!@)(?<!@ )\b(start|end|range|step)\(\)", re.IGNORECASE),
        "the experimental function {}()",
    ),
    (re.compile(r"([<>]/)"), "the experimental native histogram trim operator {}"),
)
_PLAIN_RANGE = re.compile(r"\s*(?:\d+(?:ms|[smhdwy]))+\s*(?::\s*(?:(?:\d+(?:ms|[smhdwy]))+)?\s*)?")
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_MODIFIER_EXPR = re.compile(r"\b(?:offset|@)\s*-?\s*\(")


def parse(expr: str) -> Any | None:
    """promql-parser's tree for expr, or None if it cannot read it."""
    try:
        return pp.parse(expr)
    except BaseException as exc:  # a pyo3 panic is a BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return None


def experimental_feature(expr: str, tree: Any | None) -> str | None:
    """Name the experimental feature expr uses (skippable per the README), or None."""
    if _TYPE_UNIT.search(expr):
        return "the experimental __type__/__unit__ labels"
    if tree is None:
        return _text_experiment(expr)
    for node in walk(tree):
        if isinstance(node, pp.Call):
            name = node.func.name
            if name in _EXPERIMENTAL_FUNCTIONS or re.fullmatch(r"ts_of_\w+_over_time", name):
                return f"the experimental function {name}"
        elif isinstance(node, pp.AggregateExpr) and str(node.op) in _EXPERIMENTAL_AGGREGATIONS:
            return f"the experimental {node.op} aggregation"
        elif isinstance(node, pp.BinaryExpr) and _has_fill(node.modifier):
            return "the experimental fill() modifier"
    return None


def _text_experiment(expr: str) -> str | None:
    text = _STRING.sub('""', expr)
    for pattern, what in _TEXT_EXPERIMENTS:
        if m := pattern.search(text):
            return what.format(m.group(1))
    for m in re.finditer(r"\[([^\]]*)\]", text):
        if not _PLAIN_RANGE.fullmatch(m.group(1)):
            return f"experimental duration arithmetic [{m.group(1)}]"
    if _MODIFIER_EXPR.search(text):
        return "experimental duration arithmetic in offset/@"
    return None


def _has_fill(modifier: Any) -> bool:
    fill = getattr(modifier, "fill_values", None)
    return fill is not None and (fill.lhs is not None or fill.rhs is not None)


def walk(node: Any) -> Iterator[Any]:
    """Every node of the tree, parents before children."""
    yield node
    for child in _children(node):
        yield from walk(child)


def _children(node: Any) -> list[Any]:
    if isinstance(node, pp.AggregateExpr):
        return [c for c in (node.param, node.expr) if c is not None]
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.UnaryExpr | pp.ParenExpr | pp.SubqueryExpr):
        return [node.expr]
    if isinstance(node, pp.Call):
        return [a for a in node.args if a is not None]
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    return []


def selectors(tree: Any) -> list[list[list[Matcher]]]:
    """Each vector selector of the tree as alternatives (`or`) of matcher lists."""
    out = []
    for node in walk(tree):
        if isinstance(node, pp.VectorSelector):
            base = [Matcher.of(METRIC_NAME, "=", node.name)] if node.name else []
            groups = node.matchers.or_matchers or [node.matchers.matchers]
            out.append(
                [base + [Matcher.of(m.name, match_op(m.op), m.value) for m in g] for g in groups]
            )
    return out


def reads(expr: str, tree: Any | None, labels: Labels) -> bool:
    """Could the expression select the series? Without a tree, by its metric name."""
    if tree is None:
        name = label_value(labels, METRIC_NAME)
        return bool(name) and name in _IDENTIFIER.findall(_STRING.sub('""', expr))
    for alternatives in selectors(tree):
        for matchers in alternatives:
            if all(m.matches(label_value(labels, m.name)) for m in matchers):
                return True
    return False


def at_unsafe(tree: Any) -> bool:
    """Does a function read the evaluation time? Inside subqueries it does not matter:
    the subquery itself gets pinned, as upstream."""
    if isinstance(tree, pp.Call) and tree.func.name in AT_UNSAFE_FUNCTIONS:
        return True
    if isinstance(tree, pp.SubqueryExpr):
        return False
    return any(at_unsafe(child) for child in _children(tree))


@dataclass(frozen=True, slots=True)
class Variant:
    expr: str
    t: int


def at_variants(tree: Any, t: int) -> list[Variant]:
    """The `@`-pinned re-runs upstream adds to an instant eval at t (ms).

    Every selector and subquery not already pinned (and not inside a pinned subquery)
    gets `@ t`; the result must not change when evaluated at other times. None when the
    expression uses a function that reads the evaluation time.
    """
    if at_unsafe(tree):
        return []
    expr = printer.render(tree, pin=t)
    times = [-1000, 0, 1000] if t == 0 else [-10 * t, 0, t // 5, t, 10 * t]
    return [Variant(expr, et) for et in times]
