"""Prometheus text format 0.0.4 and OpenMetrics 1.0 parsing, checked against Prometheus 3."""

from __future__ import annotations

import contextlib
import math
import random
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram, Info, Summary
from prometheus_client import generate_latest as generate_text
from prometheus_client.core import GaugeHistogramMetricFamily, Metric
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.registry import Collector

from tenantwatch.metrics.exposition import (
    ExpositionError,
    ParsedSample,
    SeriesCache,
    decode_exposition,
    is_openmetrics,
    metric_metadata,
    metric_types,
    parse_lines_cached,
    parse_text,
)
from tenantwatch.types import Labels


def series(data: str, *, openmetrics: bool = False) -> dict[Labels, float]:
    return {s.labels: s.value for s in parse_text(data, openmetrics=openmetrics)}


def L(name: str, **labels: str) -> Labels:
    return tuple(sorted([("__name__", name), *labels.items()]))


def error(data: str, *, openmetrics: bool = False) -> ExpositionError:
    with pytest.raises(ExpositionError) as caught:
        parse_text(data, openmetrics=openmetrics)
    return caught.value


# --- text format ---------------------------------------------------------------------------


def test_it_parses_prometheus_text_format_with_all_its_spacing_forms() -> None:
    # Lines taken from Prometheus' own promparse_test.go input.
    data = """# HELP go_gc_duration_seconds A summary of the GC invocation durations.
# \tTYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 4.9351e-05
go_gc_duration_seconds{quantile="0.25",} 7.424100000000001e-05
go_gc_duration_seconds{ quantile="0.9", a="b"} 8.3835e-05
# Hrandom comment starting with prefix of HELP
#
# HELP nohelp1
go_gc_duration_seconds { quantile = "2.0" a = "b" } 8.3835e-05
some:aggregate:rate5m{a_b="c"}\t1
go_goroutines 33  \t123123
_metric_starting_with_underscore 1
testmetric{_label_starting_with_underscore="foo"} 1
testmetric{label="\\"bar\\""} 1

  indented_metric 7
"""
    got = parse_text(data)
    assert [(s.labels, s.value, s.timestamp_ms) for s in got] == [
        (L("go_gc_duration_seconds", quantile="0.0"), 4.9351e-05, None),
        (L("go_gc_duration_seconds", quantile="0.25"), 7.424100000000001e-05, None),
        (L("go_gc_duration_seconds", quantile="0.9", a="b"), 8.3835e-05, None),
        (L("go_gc_duration_seconds", quantile="2.0", a="b"), 8.3835e-05, None),
        (L("some:aggregate:rate5m", a_b="c"), 1.0, None),
        (L("go_goroutines"), 33.0, 123123),
        (L("_metric_starting_with_underscore"), 1.0, None),
        (L("testmetric", _label_starting_with_underscore="foo"), 1.0, None),
        (L("testmetric", label='"bar"'), 1.0, None),
        (L("indented_metric"), 7.0, None),
    ]
    assert all(isinstance(s, ParsedSample) for s in got)


def test_label_values_unescape_backslash_quote_and_newline_only() -> None:
    got = series(r'm{a="C:\\DIR\\F.TXT",b="say \"hi\"",c="x\ny",d="keep \t and \q"} 1')
    assert got == {
        L("m", a="C:\\DIR\\F.TXT", b='say "hi"', c="x\ny", d="keep \\t and \\q"): 1.0,
    }


def test_label_values_may_hold_braces_spaces_commas_and_unicode() -> None:
    got = series('m{a="} {x=\\"1\\"}, y",b="Heizölrückstoß 10€"} 2')
    assert got == {L("m", a='} {x="1"}, y', b="Heizölrückstoß 10€"): 2.0}


def test_quoted_utf8_metric_and_label_names_are_accepted_as_prometheus_3_does() -> None:
    got = series('{"my.metric", "label.name"="v", plain="w"} 3\n{"other.metric"} 4')
    assert got == {
        (("__name__", "my.metric"), ("label.name", "v"), ("plain", "w")): 3.0,
        (("__name__", "other.metric"),): 4.0,
    }


