"""Go's ParseFloat and Prometheus' OpenMetrics float text, as `le`/`quantile` need them."""

from __future__ import annotations

import math

import pytest

from tenantwatch.gotext.floats import format_om_float, normalise_float, parse_float


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0x1p-2", 0.25),
        ("1_000", 1000.0),
        (".5", 0.5),
        ("-Inf", -math.inf),
        ("infinity", math.inf),
    ],
)
def test_go_syntax_parses(text: str, expected: float) -> None:
    assert parse_float(text) == expected


@pytest.mark.parametrize("text", ["1e400", "+nan", "1__0", "_1", "\uff11", "0x1", "abc", ""])
def test_what_go_rejects_is_none(text: str) -> None:
    assert parse_float(text) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (2.5, "2.5"),
        (123456.0, "123456.0"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (1e-5, "1e-05"),
        (math.inf, "+Inf"),
        (math.nan, "NaN"),
    ],
)
def test_floats_print_as_prometheus_prints_them_in_openmetrics(value: float, text: str) -> None:
    assert format_om_float(value) == text


def test_normalising_rewrites_numbers_and_keeps_anything_else() -> None:
    assert normalise_float("1") == "1.0"
    assert normalise_float("0.50") == "0.5"
    assert normalise_float("+Inf") == "+Inf"
    assert normalise_float("fast") == "fast"
