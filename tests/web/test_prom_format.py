"""Prometheus' API parameters and JSON, as pure functions."""

from __future__ import annotations

import json
import math

import pytest

from tenantwatch.promql.model import (
    STALE_NAN,
    MatrixResult,
    PromQLError,
    ScalarResult,
    Series,
    StringResult,
    VectorResult,
    VectorSample,
)
from tenantwatch.web.prom_format import (
    MAX_TIME_MS,
    MAX_TIME_TEXT,
    MIN_TIME_MS,
    MIN_TIME_TEXT,
    check_range,
    failure,
    parse_duration_ms,
    parse_limit,
    parse_time,
    query_data,
    sort_matrix,
    status_code,
    success,
    timestamp,
    truncate,
    unescape_label_name,
)

UP = (("__name__", "up"), ("job", "api"))


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1700000000", 1_700_000_000_000),
        ("1700000000.5", 1_700_000_000_500),
        ("1435781451.781", 1_435_781_451_781),
        ("1.0005", 1000),  # rounded to the millisecond as Go's math.Round: 0.49999.. -> 0
        ("-1.5", -1500),
        ("1e3", 1_000_000),
        ("0", 0),
        ("2015-07-01T20:10:51.781Z", 1_435_781_451_781),
        ("2015-07-01T20:10:51Z", 1_435_781_451_000),
        ("2015-07-01T22:10:51.7819999+02:00", 1_435_781_451_781),
        ("1969-12-31T23:59:59Z", -1000),
        (MIN_TIME_TEXT, MIN_TIME_MS),
        (MAX_TIME_TEXT, MAX_TIME_MS),
    ],
)
def test_it_parses_times_as_prometheus_does(text: str, ms: int) -> None:
    assert parse_time(text, "time") == ms


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("yesterday", "cannot parse 'yesterday' to a valid timestamp; write unix seconds"),
        ("2015-02-30T00:00:00Z", "day is out of range"),
        ("2015-07-01 20:10:51Z", "cannot parse"),
        ("NaN", "cannot parse"),
        ("1e300", "outside the time range"),
        ("", "required"),
    ],
)
def test_a_bad_time_names_the_parameter_and_the_fix(text: str, reason: str) -> None:
    with pytest.raises(PromQLError) as err:
        parse_time(text, "start")
    assert err.value.kind == "bad_data"
    assert err.value.message.startswith('invalid parameter "start": ')
    assert reason in err.value.message


@pytest.mark.parametrize(
    ("text", "ms"),
    [("15", 15_000), ("0.5", 500), ("15s", 15_000), ("1h30m", 5_400_000), ("250ms", 250)],
)
def test_it_parses_durations_as_seconds_or_units(text: str, ms: int) -> None:
    assert parse_duration_ms(text, "step") == ms


@pytest.mark.parametrize("text", ["fast", "5 m", "1m1h", " 5m", "-5m"])
def test_a_bad_duration_says_how_to_write_one(text: str) -> None:
    with pytest.raises(PromQLError) as err:
        parse_duration_ms(text, "step")
    assert err.value.message == (
        f'invalid parameter "step": cannot parse {text!r} to a valid duration; '
        "write seconds (15, 0.5) or a duration (15s, 5m, 1h30m)"
    )


def test_a_duration_that_overflows_int64_nanoseconds_is_refused() -> None:
    with pytest.raises(PromQLError, match="overflows int64"):
        parse_duration_ms("1e10", "timeout")
    with pytest.raises(PromQLError, match="overflows int64"):
        parse_duration_ms("999y", "timeout")


def test_limit_is_a_non_negative_whole_number() -> None:
    assert parse_limit("") == 0
    assert parse_limit("25") == 25
    with pytest.raises(PromQLError, match="limit must be non-negative"):
        parse_limit("-1")
    with pytest.raises(PromQLError, match="'ten' is not a whole number"):
        parse_limit("ten")