def test_empty_label_values_are_dropped() -> None:
    assert series('m{a="",b="x"} 1') == {L("m", b="x"): 1.0}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1.0),
        ("-2.5", -2.5),
        ("1e-3", 1e-3),
        ("1.5E+3", 1500.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("00012", 12.0),
        ("+Inf", math.inf),
        ("-Inf", -math.inf),
        ("Inf", math.inf),
        ("infinity", math.inf),
        ("1e-400", 0.0),
        ("4.9e-324", 5e-324),
    ],
)
def test_values_read_as_go_parsefloat_reads_them(text: str, expected: float) -> None:
    (sample,) = parse_text(f"m {text}")
    assert sample.value == expected


def test_nan_values_are_kept_as_nan() -> None:
    for text in ("NaN", "nan", "NAN"):
        (sample,) = parse_text(f"m {text}")
        assert math.isnan(sample.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0x1p3", "invalid value '0x1p3'"),
        ("0x1A", "invalid value"),
        ("1_000", "invalid value '1_000'"),
        ("+nan", "invalid value '+nan'"),
        ("-NaN", "invalid value"),
        ("true", "invalid value 'true'"),
        ("1e400", "out of range"),
        ("-1e400", "out of range"),
        ("\u0661", "invalid value"),  # an Arabic-Indic digit: Python's float() takes it
        ("1\x0c", "invalid value"),
    ],
)
def test_values_go_rejects_are_errors(text: str, reason: str) -> None:
    exc = error(f"ok 1\nm {text}\n")
    assert exc.line == 2
    assert reason in exc.reason
    assert str(exc) == f"line 2: {exc.reason}"


def test_text_timestamps_are_integer_milliseconds() -> None:
    (sample,) = parse_text("m 1 1395066363000")
    assert sample.timestamp_ms == 1395066363000
    assert "integer milliseconds" in error("m 1 1.5").reason
    assert "timestamp" in error("m 1 -5").reason
    assert "out of range" in error("m 1 99999999999999999999").reason


def test_help_and_type_lines_give_metric_types() -> None:
    data = """# HELP a_total A \\\\ help\\nline.
# TYPE a_total counter
# TYPE b gauge
# TYPE c untyped
# TYPE d histogram
# TYPE e summary
# a comment
"""
    assert metric_types(data) == {
        "a_total": "counter",
        "b": "gauge",
        "c": "unknown",
        "d": "histogram",
        "e": "summary",
    }
    assert metric_metadata(data)["a_total"].help == "A \\ help\nline."


def test_metadata_is_returned_with_cached_parses() -> None:
    data = "# HELP x The x.\n# TYPE x gauge\nx 1\n"
    parsed = parse_lines_cached(data, SeriesCache())
    assert parsed.metadata["x"].type == "gauge"
    assert parsed.metadata["x"].help == "The x."


def test_a_crlf_exposition_is_rejected_with_a_hint() -> None:
    exc = error("m 1\r\nn 2\r\n")
    assert exc.line == 1
    assert "carriage return" in exc.reason


# --- errors, each with its line --------------------------------------------------------------

TEXT_ERRORS = [
    ("a", 1, "expected a value"),
    ("a{b='c'} 1", 1, "expected a quoted value after b="),
    ("a{b=", 1, "expected a quoted value"),
    ('a{b="c} 1', 1, "unterminated value of label 'b'"),
    ('{"a", "b = "c"}', 1, "expected '='"),
    ('something_weird{problem="', 1, "unterminated value"),
    ('empty_label_name{=""} 0', 1, "expected a label name"),
    ("{A}0", 1, "expected '=' after label name 'A'"),
    ('{a="ok"} 1', 1, "metric name not set"),
    ('{"a","b"} 1', 1, "metric name already set"),
    ('m{"a"} 1', 1, "metric name already set"),
    ('{""} 1', 1, "metric name is empty"),
    ('m{""="v"} 1', 1, "label name is empty"),
    ("1abc 1", 1, "expected a metric name"),
    ("foo-bar 1", 1, "metric names may only hold"),
    ('m{a-b="1"} 1', 1, "expected '=' after label name 'a'"),
    ('m{a="1",a="2"} 1', 1, 'label name "a" is not unique'),
    ('m{a="1",a=""} 1', 1, 'label name "a" is not unique'),
    ('m{__name__="x"} 1', 1, 'label name "__name__" is not unique'),
    ('m{a="1",,b="2"} 1', 1, "expected a label name"),
    ('m{a="1"}{b="2"} 1', 1, "expected a value"),
    ("m 1 2 3", 1, "after the timestamp"),
    ("m 1 2x", 1, "invalid timestamp '2x'"),
    ("m 1{", 1, "invalid timestamp '{'"),
    ("# TYPE #", 1, "expected a metric name after TYPE"),
    ("# HELP #", 1, "expected a metric name after HELP"),
    ("# TYPE m gauge\n# TYPE m bogus", 2, "invalid metric type 'bogus'"),
    ("# TYPE m counter extra", 1, "invalid metric type 'counter extra'"),
    ("ok 1\nok2 2\n\nbad bad", 4, "invalid value 'bad'"),
    ("m\x00 1", 1, "invalid value"),
]


