from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tenantwatch.domain.oncall import (
    OnCallSchedule,
    Override,
    Restriction,
    Rotation,
    Shift,
    on_call,
    parse_clock,
    parse_length,
    rotation_user,
    schedule_from_mapping,
    shifts,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
HOUR = 3600.0


def at(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz)).timestamp()


def weekly_berlin() -> OnCallSchedule:
    # Monday 09:00 handoffs in Berlin from Monday 2024-03-04
    return OnCallSchedule(
        "primary", BERLIN, (Rotation(("alice", "bob", "carol"), "2024-03-04T09:00", "weekly"),)
    )


def hours(shift: Shift) -> float:
    return (shift.end - shift.start) / HOUR


# -- a single rotation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ((2024, 3, 4, 8, 59), []),  # before the rotation starts
        ((2024, 3, 4, 9, 0), ["alice"]),
        ((2024, 3, 11, 8, 59), ["alice"]),
        ((2024, 3, 11, 9, 0), ["bob"]),
        ((2024, 3, 18, 9, 0), ["carol"]),
        ((2024, 3, 25, 9, 0), ["alice"]),
        # after the spring change: still 09:00 local
        ((2024, 4, 1, 8, 59), ["alice"]),
        ((2024, 4, 1, 9, 0), ["bob"]),
        # after the autumn change (week 34 after the start: 34 % 3 = 1)
        ((2024, 10, 28, 8, 59), ["alice"]),
        ((2024, 10, 28, 9, 0), ["bob"]),
    ],
)
def test_weekly_rotation_hands_off_at_local_time(
    when: tuple[int, ...], expected: list[str]
) -> None:
    assert on_call(weekly_berlin(), at(BERLIN, *when)) == expected


@pytest.mark.parametrize(
    ("week_start", "length_h"),
    [
        ((2024, 3, 18, 9, 0), 168),
        ((2024, 3, 25, 9, 0), 167),  # clocks go forward on Sunday 31 March
        ((2024, 4, 1, 9, 0), 168),
        ((2024, 10, 21, 9, 0), 169),  # clocks go back on Sunday 27 October
        ((2024, 10, 28, 9, 0), 168),
    ],
)
def test_weekly_shift_lengths_across_berlin_dst(week_start: tuple[int, ...], length_h: int) -> None:
    start = at(BERLIN, *week_start)
    got = shifts(weekly_berlin(), start, start + 200 * HOUR)
    assert got[0].start == start
    assert hours(got[0]) == length_h


def test_shifts_over_a_month_in_berlin() -> None:
    got = shifts(weekly_berlin(), at(BERLIN, 2024, 3, 11), at(BERLIN, 2024, 4, 10))
    assert [(s.user, hours(s)) for s in got] == [
        ("alice", 9),
        ("bob", 168),
        ("carol", 168),
        ("alice", 167),
        ("bob", 168),
        ("carol", 39),
    ]
    assert got[3].end == at(BERLIN, 2024, 4, 1, 9, 0)


@pytest.mark.parametrize(
    ("day", "length_h"),
    [
        ((2024, 3, 8), 24),
        ((2024, 3, 9), 23),  # clocks go forward at 02:00 on the 10th
        ((2024, 3, 10), 24),
        ((2024, 11, 1), 24),
        ((2024, 11, 2), 25),  # clocks go back at 02:00 on the 3rd
        ((2024, 11, 3), 24),
    ],
)
def test_daily_rotation_in_new_york(day: tuple[int, int, int], length_h: int) -> None:
    schedule = OnCallSchedule(
        "ny",
        NEW_YORK,
        (Rotation(("ann", "ben"), "2024-01-01T08:00", "daily"),),
    )
    start = at(NEW_YORK, *day, 8, 0)
    got = shifts(schedule, start, start + 30 * HOUR)
    assert got[0].start == start
    assert hours(got[0]) == length_h
    assert on_call(schedule, got[0].end) != on_call(schedule, got[0].start)


def test_daily_handoff_at_a_time_that_does_not_exist() -> None:
    # 02:30 does not exist in New York on 2024-03-10: the handoff happens at 03:30 EDT
    schedule = OnCallSchedule(
        "ny", NEW_YORK, (Rotation(("ann", "ben"), "2024-03-08T02:30", "daily"),)
    )
    got = shifts(schedule, at(NEW_YORK, 2024, 3, 9, 2, 30), at(NEW_YORK, 2024, 3, 11, 2, 30))
    assert [(s.user, hours(s)) for s in got] == [("ben", 24), ("ann", 23)]
    assert got[1].start == at("UTC", 2024, 3, 10, 7, 30)


