"""Alertmanager time intervals: parsing with fix-it messages, and which moments they contain."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tenantwatch.alertmanager.time_intervals import TimeInterval, active, parse_time_interval


def at(text: str, zone: str = "UTC") -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_business_hours_in_a_zone() -> None:
    hours = parse_time_interval(
        {
            "weekdays": ["Monday:friday"],
            "times": [{"start_time": "09:00", "end_time": "17:00"}],
            "location": "Europe/Berlin",
        }
    )
    assert hours.contains(at("2024-01-03T09:00", "Europe/Berlin"))  # a wednesday
    assert hours.contains(at("2024-01-03T16:59", "Europe/Berlin"))
    assert not hours.contains(at("2024-01-03T17:00", "Europe/Berlin"))  # end is exclusive
    assert hours.contains(at("2024-01-03T08:30"))  # 09:30 in Berlin
    assert not hours.contains(at("2024-01-03T16:30"))  # 17:30 in Berlin
    assert not hours.contains(at("2024-01-06T12:00", "Europe/Berlin"))  # saturday


def test_24_00_ends_at_midnight_and_a_weekend_is_saturday_and_sunday() -> None:
    night = parse_time_interval(
        {
            "times": [{"start_time": "22:00", "end_time": "24:00"}],
            "weekdays": ["saturday", "sunday"],
        }
    )
    assert night.contains(at("2024-01-07T23:59"))  # sunday
    assert not night.contains(at("2024-01-08T00:00"))  # monday
    assert not night.contains(at("2024-01-06T21:59"))


def test_negative_days_count_from_the_end_of_each_month() -> None:
    last_two = parse_time_interval({"days_of_month": ["-2:-1"]})
    assert last_two.contains(at("2024-02-28T12:00"))  # leap year: 28 and 29
    assert last_two.contains(at("2024-02-29T12:00"))
    assert not last_two.contains(at("2024-02-27T12:00"))
    assert last_two.contains(at("2023-04-29T00:00")) and last_two.contains(at("2023-04-30T00:00"))
    assert not last_two.contains(at("2023-05-29T00:00"))  # may has 31 days


def test_a_day_past_the_month_end_never_matches_and_ranges_are_clamped() -> None:
    assert not parse_time_interval({"days_of_month": ["31"]}).contains(at("2024-04-30T12:00"))
    first_to_last = parse_time_interval({"days_of_month": ["1:-1"]})
    assert first_to_last.contains(at("2024-04-30T12:00"))
    to_31 = parse_time_interval({"days_of_month": ["25:31"]})
    assert to_31.contains(at("2024-02-29T12:00"))


def test_negative_days_in_a_month_with_a_dst_change() -> None:
    # March 2024 in Berlin has 31 days though one of them lasts 23 hours
    last = parse_time_interval({"days_of_month": ["-1"], "location": "Europe/Berlin"})
    assert last.contains(at("2024-03-31T12:00", "Europe/Berlin"))
    assert not last.contains(at("2024-03-30T12:00", "Europe/Berlin"))


def test_times_follow_local_wall_clock_across_dst() -> None:
    morning = parse_time_interval(
        {"times": [{"start_time": "09:00", "end_time": "10:00"}], "location": "America/New_York"}
    )
    # 09:30 local is 14:30 UTC in winter and 13:30 UTC in summer
    assert morning.contains(at("2024-03-08T14:30"))
    assert not morning.contains(at("2024-03-11T14:30"))
    assert morning.contains(at("2024-03-11T13:30"))


def test_months_and_years() -> None:
    winter = parse_time_interval({"months": ["december", "1:february"], "years": ["2024:2025"]})
    assert winter.contains(at("2024-01-15T00:00"))
    assert winter.contains(at("2025-12-31T00:00"))
    assert not winter.contains(at("2024-03-01T00:00"))
    assert not winter.contains(at("2026-01-01T00:00"))


def test_an_empty_interval_always_matches_and_a_named_one_is_any_of_its_parts() -> None:
    assert TimeInterval().contains(at("2024-05-05T05:05"))
    weekend = [
        parse_time_interval({"weekdays": ["saturday"]}),
        parse_time_interval({"weekdays": ["sunday"]}),
    ]
    assert active(weekend, at("2024-01-07T10:00"))
    assert not active(weekend, at("2024-01-08T10:00"))
    assert not active([], at("2024-01-08T10:00"))


def test_numbers_from_yaml_are_read_as_text() -> None:
    interval = parse_time_interval({"days_of_month": [1, 15], "years": [2024]})
    assert interval.days_of_month == ((1, 1), (15, 15)) and interval.years == ((2024, 2024),)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weekday": ["monday"]}, "unknown field 'weekday'"),
        ({"weekdays": ["saturday:sunday"]}, "runs backwards"),
        ({"weekdays": ["funday"]}, "not a weekday"),
        ({"weekdays": "monday"}, "must be a list"),
        ({"times": [{"start_time": "9:00", "end_time": "17:00"}]}, "HH:MM"),
        ({"times": [{"start_time": "17:00", "end_time": "09:00"}]}, "split a range"),
        ({"times": [{"start_time": "09:00"}]}, "both start_time and end_time"),
        ({"times": [{"start_time": "09:00", "end_time": "24:01"}]}, "not a time"),
        ({"days_of_month": ["0"]}, "out of range"),
        ({"days_of_month": ["-3:5"]}, "must be negative"),
        ({"days_of_month": ["27:-3"]}, "always before"),
        ({"months": ["13"]}, "out of range"),
        ({"months": ["march:january"]}, "runs backwards"),
        ({"years": ["2025:2024"]}, "before the start year"),
        ({"location": "Mars/Base"}, "unknown time zone"),
        ({"location": "America"}, "unknown time zone"),
    ],
)
def test_bad_intervals_say_how_to_fix_them(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_time_interval(data)