@pytest.mark.parametrize(("data", "line", "fragment"), TEXT_ERRORS)
def test_text_errors_name_their_line_and_reason(data: str, line: int, fragment: str) -> None:
    exc = error(data)
    assert exc.line == line
    assert fragment in exc.reason
    assert str(exc).startswith(f"line {line}: ")


def test_errors_report_the_first_bad_line() -> None:
    exc = error("good 1\nbad{ 1\nworse\n")
    assert exc.line == 2


def test_a_series_repeated_in_one_exposition_is_an_error_naming_both_lines() -> None:
    exc = error('a 1\nm{x="1",y="2"} 1\nb 2\nm{y="2",x="1"} 2\n')
    assert exc.line == 4
    assert "duplicate sample for timestamp" in exc.reason
    assert 'm{x="1",y="2"}' in exc.reason
    assert "line 2" in exc.reason


def test_a_repeated_series_with_distinct_timestamps_is_fine_and_same_timestamp_is_not() -> None:
    assert len(parse_text("m 1 1000\nm 2 2000\nm 3\n")) == 3
    exc = error("m 1 1000\nm 2 2000\nm 3 1000\n")
    assert exc.line == 3
    assert "at timestamp 1000" in exc.reason


def test_the_scraper_parse_keeps_the_first_of_repeated_series_and_counts_the_rest() -> None:
    parsed = parse_lines_cached("m 1\nn 5\nm 2\nm 3\n", SeriesCache())
    assert list(zip(parsed.labels, parsed.values, strict=True)) == [(L("m"), 1.0), (L("n"), 5.0)]
    assert parsed.duplicates == 2


def test_invalid_utf8_is_reported_with_its_line() -> None:
    assert decode_exposition(b"m 1\n") == "m 1\n"
    with pytest.raises(ExpositionError) as caught:
        decode_exposition(b'm 1\nn{a="\xff"} 2\n')
    assert caught.value.line == 2
    assert "UTF-8" in caught.value.reason


# --- le and quantile normalisation (Prometheus 3 migration guide) ---------------------------

# Pairs printed by Go's strconv.FormatFloat(f, 'g', -1, 64), as FormatOpenMetricsFloat uses.
GO_FORMATTED = [
    ("1", "1.0"),
    ("0", "0.0"),
    ("-0", "0.0"),
    ("-1", "-1.0"),
    ("100000", "100000.0"),
    ("1e6", "1e+06"),
    ("1000000", "1e+06"),
    ("123456789", "1.23456789e+08"),
    ("0.0001", "0.0001"),
    ("0.00001", "1e-05"),
    ("2.5", "2.5"),
    ("1e21", "1e+21"),
    ("0.1", "0.1"),
    ("0.3333333333333333", "0.3333333333333333"),
    ("5e-324", "5e-324"),
    ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ("12345.678", "12345.678"),
    ("999999", "999999.0"),
    ("-2.5e-7", "-2.5e-07"),
    ("+Inf", "+Inf"),
    ("inf", "+Inf"),
    ("-Inf", "-Inf"),
    ("NaN", "NaN"),
    ("0x1p-2", "0.25"),  # hex floats are Go ParseFloat syntax, allowed here
    ("1_000", "1000.0"),  # and so are underscores between digits
    ("1__0", "1__0"),  # unparsable values stay as they are
    ("1e400", "1e400"),
    ("fast", "fast"),
    ("+nan", "+nan"),
]


