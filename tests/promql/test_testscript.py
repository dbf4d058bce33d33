"""The promqltest script parser: value expansion, series, eval forms and errors."""

from __future__ import annotations

import math
import re

import pytest

from tenantwatch.promql.model import is_stale
from tenantwatch.promql.testscript import (
    Clear,
    Eval,
    Histogram,
    Load,
    ScriptError,
    parse_script,
)
from tenantwatch.promql.testvalues import parse_duration, parse_series_line


def values(text: str) -> list[object]:
    return list(parse_series_line(f"m {text}")[1])


def one_eval(text: str) -> Eval:
    [cmd] = parse_script(text)
    assert isinstance(cmd, Eval)
    return cmd


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0+10x3", [0.0, 10.0, 20.0, 30.0]),
        ("5x2", [5.0, 5.0, 5.0]),
        ("1-1x2", [1.0, 0.0, -1.0]),
        ("-1+2x1", [-1.0, 1.0]),
        ("_", [None]),
        ("_x3", [None, None, None]),
        ("1+1x2 9+1x1", [1.0, 2.0, 3.0, 9.0, 10.0]),
        ("1 _ 3", [1.0, None, 3.0]),
        ("1e3 .5 0x2", [1000.0, 0.5, 0.0, 0.0, 0.0]),
        ("1m", [60.0]),
    ],
)
def test_values_expand_like_promtool(text: str, expected: list[object]) -> None:
    assert values(text) == expected


def test_repetition_accumulates_the_step_like_upstream() -> None:
    got = values("0+0.1x10")
    assert len(got) == 11
    assert got[10] == 0.9999999999999999  # ten additions of 0.1, not 10 * 0.1 == 1.0


def test_stale_nan_and_infinities() -> None:
    got = values("stale NaN Inf -Inf +Inf")
    assert isinstance(got[0], float) and is_stale(got[0])
    assert isinstance(got[1], float) and math.isnan(got[1]) and not is_stale(got[1])
    assert got[2:] == [math.inf, -math.inf, math.inf]


def test_native_histograms_are_kept_as_placeholders() -> None:
    got = values("{{schema:0 sum:1 count:2}} {{sum:1}}+{{sum:2}}x2 {{count:1}}x1 3")
    assert [type(v).__name__ for v in got] == ["Histogram"] * 6 + ["float"]
    assert got[0] == Histogram("{{schema:0 sum:1 count:2}}")


