"""Bounds on a query's text (length, nesting, operator chains, @ timestamps) and on its
evaluation (samples, subquery steps, timeout): a bad_data or execution error, never a
crash of the Rust parser, a 500 or a query that runs on after its answer."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tenantwatch.metrics.head import Head
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.limits import MAX_NESTING, MAX_OPERATORS, check_query_text
from tenantwatch.promql.model import PromQLError, labels_of
from tenantwatch.promql.parse import parse_query

T0 = 1_700_000_000_000


def _error(query: str) -> PromQLError:
    with pytest.raises(PromQLError) as caught:
        parse_query(query)
    assert caught.value.kind == "bad_data"
    return caught.value


def test_a_chain_of_5000_operators_is_refused_before_it_can_overflow_the_parser() -> None:
    # promql-parser recurses per operator: 5,000 of them overflow its stack (a segfault)
    error = _error("+".join(["up"] * 5000))
    assert f"more than {MAX_OPERATORS} operators" in error.message
    assert error.message.startswith("1:")


def test_5000_nested_calls_are_refused_with_the_position_of_the_first_level_too_deep() -> None:
    error = _error("abs(" * 5000 + "up" + ")" * 5000)
    assert f"nests deeper than {MAX_NESTING} levels" in error.message
    assert error.message.startswith(f"1:{4 * (MAX_NESTING + 1)}:")


def test_a_run_of_unary_minus_counts_each_sign() -> None:
    assert f"more than {MAX_OPERATORS}" in _error("-" * 300 + "1").message


@pytest.mark.parametrize("value", ["1e15", "-1e15", "-1", "253402300800", "1e20"])
def test_at_timestamps_outside_years_1970_to_9999_are_refused(value: str) -> None:
    error = _error(f"up @ {value}")
    assert f"timestamp out of bounds for @ modifier: {value}" in error.message


@pytest.mark.parametrize(
    "query",
    [
        "up @ 1700000000",
        "rate(http_requests_total[5m] @ 253402300799)",
        "up @ start()",
        'up{path=~"(((((((((((("}',  # operators and brackets inside strings do not count
        'sum by (le) (rate(x_bucket{job="a-b+c"}[5m])) / ignoring(le) group_left sum(y)',
        "a and b or c unless d",
    ],
)
def test_ordinary_queries_pass_the_text_checks(query: str) -> None:
    check_query_text(query)


def test_an_overlong_query_is_refused_before_parsing() -> None:
    error = _error("up or " * 20_000 + "up")
    assert "characters long" in error.message or "operators" in error.message


def _head(series: int, points: int) -> Head:
    head = Head()
    for s in range(series):
        labels = labels_of({"__name__": "m", "i": str(s)})
        for p in range(points):
            head.append(labels, T0 - p * 15_000, float(p))
    return head


def test_a_subquery_of_billions_of_steps_is_refused_before_allocating_them() -> None:
    engine = Engine(_head(1, 10), max_samples=1_000_000)
    with pytest.raises(PromQLError) as caught:
        engine.instant("count_over_time(m[100000d:1s])", T0)
    assert caught.value.kind == "execution"
    assert "too many samples into memory in subquery evaluation" in caught.value.message


def test_max_samples_counts_the_vector_at_every_step_as_prometheus_does() -> None:
    engine = Engine(_head(50, 40), max_samples=10_000)
    engine.range("m", T0 - 10 * 60_000, T0, 60_000)  # 50 series x 11 steps: fine
    with pytest.raises(PromQLError) as caught:
        engine.range("m", T0 - 600 * 15_000, T0, 15_000)  # 50 x 601 > 10,000
    assert caught.value.message == (
        "query processing would load too many samples into memory in query execution"
    )


def test_evaluation_stops_at_the_callers_timeout() -> None:
    engine = Engine(_head(200, 200))
    query = "sum(rate(m[5m:15s])) " + " + sum(rate(m[5m:15s]))" * 60
    started = time.monotonic()
    with pytest.raises(PromQLError) as caught:
        engine.range(query, T0 - 3 * 3600_000, T0, 15_000, timeout_s=0.2)
    assert caught.value.kind == "timeout"
    assert time.monotonic() - started < 5
    assert np.isfinite(started)


@pytest.mark.parametrize("query", ["é", "up + é", "ünless", "日本"])
def test_letters_beyond_ascii_are_left_to_the_parser(query: str) -> None:
    check_query_text(query)
