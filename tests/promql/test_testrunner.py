"""The promqltest runner: real engine and head, and wrong engines it must catch."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from tenantwatch.metrics.head import Head
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import (
    MatrixResult,
    PromQLError,
    QueryResult,
    ScalarResult,
    Series,
    SeriesSource,
    Value,
    VectorResult,
    VectorSample,
)
from tenantwatch.promql.testrunner import ScriptResult, run_file, run_script

COUNTERS = """
load 1m
  http_requests{job="api", instance="0"} 0+10x10
  http_requests{job="api", instance="1"} 0+20x10
  gauge 5 _ NaN stale 7
"""


def run(text: str, engine: type[Engine] = Engine) -> ScriptResult:
    return run_script(text, "t.test", Head, engine)


def statuses(result: ScriptResult) -> list[str]:
    return [c.status for c in result.cases]


def failure(result: ScriptResult) -> str:
    failed = [c for c in result.cases if c.status == "failed"]
    assert len(failed) == 1, result
    return failed[0].detail


def test_a_correct_script_passes_instant_and_range_evals() -> None:
    result = run(
        COUNTERS
        + """
eval instant at 5m sum by (job) (http_requests)
  {job="api"} 150

eval instant at 5m http_requests{instance="1"}
  http_requests{job="api", instance="1"} 100

eval range from 0 to 3m step 1m http_requests{instance="0"}
  http_requests{job="api", instance="0"} 0 10 20 30

eval instant at 0 gauge
  gauge 5

eval instant at 2m gauge
  gauge NaN

eval instant at 3m gauge

eval instant at 10m 1 + 1
  2

eval instant at 0 "hello"
  expect string "hello"

eval instant at 5m http_requests{instance="0"}[2m]
  expect range vector from 4m to 5m step 1m
  http_requests{job="api", instance="0"} 40 50
"""
    )
    assert statuses(result) == ["passed"] * 9
    assert (result.passed, result.failed, result.skipped) == (9, 0, 0)


class OffByOne(Engine):
    """Adds 1 to every value the real engine computes."""

    def instant(self, query: str, t: int, **kw: object) -> QueryResult:
        return _shift(super().instant(query, t))

    def range(self, query: str, start: int, end: int, step: int, **kw: object) -> QueryResult:
        return _shift(super().range(query, start, end, step))


def _shift(res: QueryResult) -> QueryResult:
    v: Value = res.value
    if isinstance(v, VectorResult):
        v = VectorResult(tuple(VectorSample(s.labels, s.t, s.v + 1) for s in v.samples))
    elif isinstance(v, MatrixResult):
        v = MatrixResult(
            tuple(Series(s.labels, tuple((t, x + 1) for t, x in s.points)) for s in v.series)
        )
    elif isinstance(v, ScalarResult):
        v = ScalarResult(v.t, v.v + 1)
    return dataclasses.replace(res, value=v)


def test_a_wrong_answer_fails_naming_file_line_expected_and_got() -> None:
    result = run(COUNTERS + "\neval instant at 5m sum(http_requests)\n  {} 150\n", OffByOne)
    detail = failure(result)
    assert detail.startswith("t.test:7: sum(http_requests)\n")
    assert "{}: expected 150, got 151" in detail
    assert "expected:\n  {} 150\ngot:\n  {} 151" in detail
    assert (result.passed, result.failed) == (0, 1)


def test_a_wrong_range_answer_fails_at_the_point() -> None:
    result = run(
        COUNTERS + '\neval range from 0 to 1m step 1m http_requests{instance="0"}\n'
        '  http_requests{job="api", instance="0"} 0 10\n',
        OffByOne,
    )
    assert "expected 0 @0, got 1 @0" in failure(result)


def test_missing_and_unexpected_series_fail() -> None:
    result = run(
        COUNTERS
        + """
eval instant at 1m http_requests
  http_requests{job="api", instance="0"} 10

eval instant at 1m http_requests{instance="0"}
  http_requests{job="api", instance="0"} 10
  http_requests{job="api", instance="7"} 10
"""
    )
    first, second = (c.detail for c in result.cases)
    assert 'unexpected http_requests{instance="1", job="api"} 20' in first
    assert 'missing http_requests{instance="7", job="api"}' in second


def test_values_compare_with_relative_tolerance_and_nan_equals_nan() -> None:
    result = run(
        COUNTERS
        + """
eval instant at 1m http_requests{instance="0"} / 3
  {job="api", instance="0"} 3.3333334

eval instant at 1m http_requests{instance="0"} / 3
  {job="api", instance="0"} 3.334

eval instant at 2m gauge
  gauge NaN
