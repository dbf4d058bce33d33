"""The engine's own contract: enforcement, result shapes, errors with positions."""

from __future__ import annotations

import math

import pytest

from tenantwatch.metrics.head import Head
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import (
    STALE_NAN,
    Matcher,
    MatrixResult,
    PromQLError,
    ScalarResult,
    StringResult,
    VectorResult,
    labels_of,
)

M = 60_000


def _head() -> Head:
    head = Head()
    for tenant, rate in (("alpha", 1.0), ("bravo", 3.0)):
        for method in ("GET", "POST"):
            labels = labels_of({"__name__": "requests_total", "tenant": tenant, "method": method})
            for i in range(21):
                head.append(labels, i * 15_000, i * 15 * rate)
    for t in range(0, 6 * M, M):
        head.append(labels_of({"__name__": "limit", "tenant": "alpha"}), t, 10.0)
        head.append(labels_of({"__name__": "limit", "tenant": "bravo"}), t, 20.0)
    head.append(labels_of({"__name__": "once", "tenant": "alpha"}), 0, 1.0)
    return head


@pytest.fixture
def engine() -> Engine:
    return Engine(_head())


def _vector(result: object) -> dict[str, float]:
    assert isinstance(result, VectorResult)
    return {",".join(f"{k}={v}" for k, v in s.labels): s.v for s in result.samples}


def test_rate_sum_by_tenant(engine: Engine) -> None:
    res = engine.instant("sum by (tenant) (rate(requests_total[1m]))", 5 * M)
    assert _vector(res.value) == pytest.approx({"tenant=alpha": 2.0, "tenant=bravo": 6.0})


def test_enforced_matcher_applies_to_every_selector(engine: Engine) -> None:
    alpha = [Matcher.of("tenant", "=", "alpha")]
    res = engine.instant('requests_total{tenant="bravo"}', 5 * M, enforce=alpha)
    assert _vector(res.value) == {}
    res = engine.instant('{__name__=~".+"}', 5 * M, enforce=alpha)
    assert {dict(s.labels)["tenant"] for s in res.value.samples} == {"alpha"}  # type: ignore[union-attr]
    res = engine.instant("sum(rate(requests_total[1m])) / sum(limit)", 5 * M, enforce=alpha)
    assert _vector(res.value) == pytest.approx({"": 0.2})
    # subqueries and absent() see only the tenant's series too
    res = engine.instant('absent(limit{tenant="bravo"})', 5 * M, enforce=alpha)
    assert _vector(res.value) == {"tenant=bravo": 1.0}
    res = engine.instant("max_over_time(sum(requests_total)[2m:30s])", 5 * M, enforce=alpha)
    assert _vector(res.value) == pytest.approx({"": 600.0})


def test_range_query_steps_and_lookback(engine: Engine) -> None:
    res = engine.range('once{tenant="alpha"}', 0, 10 * M, M)
    assert isinstance(res.value, MatrixResult)
    (series,) = res.value.series
    # the only sample is at 0: visible while younger than the 5 m lookback (left-open)
    assert [t for t, _ in series.points] == [0, M, 2 * M, 3 * M, 4 * M]


def test_stale_marker_ends_a_series() -> None:
    head = Head()
    labels = labels_of({"__name__": "x"})
    head.append(labels, 0, 1.0)
    head.append(labels, 10_000, STALE_NAN)
    engine = Engine(head)
    assert _vector(engine.instant("x", 5_000).value) == {"__name__=x": 1.0}
    assert _vector(engine.instant("x", 20_000).value) == {}


def test_scalar_string_and_matrix_results(engine: Engine) -> None:
    scalar = engine.instant("1 + 2 * 3", 0).value
    assert isinstance(scalar, ScalarResult) and scalar.v == 7.0
    string = engine.instant('"hello"', 0).value
    assert isinstance(string, StringResult) and string.v == "hello"
    matrix = engine.instant('requests_total{tenant="alpha",method="GET"}[1m]', 5 * M).value
    assert isinstance(matrix, MatrixResult)
    assert [t for t, _ in matrix.series[0].points] == [255_000, 270_000, 285_000, 300_000]


def test_range_query_refuses_range_vectors(engine: Engine) -> None:
    with pytest.raises(PromQLError) as err:
        engine.range("requests_total[1m]", 0, M, 15_000)
    assert err.value.kind == "bad_data"
    assert "range vector" in err.value.message


@pytest.mark.parametrize(
    ("query", "where"),
    [("sum(rate(x[5m])", "1:4"), ("x[5x]", "1:3"), ("foo(1)", "1:1"), ("", "1:1")],
)
def test_parse_errors_name_the_position(engine: Engine, query: str, where: str) -> None:
    with pytest.raises(PromQLError) as err:
        engine.instant(query, 0)
    assert err.value.kind == "bad_data"
    assert err.value.message.startswith(f"{where}: parse error")


def test_many_to_many_matching_is_an_execution_error(engine: Engine) -> None:
    with pytest.raises(PromQLError) as err:
        engine.instant("requests_total / on(tenant) requests_total", 5 * M)
    assert err.value.kind == "execution"
    assert "many-to-many" in err.value.message or "multiple matches" in err.value.message


def test_group_left_copies_one_side_labels(engine: Engine) -> None:
    res = engine.instant("rate(requests_total[1m]) / on(tenant) group_left() limit", 5 * M)
    got = _vector(res.value)
    assert got == pytest.approx(
        {
            "method=GET,tenant=alpha": 0.1,
            "method=POST,tenant=alpha": 0.1,
            "method=GET,tenant=bravo": 0.15,
            "method=POST,tenant=bravo": 0.15,
        }
    )


def test_too_many_samples_is_refused() -> None:
    engine = Engine(_head(), max_samples=10)
    with pytest.raises(PromQLError) as err:
        engine.instant("sum(requests_total)", 5 * M)
    assert "too many samples" in err.value.message


def test_histogram_quantile_on_classic_buckets() -> None:
    head = Head()
    for le, count in (("0.1", 50.0), ("0.5", 90.0), ("+Inf", 100.0)):
        head.append(labels_of({"__name__": "d_bucket", "le": le}), 0, count)
    res = Engine(head).instant("histogram_quantile(0.7, d_bucket)", 0)
    (sample,) = res.value.samples  # type: ignore[union-attr]
    assert math.isclose(sample.v, 0.1 + 0.4 * (70 - 50) / 40)