def test_handoff_time_differs_from_start() -> None:
    # starts on Monday 00:00 but hands off at 09:00: the first user covers until then
    rot = Rotation(("alice", "bob"), "2024-03-04T00:00", "weekly", handoff_time="09:00")
    assert rotation_user(rot, BERLIN, at(BERLIN, 2024, 3, 4, 0, 0)) == "alice"
    assert rotation_user(rot, BERLIN, at(BERLIN, 2024, 3, 4, 9, 0)) == "bob"
    assert rotation_user(rot, BERLIN, at(BERLIN, 2024, 3, 11, 9, 0)) == "alice"


def test_start_with_an_offset_is_converted_to_local_time() -> None:
    rot = Rotation(("alice", "bob"), "2024-03-04T08:00+00:00", "daily")
    assert rotation_user(rot, BERLIN, at(BERLIN, 2024, 3, 4, 8, 59)) is None
    assert rotation_user(rot, BERLIN, at(BERLIN, 2024, 3, 4, 9, 0)) == "alice"
    assert rotation_user(rot, BERLIN, at(BERLIN, 2024, 3, 5, 9, 0)) == "bob"


@pytest.mark.parametrize(
    ("length", "when", "expected"),
    [
        ("12h", (2024, 3, 4, 20, 59), "a"),
        ("12h", (2024, 3, 4, 21, 0), "b"),
        ("12h", (2024, 3, 5, 9, 0), "c"),
        ("12h", (2024, 3, 5, 21, 0), "a"),
        ("2d", (2024, 3, 6, 8, 59), "a"),
        ("2d", (2024, 3, 6, 9, 0), "b"),
        ("2w", (2024, 3, 18, 9, 0), "b"),
        ("2w", (2024, 3, 18, 8, 0), "a"),
    ],
)
def test_other_lengths(length: str, when: tuple[int, ...], expected: str) -> None:
    rot = Rotation(("a", "b", "c"), "2024-03-04T09:00", length)
    assert rotation_user(rot, BERLIN, at(BERLIN, *when)) == expected


def test_twelve_hour_shifts_keep_local_handoffs_across_dst() -> None:
    schedule = OnCallSchedule("p", BERLIN, (Rotation(("day", "night"), "2024-03-29T08:00", "12h"),))
    got = shifts(schedule, at(BERLIN, 2024, 3, 30, 8, 0), at(BERLIN, 2024, 3, 31, 20, 0))
    assert [(s.user, hours(s)) for s in got] == [("day", 12), ("night", 11), ("day", 12)]


# -- restrictions and layers ---------------------------------------------------------------


def business_hours() -> Restriction:
    return Restriction(start="09:00", end="17:00", days=(0, 1, 2, 3, 4))


def layered() -> OnCallSchedule:
    return OnCallSchedule(
        "layers",
        BERLIN,
        (
            Rotation(("night1", "night2"), "2024-03-04T09:00", "weekly"),  # base layer, 24/7
            Rotation(
                ("dev1", "dev2"), "2024-03-04T09:00", "daily", restrictions=(business_hours(),)
            ),
        ),
    )


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ((2024, 3, 4, 9, 0), ["dev1"]),  # Monday office hours: upper layer
        ((2024, 3, 4, 16, 59), ["dev1"]),
        ((2024, 3, 4, 17, 0), ["night1"]),  # restricted: falls through to the base layer
        ((2024, 3, 5, 10, 0), ["dev2"]),
        ((2024, 3, 9, 10, 0), ["night1"]),  # Saturday
        ((2024, 3, 11, 12, 0), ["dev2"]),  # daily rotation: Mon 4th dev1 ... Mon 11th dev2
        ((2024, 3, 11, 18, 0), ["night2"]),
    ],
)
def test_higher_layer_wins_while_it_has_someone(when: tuple[int, ...], expected: list[str]) -> None:
    assert on_call(layered(), at(BERLIN, *when)) == expected