"""
    )
    assert statuses(result) == ["passed", "failed", "passed"]


class IgnoresAt(Engine):
    """A step-variance bug: drops `@` modifiers, so pinned queries move with t."""

    def instant(self, query: str, t: int, **kw: object) -> QueryResult:
        return super().instant(re.sub(r" @ [0-9.]+", "", query), t)

    def range(self, query: str, start: int, end: int, step: int, **kw: object) -> QueryResult:
        return super().range(re.sub(r" @ [0-9.]+", "", query), start, end, step)


def test_instant_evals_are_rerun_with_at_at_other_times() -> None:
    result = run(
        COUNTERS + '\neval instant at 5m http_requests{instance="0"}\n'
        '  http_requests{job="api", instance="0"} 50\n',
        IgnoresAt,
    )
    detail = failure(result)
    assert 're-run as `http_requests{instance="0"} @ 300.000` at -3000000ms' in detail


def test_at_reruns_are_skipped_for_time_dependent_functions() -> None:
    result = run(COUNTERS + "\neval instant at 5m time()\n  300\n", IgnoresAt)
    assert statuses(result) == ["passed"]


class RangeDropsSeries(Engine):
    """A range-mode bug: range queries lose their last series."""

    def range(self, query: str, start: int, end: int, step: int, **kw: object) -> QueryResult:
        res = super().range(query, start, end, step)
        assert isinstance(res.value, MatrixResult)
        return dataclasses.replace(res, value=MatrixResult(res.value.series[:-1]))


def test_instant_evals_are_checked_in_range_mode() -> None:
    result = run(
        COUNTERS + "\neval instant at 5m http_requests\n"
        '  http_requests{job="api", instance="0"} 50\n'
        '  http_requests{job="api", instance="1"} 100\n',
        RangeDropsSeries,
    )
    detail = failure(result)
    assert "as a range query from 240000ms to 360000ms step 1m, at 300000ms" in detail
    assert 'missing http_requests{instance="1", job="api"}' in detail


def test_range_mode_is_skipped_for_ordered_expectations() -> None:
    result = run(
        COUNTERS + "\neval instant at 5m sort_desc(http_requests)\n  expect ordered\n"
        '  http_requests{job="api", instance="1"} 100\n'
        '  http_requests{job="api", instance="0"} 50\n',
        RangeDropsSeries,
    )
    assert statuses(result) == ["passed"]


def test_ordered_expectations_check_positions() -> None:
    result = run(
        COUNTERS + "\neval instant at 5m sort(http_requests)\n  expect ordered\n"
        '  http_requests{job="api", instance="1"} 100\n'
        '  http_requests{job="api", instance="0"} 50\n'
    )
    assert "is at position 2, expected at 1" in failure(result)


class Scripted:
    """A fake engine answering every query with one canned result or error."""

    answer: QueryResult | Exception = QueryResult(VectorResult(()))

    def __init__(self, source: SeriesSource) -> None:
        self.source = source

    def instant(self, query: str, t: int) -> QueryResult:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def range(self, query: str, start: int, end: int, step: int) -> QueryResult:
        if isinstance(self.answer, Exception):
            raise self.answer
        value = self.answer.value
        if isinstance(value, ScalarResult):
            points = tuple((t, value.v) for t in range(start, end + 1, step))
            return QueryResult(MatrixResult((Series((), points),)))
        return QueryResult(MatrixResult(()), self.answer.warnings, self.answer.infos)


def scripted(answer: QueryResult | Exception) -> type[Scripted]:
    return type("Engine", (Scripted,), {"answer": answer})


FAIL_CASES = """
eval instant at 0 x
  expect fail msg: many-to-many matching not allowed

eval range from 0 to 1m step 1m x
  expect fail regex: many-to-\\w+

eval_fail instant at 0 x
  expected_fail_message many-to-many matching not allowed

eval_fail instant at 0 x
  expected_fail_regexp ^many

eval instant at 0 x
  expect fail msg: something else
"""


def test_expected_failures_match_the_error_message() -> None:
    error = PromQLError("execution", "many-to-many matching not allowed")
    result = run_script(FAIL_CASES, "f.test", Head, scripted(error))
    assert statuses(result) == ["passed"] * 4 + ["failed"]
    assert "expected an error matching message 'something else'" in result.cases[4].detail


def test_an_expected_failure_that_does_not_happen_fails() -> None:
    result = run_script(FAIL_CASES, "f.test", Head, scripted(QueryResult(VectorResult(()))))
    assert statuses(result) == ["failed"] * 5
    assert (
        "expected the query to fail, but it returned a vector of 0 samples"
        in result.cases[0].detail
    )


def test_an_unexpected_error_fails_and_a_crash_does_not_stop_the_run() -> None:
    text = "eval instant at 0 x\n\neval instant at 0 y\n"
    result = run_script(text, "c.test", Head, scripted(PromQLError("bad_data", "parse error")))
    assert "the query failed: parse error" in result.cases[0].detail
    crashed = run_script(text, "c.test", Head, scripted(ZeroDivisionError("boom")))
    assert statuses(crashed) == ["failed", "failed"]
    assert "crashed: ZeroDivisionError: boom" in crashed.cases[1].detail


def test_annotation_expectations() -> None:
    warned = QueryResult(VectorResult(()), warnings=("PromQL warning: quantile is NaN (1:10)",))
    text = """