def test_range_checks_use_prometheus_messages() -> None:
    check_range(0, 11_000_000, 1000)  # exactly 11,000 steps is allowed
    cases = [
        ((10, 0, 1), 'invalid parameter "end": end timestamp must not be before start time'),
        (
            (0, 10, 0),
            'invalid parameter "step": zero or negative query resolution step widths are not '
            "accepted. Try a positive integer",
        ),
        (
            (0, 11_001_000, 1000),
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
            "query resolution (?step=XX)",
        ),
    ]
    for args, message in cases:
        with pytest.raises(PromQLError) as err:
            check_range(*args)
        assert (err.value.kind, err.value.message) == ("bad_data", message)
    with pytest.raises(PromQLError, match="zero or negative"):
        check_range(0, 10, -5)


def test_timestamps_are_whole_seconds_or_millisecond_fractions() -> None:
    assert timestamp(1_700_000_000_000) == 1_700_000_000
    assert isinstance(timestamp(1_700_000_000_000), int)
    assert timestamp(1_435_781_451_781) == 1435781451.781
    assert json.dumps(timestamp(1_435_781_451_781)) == "1435781451.781"
    assert timestamp(-1500) == -1.5


def test_vector_json_matches_prometheus() -> None:
    value = VectorResult(
        (VectorSample(UP, 1_435_781_451_781, 1.0), VectorSample((("a", "b"),), 0, math.inf))
    )
    assert query_data(value) == {
        "resultType": "vector",
        "result": [
            {"metric": {"__name__": "up", "job": "api"}, "value": [1435781451.781, "1"]},
            {"metric": {"a": "b"}, "value": [0, "+Inf"]},
        ],
    }


def test_vectors_keep_the_engines_order_and_matrices_are_sorted_by_labels() -> None:
    b, a = (("x", "b"),), (("x", "a"),)
    vector = VectorResult((VectorSample(b, 0, 1.0), VectorSample(a, 0, 2.0)))
    assert sort_matrix(vector) is vector
    matrix = MatrixResult((Series(b, ((0, 1.0),)), Series(a, ((0, 2.0), (15_000, STALE_NAN)))))
    assert query_data(sort_matrix(matrix)) == {
        "resultType": "matrix",
        "result": [
            {"metric": {"x": "a"}, "values": [[0, "2"], [15, "NaN"]]},
            {"metric": {"x": "b"}, "values": [[0, "1"]]},
        ],
    }


def test_scalar_and_string_json_matches_prometheus() -> None:
    assert query_data(ScalarResult(1_000, 0.1)) == {"resultType": "scalar", "result": [1, "0.1"]}
    assert query_data(StringResult(1_500, "hi")) == {"resultType": "string", "result": [1.5, "hi"]}


def test_truncate_keeps_the_first_series_and_says_so() -> None:
    vector = VectorResult(tuple(VectorSample(((("i", str(i)),)), 0, i) for i in range(3)))
    cut, truncated = truncate(vector, 2)
    assert truncated and isinstance(cut, VectorResult) and len(cut.samples) == 2
    assert truncate(vector, 3) == (vector, False)
    assert truncate(vector, 0) == (vector, False)
    scalar = ScalarResult(0, 1.0)
    assert truncate(scalar, 1) == (scalar, False)


def test_success_leaves_out_empty_notes_and_caps_them_at_ten() -> None:
    assert success([]) == {"status": "success", "data": []}
    body = success("x", [f"w{i}" for i in range(12)], ["i"])
    assert body["warnings"] == [*(f"w{i}" for i in range(10)), "2 more warning annotations omitted"]
    assert body["infos"] == ["i"]


def test_errors_have_prometheus_shape_and_status() -> None:
    assert failure("bad_data", "x") == {"status": "error", "errorType": "bad_data", "error": "x"}
    codes = {k: status_code(k) for k in ("bad_data", "execution", "timeout", "canceled")}
    assert codes == {"bad_data": 400, "execution": 422, "timeout": 503, "canceled": 503}
    assert status_code("internal") == 500


@pytest.mark.parametrize(
    ("name", "plain"),
    [
        ("job", "job"),
        ("U__a_2e_b", "a.b"),
        ("U__my__label", "my_label"),
        ("U___1f600_", "\U0001f600"),
        ("U__broken_zz_", "U__broken_zz_"),
        ("U__open_2e", "U__open_2e"),
        ("U___d800_", "U___d800_"),
    ],
)
def test_escaped_label_names_are_decoded_as_prometheus_does(name: str, plain: str) -> None:
    assert unescape_label_name(name) == plain