@pytest.mark.parametrize(("raw", "normalised"), GO_FORMATTED)
def test_histogram_le_values_are_normalised_like_prometheus_3(raw: str, normalised: str) -> None:
    data = f'# TYPE h histogram\nh_bucket{{le="{raw}"}} 1\n'
    assert series(data) == {L("h_bucket", le=normalised): 1.0}


def test_summary_quantiles_are_normalised_and_other_labels_are_not() -> None:
    data = '# TYPE s summary\ns{quantile="1",le="1",x="1"} 1\ns{quantile="0.5"} 2\n'
    assert series(data) == {
        L("s", quantile="1.0", le="1", x="1"): 1.0,
        L("s", quantile="0.5"): 2.0,
    }


def test_normalisation_follows_the_last_type_line_as_prometheus_does() -> None:
    data = """h_bucket{le="1",before="type"} 1
# TYPE c counter
c{le="1",quantile="1"} 2
# TYPE h histogram
h_bucket{le="1"} 3
other{le="10"} 4
# TYPE g gauge
g{le="1"} 5
"""
    assert [s.labels for s in parse_text(data)] == [
        L("h_bucket", le="1", before="type"),
        L("c", le="1", quantile="1"),
        L("h_bucket", le="1.0"),
        L("other", le="10.0"),
        L("g", le="1"),
    ]


def test_normalised_le_values_that_collide_are_duplicates() -> None:
    exc = error('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1.0"} 1\n')
    assert exc.line == 3


# --- OpenMetrics -----------------------------------------------------------------------------


def test_openmetrics_counters_keep_total_and_created_series() -> None:
    data = """# TYPE foo counter
# HELP foo Help with \\"quotes\\".
foo_total{a="b"} 1.5 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67 1520879607.789
foo_created{a="b"} 1520872607.123
# EOF
"""
    got = parse_text(data, openmetrics=True)
    assert [(s.labels, s.value, s.timestamp_ms) for s in got] == [
        (L("foo_total", a="b"), 1.5, 1520879607789),
        (L("foo_created", a="b"), 1520872607.123, None),
    ]
    assert metric_metadata(data)["foo"].help == 'Help with "quotes".'


def test_openmetrics_timestamps_are_float_seconds_truncated_to_milliseconds() -> None:
    got = parse_text("a 1 1.001\nb 1 -1.5\nc 1 1e3\n# EOF", openmetrics=True)
    assert [s.timestamp_ms for s in got] == [1000, -1500, 1_000_000]


def test_openmetrics_accepts_exemplars_and_drops_them() -> None:
    data = """# TYPE h histogram
h_bucket{le="0.5"} 3 # {trace_id="a b",span="}"} 0.4
h_bucket{le="+Inf"} 4 1700000000 # {} 7 1700000000.5
h_count 4
h_sum 2
# EOF
"""
    got = series(data, openmetrics=True)
    assert got == {
        L("h_bucket", le="0.5"): 3.0,
        L("h_bucket", le="+Inf"): 4.0,
        L("h_count"): 4.0,
        L("h_sum"): 2.0,
    }


def test_openmetrics_eof_may_lack_the_final_newline() -> None:
    assert series("a 1\n# EOF", openmetrics=True) == {L("a"): 1.0}
    assert parse_text("# EOF\n", openmetrics=True) == []


def test_openmetrics_unit_must_be_a_suffix_of_the_name() -> None:
    data = "# TYPE t_celsius gauge\n# UNIT t_celsius celsius\nt_celsius 1\n# EOF\n"
    assert metric_metadata(data)["t_celsius"].unit == "celsius"
    assert series(data, openmetrics=True) == {L("t_celsius"): 1.0}


def test_openmetrics_gaugehistogram_le_is_not_normalised() -> None:
    data = '# TYPE g gaugehistogram\ng_bucket{le="1"} 1\ng_gcount 1\ng_gsum 1\n# EOF\n'
    assert L("g_bucket", le="1") in series(data, openmetrics=True)


