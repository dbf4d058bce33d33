"""Go's regular expressions through RE2: anchored, linear time, Go's `.` and `$`."""

from __future__ import annotations

import time

import pytest

from tenantwatch.gotext.regex import GoRegex, RegexError


def test_a_catastrophic_pattern_answers_at_once() -> None:
    started = time.perf_counter()
    hit = GoRegex("(a+)+$", dot_nl=True).matches("a" * 10_000 + "b")
    assert hit is False
    assert time.perf_counter() - started < 0.5  # Python's re takes longer than the universe


def test_patterns_are_anchored_at_both_ends() -> None:
    r = GoRegex("api|web", dot_nl=False)
    assert r.matches("api") and r.matches("web")
    assert not r.matches("apiweb") and not r.matches("x-api")


def test_a_trailing_newline_is_not_forgiven_as_pythons_dollar_would() -> None:
    assert not GoRegex("a", dot_nl=False).matches("a\n")


def test_dot_matches_a_newline_only_as_prometheus_compiles_matchers() -> None:
    assert GoRegex("a.b", dot_nl=True).matches("a\nb")  # Prometheus: ^(?s:...)$
    assert not GoRegex("a.b", dot_nl=False).matches("a\nb")  # Alertmanager: ^(?:...)$


def test_go_syntax_python_lacks_is_understood() -> None:
    assert GoRegex(r"\pL+", dot_nl=True).matches("héllo")
    assert GoRegex("((?i)abc)d", dot_nl=True).matches("ABCd")
    assert GoRegex("[[:digit:]]+", dot_nl=True).matches("123")
    assert GoRegex(r"a\z", dot_nl=True).matches("a")


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("(a", "missing ): (a"),
        ("(?<=a)b", "invalid perl operator: (?<="),
        ("a{2000}", "invalid repetition size"),
    ],
)
def test_what_go_refuses_is_a_regex_error_naming_the_pattern(pattern: str, words: str) -> None:
    with pytest.raises(RegexError) as caught:
        GoRegex(pattern, dot_nl=True)
    assert str(caught.value) == f"error parsing regexp: {words}" or words in str(caught.value)


def test_groups_are_there_for_label_replace() -> None:
    m = GoRegex("(?P<svc>[a-z]+)-(\\d+)?", dot_nl=True).fullmatch("api-")
    assert m is not None
    assert (m.group("svc"), m.group(1), m.group(2)) == ("api", "api", None)