eval instant at 0 x
  expect warn msg: PromQL warning: quantile is NaN (1:10)

eval instant at 0 x
  expect warn regex: quantile .* \\([0-9]+:[0-9]+\\)

eval instant at 0 x
  expect warn msg: PromQL warning: quantile is NaN (1:11)

eval instant at 0 x
  expect no_warn

eval instant at 0 x
  expect info

eval_warn instant at 0 x

eval instant at 0 x
"""
    result = run_script(text, "a.test", Head, scripted(warned))
    assert statuses(result) == [
        "passed",
        "passed",
        "failed",
        "failed",
        "failed",
        "passed",
        "passed",
    ]
    assert "expected no warnings" in result.cases[3].detail
    silent = run_script(text, "a.test", Head, scripted(QueryResult(VectorResult(()))))
    assert statuses(silent) == [
        "failed",
        "failed",
        "failed",
        "passed",
        "failed",
        "failed",
        "passed",
    ]


def test_scalar_and_type_mismatches() -> None:
    text = "eval instant at 0 x\n  5\n\neval instant at 0 x\n  {} 5\n"
    result = run_script(text, "s.test", Head, scripted(QueryResult(ScalarResult(0, 5.0))))
    assert statuses(result) == ["passed", "failed"]
    assert "expected a vector or matrix, got the scalar 5" in result.cases[1].detail


SKIPPABLE = """
load 1m
  hist {{schema:0 sum:1 count:1}}x3
  floats 1 2 3
  mix_bucket{le="1"} 1 2
  mix_bucket{le="+Inf"} 2 4

load_with_nhcb 1m
  nh_bucket{le="1"} 1 2
  nh_bucket{le="+Inf"} 2 4

eval instant at 1m hist
  hist {{schema:0 sum:1 count:1}}

eval instant at 1m histogram_count(hist)
  {} 1

eval instant at 1m sort_by_label(floats, "x")
  floats 2

eval instant at 1m limitk(1, floats)
  floats 2

eval instant at 1m histogram_count(nh)
  {} 4

eval instant at 1m histogram_quantile(0.5, nh_bucket)
  {} 1

eval instant at 1m floats
  floats 2
"""


def test_native_histograms_and_experimental_features_are_skipped_with_a_reason() -> None:
    result = run(SKIPPABLE, OffByOne)
    assert statuses(result) == ["skipped"] * 5 + ["failed", "failed"]
    reasons = [c.detail for c in result.cases[:5]]
    assert reasons[0] == "expects native histogram values"
    assert reasons[1].startswith("reads native histograms, which are not loaded (hist{}); here: ")
    assert reasons[2].startswith("uses the experimental function sort_by_label; here: ")
    assert reasons[3].startswith("uses the experimental limitk aggregation; here: ")
    assert reasons[4].startswith("reads native histograms, which are not loaded (nh{}); here: ")


def test_skippable_cases_pass_when_the_engine_gets_them_right() -> None:
    text = SKIPPABLE.replace("histogram_count(hist)\n  {} 1", "histogram_count(hist)")
    result = run(text)
    assert statuses(result)[1] == "passed"  # histograms are not loaded: nothing to count
    assert statuses(result)[0] == "skipped" and statuses(result)[5:] == ["passed", "passed"]


def test_clear_drops_data_and_native_marks() -> None:
    result = run(
        """
load 1m
  m {{sum:1 count:1}}

clear
load 1m
  m 7

eval instant at 0 m
  m 7
"""
    )
    assert statuses(result) == ["passed"]


def test_an_unreadable_script_counts_as_one_failure(tmp_path: Path) -> None:
    bad = tmp_path / "bad.test"
    bad.write_text("load 1m\n  m 1 two\n")
    result = run_file(bad, Head)
    assert (
        result.error
        == f"{bad}:2: cannot read value 'two': expected a number, NaN, Inf, stale, _, a repetition like 1x3, 0+10x5 or _x3, or a native histogram {{{{...}}}}"
    )
    assert (result.passed, result.failed, result.skipped) == (0, 1, 0)
    missing = run_file(tmp_path / "nope.test", Head)
    assert missing.failed == 1 and "cannot read the file" in (missing.error or "")