# Inputs from Prometheus' openmetricsparse_test.go TestOpenMetricsParseErrors; all are errors.
OM_ERRORS = [
    ("", 1, "does not end with # EOF"),
    ("\n", 1, "blank lines"),
    ("metric", 1, "expected one space and a value"),
    ("metric 1", 2, "does not end with # EOF"),
    ("metric 1\n", 2, "does not end with # EOF"),
    ('metric_total 1 # {aa="bb"} 4', 2, "does not end with # EOF"),
    ("a\n#EOF\n", 1, "expected one space"),
    ("\n\n#EOF\n", 1, "blank lines"),
    (" a 1\n#EOF\n", 1, "expected a metric name"),
    ("9\n#EOF\n", 1, "expected a metric name"),
    ("# TYPE u untyped\n#EOF\n", 1, "invalid metric type 'untyped'"),
    ("# TYPE c counter \n#EOF\n", 1, "invalid metric type 'counter '"),
    ("#  TYPE c counter\n#EOF\n", 1, "unexpected comment"),
    ("# TYPE \n#EOF\n", 1, "expected a metric name after TYPE"),
    ("# TYPE m\n#EOF\n", 1, "expected a space and the TYPE text"),
    ("# UNIT metric suffix\n#EOF\n", 1, "not a suffix"),
    ("# UNIT metricsuffix suffix\n#EOF\n", 1, "not a suffix"),
    ("# UNIT m suffix\n#EOF\n", 1, "not a suffix"),
    ("# UNIT \n#EOF\n", 1, "expected a metric name after UNIT"),
    ("# UNIT m\n#EOF\n", 1, "expected a space and the UNIT text"),
    ("# HELP \n#EOF\n", 1, "expected a metric name after HELP"),
    ("# HELP m\n#EOF\n", 1, "expected a space and the HELP text"),
    ("a\t1\n#EOF\n", 1, "expected one space"),
    ("a 1\t2\n#EOF\n", 1, "invalid value '1\\t2'"),
    ("a 1 2 \n#EOF\n", 1, "expected a"),
    ("a 1 2 #\n#EOF\n", 1, "expected a"),
    ("a 1 1z\n#EOF\n", 1, "invalid value '1z'"),
    (" # EOF\n", 1, "expected a metric name"),
    ("# EOF\na 1", 2, "unexpected data after # EOF"),
    ("# EOF\n\n", 2, "unexpected data after # EOF"),
    ("# EOFa 1", 1, "unexpected data after # EOF"),
    ("#\tTYPE c counter\n", 1, "one space after '#'"),
    ("# TYPE c  counter\n", 1, "invalid metric type ' counter'"),
    ("a 1 1 1\n# EOF\n", 1, "expected an exemplar"),
    ("a{b='c'} 1\n# EOF\n", 1, "expected a quoted value"),
    ('a{,b="c"} 1\n# EOF\n', 1, "expected a label name"),
    ('a{b="c"d="e"} 1\n# EOF\n', 1, "expected ',' or '}'"),
    ('a{b="c",,d="e"} 1\n# EOF\n', 1, "expected a label name"),
    ('a{b="c", d="e"} 1\n# EOF\n', 1, "expected a label name"),
    ("a{b=\n# EOF\n", 1, "expected a quoted value"),
    ('{"a","b = "c"}\n# EOF\n', 1, "expected '='"),
    ("a true\n# EOF\n", 1, "invalid value 'true'"),
    ('something_weird{problem="\n# EOF\n', 1, "unterminated value"),
    ('empty_label_name{=""} 0\n# EOF\n', 1, "expected a label name"),
    ("{A}0\n# EOF\n", 1, "expected '='"),
    ("foo 1_2\n\n# EOF\n", 1, "invalid value '1_2'"),
    ("foo 0x1p-3\n\n# EOF\n", 1, "invalid value '0x1p-3'"),
    ("foo 0 1_2\n\n# EOF\n", 1, "invalid value '1_2'"),
    ("custom_metric_total 1 # {aa=bb}\n# EOF\n", 1, "invalid exemplar"),
    ('custom_metric_total 1 # {aa="bb"}\n# EOF\n', 1, "invalid exemplar"),
    ("custom_metric_total 1 # {bb}\n# EOF\n", 1, "invalid exemplar"),
    ('custom_metric_total 1 # {bb, a="dd"}\n# EOF\n', 1, "invalid exemplar"),
    ('custom_metric_total 1 # {aa="bb",,cc="dd"} 1\n# EOF\n', 1, "invalid exemplar"),
    ('custom_metric_total 1 # {aa="bb"} 1_2\n# EOF\n', 1, "invalid exemplar"),
    ('custom_metric_total 1 # {aa="bb"} true\n# EOF\n', 1, "invalid exemplar"),
    ('custom_metric_total 1 # {aa="bb",cc=}\n# EOF\n', 1, "invalid exemplar"),
    ('custom_metric_total 1 # {"name"} 1\n# EOF\n', 1, "invalid exemplar"),
    ('{b="c",} 1\n# EOF\n', 1, "metric name not set"),
    ("a 1 NaN\n# EOF\n", 1, "invalid timestamp 'NaN'"),
    ("a 1 -Inf\n# EOF\n", 1, "invalid timestamp '-Inf'"),
    ("a 1 Inf\n# EOF\n", 1, "invalid timestamp 'Inf'"),
    ('h_bucket{le="+Inf"} 1 # {aa="bb"} 4 NaN\n# EOF\n', 1, "invalid exemplar"),
    ("ok 1\n# comment\n# EOF\n", 2, "unexpected comment"),
    ("ok 1\nok 2\n# EOF\n", 2, "duplicate sample"),
]


