"""Result comparison as upstream does it: tolerance, NaN, stale markers, types."""

from __future__ import annotations

import math

from tenantwatch.promql.model import (
    STALE_NAN,
    MatrixResult,
    Series,
    StringResult,
    VectorResult,
)
from tenantwatch.promql.testcompare import almost_equal, compare
from tenantwatch.promql.testscript import Eval, parse_script


def one_eval(text: str) -> Eval:
    [cmd] = parse_script(text)
    assert isinstance(cmd, Eval)
    return cmd


def test_relative_tolerance_is_one_in_a_million() -> None:
    assert almost_equal(1_000_000.0, 1_000_000.9)
    assert not almost_equal(1_000_000.0, 1_000_003.0)
    assert almost_equal(0.1 + 0.2, 0.3)
    assert not almost_equal(0.0, 1e-300)
    assert almost_equal(math.inf, math.inf) and not almost_equal(math.inf, -math.inf)


def test_nan_equals_nan_but_a_stale_marker_only_equals_a_stale_marker() -> None:
    assert almost_equal(math.nan, math.nan)
    assert almost_equal(STALE_NAN, STALE_NAN)
    assert not almost_equal(STALE_NAN, math.nan)
    assert not almost_equal(math.nan, 1.0)


def test_range_points_are_laid_out_on_the_steps_and_blanks_are_skipped() -> None:
    ev = one_eval("eval range from 0 to 2m step 1m x\n  x 1 _ 3\n")
    labels = (("__name__", "x"),)
    assert compare(ev, MatrixResult((Series(labels, ((0, 1.0), (120_000, 3.0))),))) is None
    wrong_time = compare(ev, MatrixResult((Series(labels, ((0, 1.0), (60_000, 3.0))),)))
    assert wrong_time is not None and "expected 3 @120000, got 3 @60000" in wrong_time
    extra = compare(ev, MatrixResult((Series(labels, ((0, 1.0), (60_000, 2.0), (120_000, 3.0))),)))
    assert extra is not None and "expected 2 points" in extra


def test_too_many_expected_values_for_the_range() -> None:
    ev = one_eval("eval range from 0 to 1m step 1m x\n  x 1 2 3\n")
    got = compare(ev, MatrixResult((Series((("__name__", "x"),), ((0, 1.0), (60_000, 2.0))),)))
    assert got is not None and "has fewer steps" in got


def test_matrices_must_be_sorted_by_labels() -> None:
    ev = one_eval('eval range from 0 to 0 step 1m x\n  x{a="1"} 1\n  x{a="2"} 1\n')
    a = Series((("__name__", "x"), ("a", "1")), ((0, 1.0),))
    b = Series((("__name__", "x"), ("a", "2")), ((0, 1.0),))
    assert compare(ev, MatrixResult((a, b))) is None
    assert "must be sorted" in (compare(ev, MatrixResult((b, a))) or "")


def test_an_instant_eval_returning_a_range_vector_needs_expect_range_vector() -> None:
    ev = one_eval("eval instant at 1m x[1m]\n  x 1\n")
    got = compare(ev, MatrixResult((Series((("__name__", "x"),), ((60_000, 1.0),)),)))
    assert got is not None and "expect range vector" in got


def test_strings_and_empty_results() -> None:
    assert (
        compare(one_eval('eval instant at 0 "a"\n  expect string "a"\n'), StringResult(0, "a"))
        is None
    )
    assert "expected the string ''" in (
        compare(one_eval('eval instant at 0 "a"\n'), StringResult(0, "a")) or ""
    )
    assert compare(one_eval("eval instant at 0 x\n"), VectorResult(())) is None
