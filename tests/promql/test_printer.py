"""Expressions print as Prometheus prints them, with selectors pinned by `@` on demand."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import promql_parser as pp
import pytest

from tenantwatch.promql.model import Matcher
from tenantwatch.promql.printer import duration, quote, render, seconds, selector
from tenantwatch.promql.testscript import Eval, parse_script

CONFORMANCE = sorted((Path(__file__).parent / "conformance").glob("*.test"))


def test_every_conformance_expression_prints_back_to_the_same_tree() -> None:
    seen = 0
    for script in CONFORMANCE:
        for cmd in parse_script(script.read_text(), str(script)):
            if not isinstance(cmd, Eval):
                continue
            tree = pp.parse(cmd.expr)
            printed = render(tree)
            assert _canonical(pp.parse(printed)) == _canonical(tree), cmd.expr
            assert render(pp.parse(printed)) == printed
            pp.parse(render(tree, pin=123_456))
            seen += 1
    assert seen > 1000


def _canonical(tree: object) -> str:
    """promql-parser's text up to what Prometheus' printer normalises: matcher order,
    `by ()` and an empty `ignoring ()`."""
    text = str(tree).replace(" ignoring ()", "").replace(" by ()", "")
    return re.sub(
        r"\{([^{}]*)\}", lambda m: "{" + ",".join(sorted(m.group(1).split(","))) + "}", text
    )


@pytest.mark.parametrize(
    ("expr", "printed"),
    [
        ('rate(x{b="2",a="1"}[90s])', 'rate(x{a="1",b="2"}[1m30s])'),
        ("x offset -1m", "x offset -1m"),
        ("x[5m:] @ start()", "x[5m:] @ start()"),
        ("sum without () (x)", "sum without () (x)"),
        ("sum by () (x)", "sum(x)"),
        ("topk by (a) (2, x)", "topk by (a) (2, x)"),
        ("a > bool on() group_left(b) c", "a > bool on () group_left (b) c"),
        ("a and b", "a and b"),
        ("a / ignoring(x) b", "a / ignoring (x) b"),
        ("histogram_fraction(-Inf, 1, series)", "histogram_fraction(-Inf, 1, series)"),
        ("Inf + 1e3 + 0.5", "+Inf + 1000 + 0.5"),
        ('{__name__="x", "a.b"="c"}', '{"a.b"="c",__name__="x"}'),
        ('label_replace(x, "a", "$1", "b", "(.*)")', 'label_replace(x, "a", "$1", "b", "(.*)")'),
    ],
)
def test_printed_like_prometheus(expr: str, printed: str) -> None:
    assert render(pp.parse(expr)) == printed


@pytest.mark.parametrize(
    ("expr", "pinned"),
    [
        ("rate(x[5m])", "rate(x[5m] @ 60.000)"),
        ("x offset 1m", "x @ 60.000 offset 1m"),
        ("x @ 10", "x @ 10.000"),
        ("x @ start() + y @ end()", "x @ 60.000 + y @ 60.000"),
        ("max_over_time(x[5m:])", "max_over_time(x[5m:] @ 60.000)"),
        ("max_over_time(rate(x[1m])[5m:1m] @ 5)", "max_over_time(rate(x[1m])[5m:1m] @ 5.000)"),
        ("histogram_quantile(0.8, series)", "histogram_quantile(0.8, series @ 60.000)"),
    ],
)
def test_pinning_adds_at_to_unpinned_selectors_outside_subqueries(expr: str, pinned: str) -> None:
    assert render(pp.parse(expr), pin=60_000) == pinned


def test_durations_and_strings() -> None:
    assert duration(timedelta(days=7)) == "1w"
    assert duration(timedelta(days=8)) == "8d"
    assert duration(timedelta(days=8, milliseconds=1)) == "8d1ms"
    assert duration(timedelta(minutes=-90)) == "-1h30m"
    assert duration(timedelta(seconds=10, milliseconds=53)) == "10s53ms"
    assert duration(timedelta(0)) == "0s"
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert seconds(1_700_000_000_123) == "1700000000.123"
    assert seconds(-1_500) == "-1.500"


def test_an_at_before_1970_is_a_clear_error_not_a_panic() -> None:
    # promql-parser panics when asked for such a timestamp; the printer says why instead.
    with pytest.raises(ValueError, match="before 1970"):
        render(pp.parse("foo @ -10"))


ACME = [Matcher.of("tenant", "=", "acme")]


@pytest.mark.parametrize(
    ("expr", "enforced"),
    [
        ("up", 'up{tenant="acme"}'),
        (
            'sum by (job) (rate(x{job="a"}[5m]))',
            'sum by (job) (rate(x{job="a",tenant="acme"}[5m]))',
        ),
        ("max_over_time(x[5m:])", 'max_over_time(x{tenant="acme"}[5m:])'),
        ('x{a="1" or b="2"}', 'x{a="1",tenant="acme" or b="2",tenant="acme"}'),
        (
            '{"my.metric", a="1" or b="2"}',
            '{__name__="my.metric",a="1",tenant="acme" or b="2",tenant="acme"}',
        ),
        ('{"a.b"="c"}', '{"a.b"="c",tenant="acme"}'),
        ("x @ 1700000000.123 offset -90s", 'x{tenant="acme"} @ 1700000000.123 offset -1m30s'),
        (
            "vector(1) + on() group_left sum(x)",
            'vector(1) + on () group_left () sum(x{tenant="acme"})',
        ),
        ('"text"', '"text"'),
    ],
)
def test_enforced_matchers_join_every_selector(expr: str, enforced: str) -> None:
    assert render(pp.parse(expr), enforce=ACME) == enforced


def test_enforcing_and_pinning_together_enforce_inside_subqueries_too() -> None:
    tree = pp.parse("max_over_time(rate(x[1m])[5m:1m]) / y")

    printed = render(tree, pin=60_000, enforce=ACME)

    assert printed == (
        'max_over_time(rate(x{tenant="acme"}[1m])[5m:1m] @ 60.000) / y{tenant="acme"} @ 60.000'
    )


def test_series_selector_keeps_the_matchers_in_order() -> None:
    matchers = [*ACME, Matcher.of("job", "!~", "a.*"), Matcher.of("a.b", "=", 'q"')]
    assert selector(matchers) == '{tenant="acme",job!~"a.*","a.b"="q\\""}'