@pytest.mark.parametrize(("data", "line", "fragment"), OM_ERRORS)
def test_openmetrics_errors_name_their_line_and_reason(data: str, line: int, fragment: str) -> None:
    exc = error(data, openmetrics=True)
    assert (exc.line, fragment in exc.reason) == (line, True), str(exc)


def test_openmetrics_content_type_is_recognised() -> None:
    assert is_openmetrics("application/openmetrics-text; version=1.0.0; charset=utf-8")
    assert is_openmetrics("Application/OpenMetrics-Text")
    assert not is_openmetrics("text/plain; version=0.0.4; charset=utf-8")
    assert not is_openmetrics("")
    assert not is_openmetrics(None)


# --- a real producer: prometheus_client --------------------------------------------------------


class _Extra(Collector):
    """A summary with quantiles and (OpenMetrics only) a gauge histogram."""

    def __init__(self, *, openmetrics: bool) -> None:
        self.openmetrics = openmetrics

    def collect(self) -> list[Metric]:
        summary = Metric("rpc_seconds", "RPC latency.", "summary")
        summary.add_sample("rpc_seconds", {"quantile": "0.5"}, 0.2)
        summary.add_sample("rpc_seconds", {"quantile": "1"}, 0.9)
        summary.add_sample("rpc_seconds_count", {}, 10)
        summary.add_sample("rpc_seconds_sum", {}, 3.0)
        gauge_histogram = GaugeHistogramMetricFamily(
            "queue_age_seconds", "Queue age.", buckets=[("1", 2.0), ("+Inf", 5.0)], gsum_value=7
        )
        return [summary, gauge_histogram] if self.openmetrics else [summary]


def _registry(*, openmetrics: bool) -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("jobs", "Jobs done.", ["queue"], registry=registry).labels('a"b\\c\nd').inc(3)
    histogram = Histogram(
        "lat_seconds", "Latency.", ["tenant"], buckets=(0.1, 1, 5), registry=registry
    )
    histogram.labels("t1").observe(0.7, exemplar={"trace_id": "abc"})
    Summary("req_size_bytes", "Size.", registry=registry).observe(10)
    Gauge("temp_celsius", "T.", unit="celsius", registry=registry).set(-1.5e-3)
    Info("build", "Build.", registry=registry).info({"version": "1.2", "commit": "abc"})
    Enum("state", "State.", states=["up", "down"], registry=registry).state("down")
    registry.register(_Extra(openmetrics=openmetrics))
    return registry


