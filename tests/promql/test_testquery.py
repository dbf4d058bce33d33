"""What the runner derives from an eval's expression: @ variants, experiments, selectors."""

from __future__ import annotations

import pytest

from tenantwatch.promql import testquery


def tree(expr: str) -> object:
    parsed = testquery.parse(expr)
    assert parsed is not None, expr
    return parsed


def test_at_variants_run_at_the_upstream_times() -> None:
    variants = testquery.at_variants(tree("x"), 50_000)
    assert [v.t for v in variants] == [-500_000, 0, 10_000, 50_000, 500_000]
    assert {v.expr for v in variants} == {"x @ 50.000"}
    assert [v.t for v in testquery.at_variants(tree("x"), 0)] == [-1000, 0, 1000]


@pytest.mark.parametrize(
    "expr", ["time()", "x - timestamp(x)", "hour(x)", "predict_linear(x[5m], 60)"]
)
def test_no_variants_for_functions_that_read_the_evaluation_time(expr: str) -> None:
    assert testquery.at_variants(tree(expr), 60_000) == []


def test_time_functions_inside_subqueries_do_not_prevent_variants() -> None:
    assert testquery.at_variants(tree("max_over_time(vector(time())[5m:1m])"), 60_000) != []


@pytest.mark.parametrize(
    ("expr", "feature"),
    [
        ('sort_by_label(x, "a")', "the experimental function sort_by_label"),
        ("ts_of_max_over_time(x[1m])", "the experimental function ts_of_max_over_time"),
        ("limitk(1, x)", "the experimental limitk aggregation"),
        ("a + fill(0) b", "the experimental fill() modifier"),
        ("step()", "the experimental function step"),
        ('x{__type__="counter"}', "the experimental __type__/__unit__ labels"),
        ("rate(x[5m] anchored)", "the experimental anchored modifier"),
        ("x[26m+4m]", "experimental duration arithmetic [26m+4m]"),
        ("x offset (1m + 1m)", "experimental duration arithmetic in offset/@"),
        ("histogram_count(h >/ 2)", "the experimental native histogram trim operator >/"),
    ],
)
def test_experimental_features_are_named(expr: str, feature: str) -> None:
    assert testquery.experimental_feature(expr, testquery.parse(expr)) == feature


@pytest.mark.parametrize(
    "expr", ["x @ start()", "rate(x[5m:1m])", 'x{a=~"[0-9]+"}', "sum by (range) (x)", "end_time"]
)
def test_stable_syntax_is_not_experimental(expr: str) -> None:
    assert testquery.experimental_feature(expr, testquery.parse(expr)) is None


def test_reads_matches_selectors_against_a_series() -> None:
    series = (("__name__", "h"), ("job", "a"))
    assert testquery.reads("sum(h)", tree("sum(h)"), series)
    assert testquery.reads('{__name__=~"h|x"}', tree('{__name__=~"h|x"}'), series)
    assert not testquery.reads('h{job="b"}', tree('h{job="b"}'), series)
    assert testquery.reads("h </ 2", None, series)  # unparsable: by metric name
    assert not testquery.reads('x + "h"', None, series)