@pytest.mark.parametrize(
    ("restriction", "when", "covered"),
    [
        (Restriction("22:00", "06:00", (4,)), (2024, 3, 8, 23, 0), True),  # Friday night
        (Restriction("22:00", "06:00", (4,)), (2024, 3, 9, 5, 59), True),  # into Saturday
        (Restriction("22:00", "06:00", (4,)), (2024, 3, 9, 6, 0), False),
        (Restriction("22:00", "06:00", (4,)), (2024, 3, 7, 23, 0), False),  # Thursday
        (Restriction("09:00", "24:00"), (2024, 3, 7, 23, 59), True),
        (Restriction("09:00", "24:00"), (2024, 3, 8, 0, 0), False),
        (Restriction("08:00", "08:00", (5,)), (2024, 3, 10, 7, 59), True),  # a whole day
        (Restriction("08:00", "08:00", (5,)), (2024, 3, 10, 8, 0), False),
        (Restriction(), (2024, 3, 10, 12, 0), True),
    ],
)
def test_restriction_windows(
    restriction: Restriction, when: tuple[int, int, int, int, int], covered: bool
) -> None:
    assert restriction.covers(datetime(*when)) is covered


def test_shifts_follow_restrictions_and_layers() -> None:
    got = shifts(layered(), at(BERLIN, 2024, 3, 4, 9, 0), at(BERLIN, 2024, 3, 6, 9, 0))
    assert [(s.user, hours(s)) for s in got] == [
        ("dev1", 8),
        ("night1", 16),
        ("dev2", 8),
        ("night1", 16),
    ]


# -- overrides -----------------------------------------------------------------------------


def test_override_beats_every_layer() -> None:
    base = layered()
    cover = Override("zoe", at(BERLIN, 2024, 3, 4, 12, 0), at(BERLIN, 2024, 3, 4, 20, 0))
    schedule = OnCallSchedule(base.name, base.timezone, base.rotations, (cover,))
    assert on_call(schedule, at(BERLIN, 2024, 3, 4, 11, 59)) == ["dev1"]
    assert on_call(schedule, at(BERLIN, 2024, 3, 4, 12, 0)) == ["zoe"]
    assert on_call(schedule, at(BERLIN, 2024, 3, 4, 19, 59)) == ["zoe"]
    assert on_call(schedule, at(BERLIN, 2024, 3, 4, 20, 0)) == ["night1"]
    got = shifts(schedule, at(BERLIN, 2024, 3, 4, 9, 0), at(BERLIN, 2024, 3, 5, 9, 0))
    assert [(s.user, hours(s)) for s in got] == [("dev1", 3), ("zoe", 8), ("night1", 13)]


def test_overlapping_overrides_put_both_users_on_call() -> None:
    t = at(BERLIN, 2024, 3, 4, 12, 0)
    schedule = OnCallSchedule(
        "o",
        BERLIN,
        weekly_berlin().rotations,
        (Override("x", t, t + 4 * HOUR), Override("y", t + 2 * HOUR, t + 6 * HOUR)),
    )
    assert on_call(schedule, t + 3 * HOUR) == ["x", "y"]
    got = shifts(schedule, t, t + 8 * HOUR)
    assert got == [
        Shift("x", t, t + 4 * HOUR),
        Shift("y", t + 2 * HOUR, t + 6 * HOUR),
        Shift("alice", t + 6 * HOUR, t + 8 * HOUR),
    ]


def test_schedule_with_no_rotations_and_no_overrides_has_nobody() -> None:
    schedule = OnCallSchedule("empty", "UTC")
    assert on_call(schedule, 0) == []
    assert shifts(schedule, 0, 100) == []


def test_shifts_of_an_empty_span() -> None:
    assert shifts(weekly_berlin(), 100.0, 100.0) == []


# -- parsing -------------------------------------------------------------------------------


def test_schedule_from_mapping() -> None:
    schedule = schedule_from_mapping(
        {
            "name": "primary",
            "timezone": BERLIN,
            "rotations": [
                {"users": ["alice", "bob"], "start": "2024-03-04T09:00", "length": "weekly"},
                {
                    "users": ["dev1"],
                    "start": "2024-03-04T09:00",
                    "length": "daily",
                    "handoff_time": "09:00",
                    "restrictions": [{"days": ["mon-fri"], "start": "09:00", "end": "17:00"}],
                },
            ],
            "overrides": [
                {"user": "carol", "start": "2024-03-09T00:00", "end": "2024-03-10T00:00+01:00"},
                {"user": "dave", "start": 1_710_000_000, "end": 1_710_003_600},
            ],
        }
    )
    assert schedule.rotations[1].restrictions == (Restriction("09:00", "17:00", (0, 1, 2, 3, 4)),)
    assert schedule.overrides[0] == Override(
        "carol", at(BERLIN, 2024, 3, 9), at(BERLIN, 2024, 3, 10)
    )
    assert schedule.overrides[1].start_ts == 1_710_000_000
    assert on_call(schedule, at(BERLIN, 2024, 3, 5, 10, 0)) == ["dev1"]
    assert on_call(schedule, at(BERLIN, 2024, 3, 9, 10, 0)) == ["carol"]


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        (["mon-fri"], (0, 1, 2, 3, 4)),
        (["Saturday", "sun"], (5, 6)),
        (["fri-mon"], (0, 4, 5, 6)),
        (["wed"], (2,)),
    ],
)
def test_restriction_days(spec: list[str], days: tuple[int, ...]) -> None:
    schedule = schedule_from_mapping(
        {
            "name": "p",
            "rotations": [
                {"users": ["a"], "start": "2024-01-01T00:00", "restrictions": [{"days": spec}]}
            ],
        }
    )
    assert schedule.rotations[0].restrictions[0].days == days