def _expected_common() -> dict[Labels, float]:
    return {
        L("jobs_total", queue='a"b\\c\nd'): 3.0,
        L("lat_seconds_bucket", le="0.1", tenant="t1"): 0.0,
        L("lat_seconds_bucket", le="1.0", tenant="t1"): 1.0,
        L("lat_seconds_bucket", le="5.0", tenant="t1"): 1.0,
        L("lat_seconds_bucket", le="+Inf", tenant="t1"): 1.0,
        L("lat_seconds_count", tenant="t1"): 1.0,
        L("lat_seconds_sum", tenant="t1"): 0.7,
        L("req_size_bytes_count"): 1.0,
        L("req_size_bytes_sum"): 10.0,
        L("temp_celsius"): -1.5e-3,
        L("build_info", version="1.2", commit="abc"): 1.0,
        L("state", state="up"): 0.0,
        L("state", state="down"): 1.0,
        L("rpc_seconds", quantile="0.5"): 0.2,
        L("rpc_seconds", quantile="1.0"): 0.9,
        L("rpc_seconds_count"): 10.0,
        L("rpc_seconds_sum"): 3.0,
    }


def test_prometheus_client_text_output_is_parsed_completely() -> None:
    data = generate_text(_registry(openmetrics=False)).decode()
    got = series(data)
    created = {k: v for k, v in got.items() if k[0][1].endswith("_created")}
    assert {k[0][1] for k in created} == {
        "jobs_created",
        "lat_seconds_created",
        "req_size_bytes_created",
    }
    assert all(v > 1.6e9 for v in created.values())
    rest = {k: v for k, v in got.items() if k not in created}
    assert rest == _expected_common()
    types = metric_types(data)
    assert types["jobs_total"] == "counter"
    assert types["lat_seconds"] == "histogram"


def test_prometheus_client_openmetrics_output_is_parsed_completely() -> None:
    data = generate_openmetrics(_registry(openmetrics=True)).decode()
    assert "# {trace_id=" in data  # the exemplar really is there
    got = series(data, openmetrics=True)
    created = {k: v for k, v in got.items() if k[0][1].endswith("_created")}
    assert {k[0][1] for k in created} == {
        "jobs_created",
        "lat_seconds_created",
        "req_size_bytes_created",
    }
    rest = {k: v for k, v in got.items() if k not in created}
    expected = _expected_common()
    expected[L("queue_age_seconds_bucket", le="1")] = 2.0
    expected[L("queue_age_seconds_bucket", le="+Inf")] = 5.0
    expected[L("queue_age_seconds_gcount")] = 5.0
    expected[L("queue_age_seconds_gsum")] = 7.0
    assert rest == expected
    types = metric_types(data)
    assert types == {
        "jobs": "counter",
        "lat_seconds": "histogram",
        "req_size_bytes": "summary",
        "temp_celsius": "gauge",
        "build": "info",
        "state": "stateset",
        "rpc_seconds": "summary",
        "queue_age_seconds": "gaugehistogram",
    }
    assert metric_metadata(data)["temp_celsius"].unit == "celsius"


# --- the scrape cache ----------------------------------------------------------------------


def test_a_warm_cache_gives_the_same_samples_and_shares_label_tuples() -> None:
    data = '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nm{a="x"} 3 1000\nn 4\n'
    cache = SeriesCache()
    first = parse_lines_cached(data, cache)
    second = parse_lines_cached(data.replace(" 3 1000", " 5 2000"), cache)
    assert second.labels == first.labels
    assert all(a is b for a, b in zip(first.labels, second.labels, strict=True))
    assert second.values == [1.0, 2.0, 5.0, 4.0]
    assert second.timestamps == [None, None, 2000, None]


def test_a_cached_series_still_has_its_value_checked() -> None:
    cache = SeriesCache()
    parse_lines_cached("m 1\n", cache)
    for bad in ("m 1_0", "m +nan", "m 1e999", "m \u0661", "m x"):
        with pytest.raises(ExpositionError):
            parse_lines_cached(bad, cache)


def test_the_cache_keeps_text_and_openmetrics_apart() -> None:
    cache = SeriesCache()
    parse_lines_cached('m { a = "1" } 1\n', cache)
    with pytest.raises(ExpositionError):
        parse_lines_cached('m { a = "1" } 1\n# EOF\n', cache, openmetrics=True)


def test_the_cache_forgets_series_that_are_gone() -> None:
    cache = SeriesCache()
    parse_lines_cached("".join(f"old_{i} 1\n" for i in range(3000)), cache)
    assert len(cache) == 3000
    parse_lines_cached("new 1\n", cache)
    assert len(cache) == 1