@pytest.mark.parametrize(
    ("line", "labels"),
    [
        ('foo{a="b"} 1', (("__name__", "foo"), ("a", "b"))),
        ('{__name__="foo", a="b",} 1', (("__name__", "foo"), ("a", "b"))),
        ("{} 1", ()),
        ("foo 1", (("__name__", "foo"),)),
        ('{"my.metric", "a.b"="c"} 1', (("__name__", "my.metric"), ("a.b", "c"))),
        ('x{job="{count:1, [-2,-1):2}"} 1', (("__name__", "x"), ("job", "{count:1, [-2,-1):2}"))),
        ('x{a=""} 1', (("__name__", "x"),)),
        ('x{a="q\\"uote"} 1', (("__name__", "x"), ("a", 'q"uote'))),
    ],
)
def test_series_descriptions_become_label_sets(line: str, labels: object) -> None:
    assert parse_series_line(line)[0] == labels


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("m 1 abc", "cannot read value 'abc'"),
        ('m{a=~"x"} 1', "must use `=` only"),
        ('m{a="x" 1', "unclosed"),
        ("m 1+x3", "cannot read value '1+x3'"),
        ("m {{sum:1", "unclosed native histogram"),
    ],
)
def test_bad_series_lines_say_what_is_wrong(line: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_series_line(line)


def test_durations() -> None:
    assert parse_duration("0") == 0
    assert parse_duration("1h30m") == 5_400_000
    assert parse_duration("10s53ms") == 10_053
    assert parse_duration("1y") == 365 * 86_400_000
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("5 m")
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("1.5m")


def test_load_clear_and_instant_eval() -> None:
    cmds = parse_script(
        """
# a comment
load 5m
  http_requests{job="api"} 0+10x10
  other 1 _ stale

clear
eval instant at 50m sum(http_requests)
  {} 100
"""
    )
    load, clear, ev = cmds
    assert isinstance(load, Load) and isinstance(clear, Clear) and isinstance(ev, Eval)
    assert load.interval_ms == 300_000 and load.line == 3
    assert [s.labels for s in load.series] == [
        (("__name__", "http_requests"), ("job", "api")),
        (("__name__", "other"),),
    ]
    assert ev.kind == "instant" and ev.eval_ms == 3_000_000 and ev.line == 8
    assert ev.expr == "sum(http_requests)"
    assert [(s.labels, s.values) for s in ev.series] == [((), (100.0,))]


def test_range_eval_with_expectations() -> None:
    ev = one_eval(
        """eval range from 0 to 10m step 5m rate(x[5m])
  expect warn msg: PromQL warning: something (1:1)
  expect info regex: fixed .* \\(1:21\\)
  {} 1 2 3
"""
    )
    assert (ev.kind, ev.start_ms, ev.end_ms, ev.step_ms) == ("range", 0, 600_000, 300_000)
    warn, info = ev.expects
    assert warn.kind == "warn" and warn.matches("PromQL warning: something (1:1)")
    assert not warn.matches("PromQL warning: something")
    assert info.kind == "info" and info.matches("x fixed for monotonicity (1:21)")
    assert ev.series[0].values == (1.0, 2.0, 3.0)


def test_expect_lines() -> None:
    ev = one_eval(
        """eval instant at 1m x
  expect fail regex: many-to-many|duplicate
  expect ordered
  expect no_info
"""
    )
    assert ev.expects_fail and ev.is_ordered
    assert ev.of_kind("fail")[0].matches("found duplicate series")
    assert [e.kind for e in ev.expects] == ["fail", "ordered", "no_info"]
    plain = one_eval("eval instant at 1m x\n  expect fail\n")
    assert plain.of_kind("fail")[0].matches("anything at all")


def test_deprecated_forms() -> None:
    fail = one_eval('eval_fail instant at 0 x\n  expected_fail_message vector cannot contain "x"\n')
    assert fail.fail and fail.fail_message == 'vector cannot contain "x"'
    regexp = one_eval("eval_fail range from 0 to 1m step 1m x\n  expected_fail_regexp dup.*set\n")
    assert regexp.fail and regexp.fail_regexp is not None and regexp.fail_regexp.search("dup set")
    assert one_eval("eval_ordered instant at 0 x\n").is_ordered
    assert one_eval("eval_warn instant at 0 x\n").warn
    assert one_eval("eval_info range from 0 to 1m step 1m x\n").info


def test_scalar_string_and_range_vector_expectations() -> None:
    assert one_eval("eval instant at 0 1+1\n  2\n").scalar == 2.0
    assert math.isnan(one_eval("eval instant at 0 NaN\n  NaN\n").scalar or 0.0)
    ev = one_eval('eval instant at 0 "Foo"\n  expect string " Foo "\n')
    assert ev.string == " Foo " and ev.exclude_from_range_check
    rv = one_eval(
        "eval instant at 1m m[1m]\n  expect range vector from 10s to 1m step 10s\n  m 1 2 3 4 5 6\n"
    )
    assert (rv.start_ms, rv.end_ms, rv.step_ms, rv.eval_ms) == (10_000, 60_000, 10_000, 60_000)
    assert rv.exclude_from_range_check and len(rv.series[0].values) == 6


def test_no_expected_lines_means_an_empty_result() -> None:
    ev = one_eval("eval instant at 0 nothing\n")
    assert ev.series == [] and ev.scalar is None and ev.string is None


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("load 1m\n  m 1 2\n\nfrobnicate\n", 4, "unknown command 'frobnicate'"),
        ("load 1m\n  m 1\n  # comment ends the block\n  n 2\n", 4, "unknown command"),
        ("load 1x\n  m 1\n", 1, "invalid load interval"),
        ("load 1m\n  m 1 oops\n", 2, "cannot read value 'oops'"),
        ("eval instant at 1m m\n  m 1 2\n", 2, "expect range vector"),
        ("eval instant at soon m\n", 1, "invalid evaluation time"),
        ("eval range from 2m to 1m step 1m m\n", 1, "before its start"),
        ("eval sometime m\n", 1, "invalid eval command"),
        ("eval instant at 0 m\n  expect info\n  expect no_info\n", 3, "cannot be used together"),
        ("eval instant at 0 m\n  expect fail\n  expect fail\n", 3, "only one `expect fail`"),
        ("eval instant at 0 m\n  expect fail regex: (\n", 2, "invalid regular expression"),
        ("eval instant at 0 m\n  expect sometimes\n", 2, "invalid expect line"),
        ("eval instant at 0 m\n  expected_fail_message boom\n", 2, "needs `eval_fail`"),
        ("eval instant at 0 m\n  expect string Foo\n", 2, "not a quoted string"),
    ],
)
def test_errors_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ScriptError) as info:
        parse_script(text, "my.test")
    assert info.value.line == line
    assert str(info.value).startswith(f"my.test:{line}: ")
    assert fragment in str(info.value)


def test_scalar_line_ends_the_block() -> None:
    with pytest.raises(ScriptError) as info:
        parse_script("eval instant at 0 1\n  1\n  {} 2\n")
    assert info.value.line == 3