GOOD_ROTATION = {"users": ["a"], "start": "2024-01-01T09:00"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a mapping with name"),
        ({"rotations": [GOOD_ROTATION]}, r"oncall.name: give the schedule a name"),
        ({"name": "p", "timezone": "Mars/Base", "rotations": [GOOD_ROTATION]}, "unknown timezone"),
        ({"name": "p"}, "give at least one rotation"),
        ({"name": "p", "rotations": [GOOD_ROTATION], "layers": []}, "unknown field.*layers"),
        ({"name": "p", "rotations": {"users": ["a"]}}, r"'p'.rotations: expected a list"),
        ({"name": "p", "rotations": [{"start": "2024-01-01"}]}, r"rotations\[0\].users"),
        ({"name": "p", "rotations": [{"users": ["a"]}]}, r"rotations\[0\].start"),
        (
            {"name": "p", "rotations": [{"users": ["a"], "start": "next monday"}]},
            r"rotations\[0\]: invalid start 'next monday'",
        ),
        (
            {"name": "p", "rotations": [{**GOOD_ROTATION, "length": "fortnightly"}]},
            r"rotations\[0\]: invalid rotation length 'fortnightly'",
        ),
        (
            {"name": "p", "rotations": [{**GOOD_ROTATION, "length": "0h"}]},
            "invalid rotation length '0h'",
        ),
        (
            {"name": "p", "rotations": [{**GOOD_ROTATION, "handoff_time": "9am"}]},
            "invalid time of day '9am'",
        ),
        (
            {"name": "p", "rotations": [{**GOOD_ROTATION, "restrictions": [{"days": ["funday"]}]}]},
            r"restrictions\[0\].days: unknown weekday 'funday'",
        ),
        (
            {
                "name": "p",
                "rotations": [{**GOOD_ROTATION, "restrictions": [{"start": "25:00"}]}],
            },
            r"restrictions\[0\]: invalid time of day '25:00'",
        ),
        (
            {"name": "p", "overrides": [{"user": "a", "start": "2024-01-02", "end": "2024-01-01"}]},
            r"overrides\[0\]: end must be after start",
        ),
        (
            {"name": "p", "overrides": [{"user": "a", "start": "soon", "end": "2024-01-01"}]},
            r"overrides\[0\].start: invalid time 'soon'",
        ),
        (
            {"name": "p", "overrides": [{"start": 1, "end": 2}]},
            r"overrides\[0\].user: give the user",
        ),
    ],
)
def test_schedule_from_mapping_errors(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        schedule_from_mapping(data)


@pytest.mark.parametrize(
    ("text", "hours_"),
    [("daily", 24), ("weekly", 168), ("8h", 8), ("3d", 72), ("2w", 336), (" 12H ", 12)],
)
def test_parse_length(text: str, hours_: int) -> None:
    assert parse_length(text).total_seconds() == hours_ * HOUR


@pytest.mark.parametrize("text", ["", "monthly", "-1d", "1.5d", "h", "0w"])
def test_parse_length_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid rotation length"):
        parse_length(text)


@pytest.mark.parametrize("text", ["24:00", "9", "09:60", "ab:cd", ""])
def test_parse_clock_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="write HH:MM"):
        parse_clock(text)


def test_direct_construction_is_validated() -> None:
    with pytest.raises(ValueError, match="at least one user"):
        Rotation((), "2024-01-01T00:00")
    with pytest.raises(ValueError, match="end after it starts"):
        Override("a", 10, 10)
    with pytest.raises(ValueError, match="unknown timezone"):
        OnCallSchedule("x", "Nowhere/Land")
    with pytest.raises(ValueError, match="weekday 7 out of range"):
        Restriction(days=(7,))
