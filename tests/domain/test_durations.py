"""parse_duration and format_duration: Prometheus-style duration strings."""

from __future__ import annotations

import pytest

from tenantwatch.domain.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("15d", 15 * 86400),
        ("2w", 2 * 604800),
        ("1y", 31536000),
        ("250ms", 0.25),
        ("0s", 0),
        ("1h0m", 3600),
        ("1m500ms", 60.5),
        ("1y2w3d4h5m6s", 31536000 + 2 * 604800 + 3 * 86400 + 4 * 3600 + 5 * 60 + 6),
    ],
)
def test_it_parses_a_valid_duration_into_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_it_ignores_whitespace_around_a_duration() -> None:
    assert parse_duration("  5m \n") == 300


def test_it_tells_ms_apart_from_minutes() -> None:
    assert parse_duration("5ms") == 0.005
    assert parse_duration("5m") == 300


@pytest.mark.parametrize("text", ["30m1h", "1s1s", "5ms1s", "1d1w", "1m1m"])
def test_it_rejects_units_out_of_order_or_repeated(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == (
        f"duration {text!r}: units must go from largest to smallest, once each"
    )


@pytest.mark.parametrize("text", ["", "   "])
def test_it_rejects_an_empty_duration_with_examples(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == "empty duration; write e.g. '30s', '5m' or '1h30m'"


@pytest.mark.parametrize(
    "text",
    ["5", "m", "5 m", "1.5h", "-5s", "5M", "1h 30m", "5min", "ten seconds", "1h30", "s5"],
)
def test_it_rejects_garbage_and_names_the_units(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == (
        f"invalid duration {text!r}; write a number and a unit (ms, s, m, h, d, w, y), "
        "e.g. '30s', '5m' or '1h30m'"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (30, "30s"),
        (90, "1m30s"),
        (0.25, "250ms"),
        (5400, "1h30m"),
        (86400, "1d"),
        (604800, "1w"),
        (31536000, "1y"),
        (3600.5, "1h500ms"),
        (8 * 86400, "1w1d"),
    ],
)
def test_it_formats_seconds_as_the_shortest_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_it_formats_to_whole_milliseconds() -> None:
    assert format_duration(0.0004) == "0s"
    assert format_duration(1.0006) == "1s1ms"


@pytest.mark.parametrize(
    "text", ["30s", "1m30s", "1h30m", "6d", "2w3d", "1y", "250ms", "1h1s1ms", "0s"]
)
def test_a_canonical_duration_survives_parse_then_format(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("seconds", [0, 1, 59, 61, 3599, 3601, 86399, 90061, 31536000 + 1])
def test_whole_seconds_survive_format_then_parse(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_milliseconds_survive_format_then_parse_exactly() -> None:
    assert parse_duration("119ms") == 0.119
    drifted = [
        ms for ms in range(10_000) if parse_duration(format_duration(ms / 1000)) != ms / 1000
    ]
    assert drifted == []
