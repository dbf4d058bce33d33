"""Go's quoted strings: strconv.Quote and Unquote against Go's own tables, and the
rune-wise literals of the template engine."""

from __future__ import annotations

import pytest

from tenantwatch.gotext.quote import UnquoteError, quote, unquote, unquote_runes

# Go's strconv quote_test.go: quotetests (the strings Python can hold)
QUOTE_TESTS = [
    ("\a\b\f\r\n\t\v", '"\\a\\b\\f\\r\\n\\t\\v"'),
    ("\\", '"\\\\"'),
    ("\u263a", '"☺"'),
    ("\U0010ffff", '"\\U0010ffff"'),
    ("\x04", '"\\x04"'),
    ("!\u00a0!\u2000!\u3000!", '"!\\u00a0!\\u2000!\\u3000!"'),
]


@pytest.mark.parametrize(("text", "quoted"), QUOTE_TESTS)
def test_quote_matches_gos_table(text: str, quoted: str) -> None:
    assert quote(text) == quoted


@pytest.mark.parametrize(("text", "quoted"), QUOTE_TESTS)
def test_unquote_reads_back_what_quote_writes(text: str, quoted: str) -> None:
    assert unquote(quoted) == text


def test_quote_escapes_what_is_not_printable() -> None:
    assert quote('é\u2028\x7f"\\') == '"é\\u2028\\x7f\\"\\\\"'
    assert quote("a\nb\tc\x01") == '"a\\nb\\tc\\x01"'
    assert quote("\U000e0001") == '"\\U000e0001"'


# Go's strconv quote_test.go: unquotetests
@pytest.mark.parametrize(
    ("quoted", "text"),
    [
        ('""', ""),
        ('"a"', "a"),
        ('"☺"', "☺"),
        ('"hello world"', "hello world"),
        ('"\\u1234"', "\u1234"),
        ('"\\U00010111"', "\U00010111"),
        ('"\\U0001011111"', "\U0001011111"),
        ('"\\a\\b\\f\\n\\r\\t\\v\\\\\\""', '\a\b\f\n\r\t\v\\"'),
        ('"\'"', "'"),
        ("'a'", "a"),
        ("'☹'", "☹"),
        ("'\\a'", "\a"),
        ("'\\x10'", "\x10"),
        ("'\\u1234'", "\u1234"),
        ("'\\t'", "\t"),
        ("'\\''", "'"),
        ("'\"'", '"'),
        ("``", ""),
        ("`abc`", "abc"),
        ("`\\xFF`", "\\xFF"),
        ("`\\377`", "\\377"),
        ("`\\`", "\\"),
        ("`\n`", "\n"),
        ("`\t`", "\t"),
        # a byte that is not UTF-8 comes back as a lone surrogate
        ('"\\xFF"', "\udcff"),
        ('"\\377"', "\udcff"),
        ('"\\xc3\\xa9"', "é"),
    ],
)
def test_unquote_matches_gos_table(quoted: str, text: str) -> None:
    assert unquote(quoted) == text


# Go's strconv quote_test.go: misquoted. Accepted here though Go refuses them: 'ab', "\'",
# '\"' and literals holding a newline.
@pytest.mark.parametrize(
    "quoted",
    [
        "",
        '"',
        '"a',
        "\"'",
        'b"',
        '"\\"',
        '"\\9"',
        '"\\19"',
        '"\\129"',
        "'\\'",
        "'\\9'",
        "'\\19'",
        "'\\129'",
        '"\\x1!"',
        '"\\U12345678"',
        '"\\z"',
        "`",
        "`xxx",
        '`"',
    ],
)
def test_unquote_refuses_what_go_refuses(quoted: str) -> None:
    with pytest.raises(ValueError):
        unquote(quoted)


def test_template_literals_read_x_escapes_as_characters() -> None:
    assert unquote_runes('"a\\tb\\x41\\u00e9\\0"') == "a\tbA\u00e9\0"
    assert unquote_runes('"\\xff"') == "\u00ff"
    with pytest.raises(UnquoteError, match=r"unknown escape \\q in"):
        unquote_runes('"\\q"')


def test_unquote_names_the_bad_escape() -> None:
    with pytest.raises(ValueError, match=r"invalid escape \\q"):
        unquote('"\\q"')