def test_cache_entries_parsed_as_name_only_do_not_swallow_a_spaced_label_set() -> None:
    cache = SeriesCache()
    parse_lines_cached("foo 1\n", cache)
    parsed = parse_lines_cached('foo {a="b"} 2\n', cache)
    assert parsed.labels == [L("foo", a="b")]


# --- fuzzing: only ExpositionError may come out ------------------------------------------------

_ALPHABET = 'ab_:{}=",# \t\\\n01.eE+-InfNa\x00é\r'
_PIECES = [
    "m",
    "m_total",
    "{",
    "}",
    "=",
    ",",
    '"',
    '"v"',
    'a="b"',
    " ",
    "  ",
    "\t",
    "1",
    "1.5e3",
    "NaN",
    "+Inf",
    "123",
    "# HELP m x",
    "# TYPE m histogram",
    "# TYPE m summary",
    "# EOF",
    "\n",
    'le="1"',
    'quantile="0.5"',
    ' # {t="1"} 1',
    "\\",
    '\\"',
]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(_PIECES) | st.text(_ALPHABET, max_size=4), max_size=30),
    st.booleans(),
)
def test_random_text_never_raises_anything_but_exposition_error(
    pieces: list[str], openmetrics: bool
) -> None:
    data = "".join(pieces)
    for parse in (parse_text, _cached_twice):
        try:
            result = parse(data, openmetrics=openmetrics)
        except ExpositionError as exc:
            assert exc.line >= 1
            assert str(exc) == f"line {exc.line}: {exc.reason}"
        else:
            assert all(isinstance(s.value, float) for s in result)


def _cached_twice(data: str, *, openmetrics: bool) -> list[ParsedSample]:
    cache = SeriesCache()
    parse_lines_cached(data, cache, openmetrics=openmetrics)
    parsed = parse_lines_cached(data, cache, openmetrics=openmetrics)
    return [
        ParsedSample(labels, value, ts)
        for labels, value, ts in zip(parsed.labels, parsed.values, parsed.timestamps, strict=True)
    ]


_LABEL_VALUES = ["x", "a b", 'q\\"', "n\\\\n", "é", "}", ""]


def _random_exposition(rnd: random.Random, openmetrics: bool) -> str:
    lines = []
    for family in range(rnd.randint(1, 8)):
        kind = rnd.choice(["counter", "gauge", "histogram", "summary"])
        lines.append(f"# TYPE f{family} {kind}")
        for i in range(rnd.randint(1, 6)):
            labels = [f'k{j}="{rnd.choice(_LABEL_VALUES)}"' for j in range(rnd.randint(0, 3))]
            if kind == "histogram":
                labels.append(f'le="{rnd.choice(["1", "0.5", "+Inf", "1e3"])}{i}"')
            value = rnd.choice(["1", "2.5", "-3e-2", "NaN", "+Inf", str(rnd.random())])
            name = f"f{family}_{i}"
            lines.append(f"{name}{{{','.join(labels)}}} {value}" if labels else f"{name} {value}")
    if openmetrics:
        lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("openmetrics", [False, True])
def test_cold_and_warm_parses_agree_on_random_expositions(openmetrics: bool) -> None:
    rnd = random.Random(7)
    for _ in range(200):
        data = _random_exposition(rnd, openmetrics)
        cold = parse_text(data, openmetrics=openmetrics)
        cache = SeriesCache()
        parse_lines_cached(data, cache, openmetrics=openmetrics)
        warm = parse_lines_cached(data, cache, openmetrics=openmetrics)
        assert [s.labels for s in cold] == warm.labels
        assert [repr(s.value) for s in cold] == [repr(v) for v in warm.values]


def test_random_line_mutations_only_raise_exposition_errors() -> None:
    rnd = random.Random(11)
    base = generate_openmetrics(_registry(openmetrics=True)).decode()
    for _ in range(400):
        chars = list(base)
        for _ in range(rnd.randint(1, 4)):
            pos = rnd.randrange(len(chars))
            chars[pos] = rnd.choice(string.printable + "é\x00")
        for openmetrics in (False, True):
            with contextlib.suppress(ExpositionError):
                parse_text("".join(chars), openmetrics=openmetrics)
