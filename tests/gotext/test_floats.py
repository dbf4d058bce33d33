"""Go's float text: strconv's FormatFloat and ParseFloat, and the forms Prometheus writes."""

from __future__ import annotations

import math

import pytest

from tenantwatch.gotext.floats import (
    format_e,
    format_f,
    format_g,
    format_g_prec,
    format_g_wide,
    format_json,
    format_om_float,
    normalise_float,
    parse_float,
)
from tenantwatch.promql.model import STALE_NAN

BELOW_1E23 = 99999999999999974834176.0
ABOVE_1E23 = 100000000000000008388608.0

# Go's strconv ftoa_test.go table: the rows with the shortest precision (-1)
GO_SHORTEST = [
    (1.0, "e", "1e+00"),
    (1.0, "f", "1"),
    (1.0, "g", "1"),
    (20.0, "g", "20"),
    (1234567.8, "g", "1.2345678e+06"),
    (200000.0, "g", "200000"),
    (2000000.0, "g", "2e+06"),
    (0.0, "g", "0"),
    (-1.0, "g", "-1"),
    (12.0, "g", "12"),
    (123456700.0, "g", "1.234567e+08"),
    (1e23, "e", "1e+23"),
    (1e23, "f", "100000000000000000000000"),
    (1e23, "g", "1e+23"),
    (BELOW_1E23, "e", "9.999999999999997e+22"),
    (BELOW_1E23, "f", "99999999999999970000000"),
    (BELOW_1E23, "g", "9.999999999999997e+22"),
    (ABOVE_1E23, "e", "1.0000000000000001e+23"),
    (ABOVE_1E23, "f", "100000000000000010000000"),
    (ABOVE_1E23, "g", "1.0000000000000001e+23"),
    (5e-324, "g", "5e-324"),
    (-5e-324, "g", "-5e-324"),
    (32.0, "g", "32"),
    (math.nan, "g", "NaN"),
    (-math.nan, "g", "NaN"),
    (math.inf, "g", "+Inf"),
    (-math.inf, "g", "-Inf"),
    (2.2250738585072012e-308, "g", "2.2250738585072014e-308"),
    (2.2250738585072011e-308, "g", "2.225073858507201e-308"),
    (383260575764816448.0, "g", "3.8326057576481645e+17"),
    (498484681984085570.0, "f", "498484681984085570"),
    (-5.8339553793802237e23, "g", "-5.8339553793802237e+23"),
]

_FORMATS = {"e": format_e, "f": format_f, "g": format_g}


@pytest.mark.parametrize(("value", "fmt", "text"), GO_SHORTEST)
def test_shortest_formats_match_gos_strconv_table(value: float, fmt: str, text: str) -> None:
    assert _FORMATS[fmt](value) == text


# Go's strconv ftoa_test.go table: 'g' with a precision, as fmt's %.<n>g writes it
@pytest.mark.parametrize(
    ("value", "precision", "text"),
    [
        (1.0, 5, "1"),
        (400.0, 2, "4e+02"),
        (40.0, 2, "40"),
        (0.4, 2, "0.4"),
        (0.0004, 2, "0.0004"),
        (0.00004, 2, "4e-05"),
        (0.000004, 2, "4e-06"),
        (0.0, 5, "0"),
        (-1.0, 5, "-1"),
        (123456700.0, 5, "1.2346e+08"),
        (1.2345e6, 5, "1.2345e+06"),
        (1e23, 17, "9.9999999999999992e+22"),
        (BELOW_1E23, 17, "9.9999999999999975e+22"),
        (ABOVE_1E23, 17, "1.0000000000000001e+23"),
        (32.0, 0, "3e+01"),
        (math.inf, 4, "+Inf"),
    ],
)
def test_g_with_a_precision_matches_gos_strconv_table(
    value: float, precision: int, text: str
) -> None:
    assert format_g_prec(value, precision) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (100000.0, "100000"),
        (1e21, "1e+21"),
        (1e-05, "1e-05"),
        (0.0001, "0.0001"),
        (-2.5, "-2.5"),
        (123456789.0, "1.23456789e+08"),
        (1.5e300, "1.5e+300"),
        (-0.0, "-0"),
    ],
)
def test_g_is_gos_percent_v(value: float, text: str) -> None:
    assert format_g(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (9.0, "9e+00"),
        (0.25, "2.5e-01"),
        (1234.5, "1.2345e+03"),
        (0.0, "0e+00"),
        (-0.0, "-0e+00"),
        (math.inf, "+Inf"),
        (math.nan, "NaN"),
    ],
)
def test_e_writes_one_digit_before_the_point(value: float, text: str) -> None:
    assert format_e(value) == text


def test_upper_e_is_gos_capital_e_format() -> None:
    assert [format_e(v, upper=True) for v in (25.0, 0.0, 1e-7, math.nan)] == [
        "2.5E+01",
        "0E+00",
        "1E-07",
        "NaN",
    ]


def test_f_never_writes_an_exponent() -> None:
    assert format_f(1e21) == "1000000000000000000000"
    assert format_f(-0.25) == "-0.25"
    assert format_f(1e-7) == "0.0000001"
    assert format_f(math.nan) == "NaN"


@pytest.mark.parametrize(
    ("v", "text"),
    [
        (1.0, "1"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (1e-5, "0.00001"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-07"),
        (1e17, "100000000000000000"),
        (1.2345678901234568e17, "123456789012345680"),
        (1e21, "1e+21"),
        (0.0, "0"),
        (-0.0, "-0"),
        (math.nan, "NaN"),
        (STALE_NAN, "NaN"),
        (-math.inf, "-Inf"),
    ],
)
def test_json_values_are_written_as_prometheus_writes_them(v: float, text: str) -> None:
    assert format_json(v) == text


def test_the_wide_g_spells_out_numbers_from_a_million_to_1e16() -> None:
    assert format_g_wide(1e6) == "1000000"
    assert format_g_wide(-2.5e15) == "-2500000000000000"
    assert format_g_wide(1e16) == "1e+16"
    assert format_g_wide(1.5) == "1.5"
    assert format_g_wide(1e-5) == "1e-05"


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
