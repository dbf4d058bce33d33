"""Go's time text: RFC 3339 as Go's JSON writes it, Time.String(), and Format's layouts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tenantwatch.gotext.template_funcs import TemplateError
from tenantwatch.gotext.times import (
    GoTime,
    format_rfc3339_micro,
    format_rfc3339_nano,
    parse_rfc3339,
    time_in,
    time_string,
)

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC).timestamp()
# Go's time format_test.go: Thu Feb 4 21:00:57.012345600 PST 2009, here cut to microseconds
GO_TEST_TIME = GoTime(1233810057.012345, "America/Los_Angeles")


@pytest.mark.parametrize(
    ("layout", "text"),
    [
        ("Mon Jan _2 15:04:05 2006", "Wed Feb  4 21:00:57 2009"),  # ANSIC
        ("Mon Jan _2 15:04:05 MST 2006", "Wed Feb  4 21:00:57 PST 2009"),  # UnixDate
        ("Mon Jan 02 15:04:05 -0700 2006", "Wed Feb 04 21:00:57 -0800 2009"),  # RubyDate
        ("02 Jan 06 15:04 MST", "04 Feb 09 21:00 PST"),  # RFC822
        ("02 Jan 06 15:04 -0700", "04 Feb 09 21:00 -0800"),  # RFC822Z
        ("Monday, 02-Jan-06 15:04:05 MST", "Wednesday, 04-Feb-09 21:00:57 PST"),  # RFC850
        ("Mon, 02 Jan 2006 15:04:05 MST", "Wed, 04 Feb 2009 21:00:57 PST"),  # RFC1123
        ("Mon, 02 Jan 2006 15:04:05 -0700", "Wed, 04 Feb 2009 21:00:57 -0800"),  # RFC1123Z
        ("2006-01-02T15:04:05Z07:00", "2009-02-04T21:00:57-08:00"),  # RFC3339
        ("2006-01-02T15:04:05.999999999Z07:00", "2009-02-04T21:00:57.012345-08:00"),
        ("3:04PM", "9:00PM"),  # Kitchen
        ("3pm", "9pm"),
        ("3PM", "9PM"),
        ("06 01 02", "09 02 04"),
        ("Jan _2 15:04:05", "Feb  4 21:00:57"),  # Stamp
        ("Jan _2 15:04:05.000", "Feb  4 21:00:57.012"),  # StampMilli
        ("Jan _2 15:04:05.000000", "Feb  4 21:00:57.012345"),  # StampMicro
        ("2006-01-02 15:04:05", "2009-02-04 21:00:57"),  # DateTime
        ("2006-01-02", "2009-02-04"),  # DateOnly
        ("15:04:05", "21:00:57"),  # TimeOnly
        ("Jan  2 002 __2 2", "Feb  4 035  35 4"),  # YearDay
    ],
)
def test_format_matches_gos_format_table(layout: str, text: str) -> None:
    assert GO_TEST_TIME.Format(layout) == text


def test_format_uses_the_reference_layout() -> None:
    t = GoTime(T0 + 3600.123456)
    assert t.Format("2006-01-02T15:04:05.000Z07:00") == "2024-01-01T13:00:00.123Z"
    assert t.Format("Mon Jan _2 3:04PM MST 06 002") == "Mon Jan  1 1:00PM UTC 24 001"
    assert GoTime(T0).Unix() == int(T0)


def test_a_time_prints_as_gos_string_and_zero_is_year_one() -> None:
    assert str(GoTime(T0 + 0.5)) == "2024-01-01 12:00:00.5 +0000 UTC"
    assert str(GoTime(0.0)) == "0001-01-01 00:00:00 +0000 UTC"
    assert str(time_in(GoTime(T0), "Europe/Berlin")) == "2024-01-01 13:00:00 +0100 CET"
    with pytest.raises(TemplateError, match="unknown time zone"):
        time_in(GoTime(T0), "Mars/Base")


def test_time_string_cuts_trailing_zeros_of_the_fraction() -> None:
    assert time_string(datetime(2009, 2, 4, 21, 0, 57, 12300, tzinfo=UTC)) == (
        "2009-02-04 21:00:57.0123 +0000 UTC"
    )
    assert time_string(datetime(2009, 2, 4, tzinfo=UTC)) == "2009-02-04 00:00:00 +0000 UTC"


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (0.0, "0001-01-01T00:00:00Z"),
        (1675688925.828, "2023-02-06T13:08:45.828Z"),
        (1675688925.0, "2023-02-06T13:08:45Z"),
        (1675688925.5, "2023-02-06T13:08:45.5Z"),
        (1675688925.000001, "2023-02-06T13:08:45.000001Z"),
    ],
)
def test_rfc3339_nano_formats_like_go_json(ts: float, text: str) -> None:
    assert format_rfc3339_nano(ts) == text


def test_rfc3339_micro_keeps_six_fraction_digits() -> None:
    assert format_rfc3339_micro(1675688925.5) == "2023-02-06T13:08:45.500000Z"
    assert format_rfc3339_micro(1675688925.0) == "2023-02-06T13:08:45Z"
    assert format_rfc3339_micro(None) == "0001-01-01T00:00:00Z"


def test_parse_rfc3339_reads_offsets_and_zero() -> None:
    assert parse_rfc3339("2023-02-06T13:08:45.828Z") == pytest.approx(1675688925.828)
    assert parse_rfc3339("2023-02-06T14:08:45+01:00") == 1675688925.0
    assert parse_rfc3339("2009-02-04T21:00:57.0123456-08:00") == pytest.approx(1233810057.0123456)
    assert parse_rfc3339("0001-01-01T00:00:00Z") == 0.0
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_rfc3339("yesterday")
