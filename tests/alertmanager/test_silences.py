from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tenantwatch.alertmanager.routing import LabelMatcher
from tenantwatch.alertmanager.silences import (
    Recurrence,
    Silence,
    SilenceAlreadyExpired,
    apply_resolution,
    can_update,
    create,
    ended_by_resolution,
    expire,
    matchers_from_api,
    matchers_to_api,
    mutes,
    next_change,
    occurrence_window,
    silence_state,
    silenced_by,
    state,
    update,
    validate,
)

T0 = 1_700_000_000.0
HOUR = 3600.0
DAY = 86400.0


def at(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz)).timestamp()


def m(name: str, op: str, value: str) -> LabelMatcher:
    return LabelMatcher.of(name, op, value)


def silence(**kw: object) -> Silence:
    base = Silence(
        id="s1",
        matchers=(m("alertname", "=", "DiskFull"),),
        starts_at=T0,
        ends_at=T0 + HOUR,
        updated_at=T0,
        created_by="alice",
        comment="maintenance",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


# -- plain states --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T0 - 1, "pending"),
        (T0 - 0.001, "pending"),
        (T0, "active"),
        (T0 + HOUR / 2, "active"),
        (T0 + HOUR - 0.001, "active"),
        (T0 + HOUR, "expired"),
        (T0 + HOUR + 1, "expired"),
    ],
)
def test_state_follows_starts_and_ends(now: float, expected: str) -> None:
    assert state(silence(), now) == expected
    assert silence_state(silence(), now) == expected


def test_it_mutes_only_matching_alerts_while_active() -> None:
    s = silence(matchers=(m("alertname", "=", "DiskFull"), m("env", "!~", "dev|test")))
    assert mutes(s, {"alertname": "DiskFull", "env": "prod"}, T0 + 1)
    assert not mutes(s, {"alertname": "DiskFull", "env": "dev"}, T0 + 1)
    assert not mutes(s, {"alertname": "CpuHigh", "env": "prod"}, T0 + 1)
    assert not mutes(s, {"alertname": "DiskFull", "env": "prod"}, T0 - 1)
    assert not mutes(s, {"alertname": "DiskFull", "env": "prod"}, T0 + HOUR)


def test_silenced_by_lists_every_active_matching_silence_in_order() -> None:
    a = silence(id="a")
    b = silence(id="b", matchers=(m("severity", "=~", "warn.*"),))
    c = silence(id="c", starts_at=T0 + 10)
    d = silence(id="d", matchers=(m("alertname", "=", "Other"),))
    labels = {"alertname": "DiskFull", "severity": "warning"}
    assert silenced_by(labels, [d, c, b, a], T0 + 1) == ["b", "a"]
    assert silenced_by(labels, [d, c, b, a], T0 + 11) == ["c", "b", "a"]
    assert silenced_by(labels, [], T0) == []


def test_next_change_of_a_plain_silence() -> None:
    s = silence()
    assert next_change(s, T0 - 5) == T0
    assert next_change(s, T0 + 5) == T0 + HOUR
    assert next_change(s, T0 + HOUR) is None
    assert occurrence_window(s, T0 + 5) == (T0, T0 + HOUR)
    assert occurrence_window(s, T0 - 5) is None


# -- recurring silences --------------------------------------------------------------------


def weekend_nights(tz: str = "Europe/Berlin") -> Silence:
    # Saturdays and Sundays 02:00-04:00 local time, from Saturday 2024-03-23 to 2024-11-30
    return silence(
        starts_at=at(tz, 2024, 3, 23, 2, 0),
        ends_at=at(tz, 2024, 11, 30, 0, 0),
        recurrence=Recurrence("FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=2", 2 * HOUR, tz),
    )


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # CET (UTC+1) before the spring change
        ((2024, 3, 23, 1, 59), "pending"),
        ((2024, 3, 23, 2, 0), "active"),
        ((2024, 3, 23, 3, 59), "active"),
        ((2024, 3, 23, 4, 0), "pending"),
        ((2024, 3, 24, 2, 30), "active"),  # Sunday
        ((2024, 3, 25, 2, 30), "pending"),  # Monday
        # CEST (UTC+2): still 02:00 local, i.e. an hour earlier in UTC
        ((2024, 4, 6, 2, 0), "active"),
        ((2024, 4, 6, 1, 30), "pending"),
        ((2024, 4, 6, 4, 0), "pending"),
        # back to CET after the October change
        ((2024, 11, 2, 2, 0), "active"),
        ((2024, 11, 2, 3, 59), "active"),
        ((2024, 11, 2, 4, 0), "pending"),
        # after endsAt
        ((2024, 11, 30, 2, 30), "expired"),
    ],
)
def test_recurring_silence_keeps_local_time_across_dst(
    when: tuple[int, ...], expected: str
) -> None:
    assert state(weekend_nights(), at("Europe/Berlin", *when)) == expected


def test_recurring_occurrence_is_utc_shifted_by_dst() -> None:
    s = weekend_nights()
    # 02:00 CET = 01:00Z; 02:00 CEST = 00:00Z
    assert occurrence_window(s, at("UTC", 2024, 3, 23, 1, 30)) == (
        at("UTC", 2024, 3, 23, 1, 0),
        at("UTC", 2024, 3, 23, 3, 0),
    )
    assert occurrence_window(s, at("UTC", 2024, 4, 6, 0, 30)) == (
        at("UTC", 2024, 4, 6, 0, 0),
        at("UTC", 2024, 4, 6, 2, 0),
    )
    # a UTC-based rule would still be active at 02:30Z; the local one ended at 02:00Z
    assert state(s, at("UTC", 2024, 4, 6, 2, 30)) == "pending"


def test_recurring_occurrence_in_the_spring_gap_starts_after_the_change() -> None:
    # Sunday 2024-03-31 02:00 does not exist in Berlin; it is taken as 03:00 CEST
    s = weekend_nights()
    assert state(s, at("UTC", 2024, 3, 31, 0, 59)) == "pending"
    assert state(s, at("UTC", 2024, 3, 31, 1, 0)) == "active"
    assert state(s, at("UTC", 2024, 3, 31, 2, 59)) == "active"
    assert state(s, at("UTC", 2024, 3, 31, 3, 0)) == "pending"


def test_recurring_daily_silence_in_new_york() -> None:
    s = silence(
        starts_at=at("America/New_York", 2024, 3, 8, 9, 0),
        ends_at=at("America/New_York", 2024, 3, 20, 0, 0),
        recurrence=Recurrence("FREQ=DAILY;BYHOUR=9", 30 * 60, "America/New_York"),
    )
    # 09:00 EST = 14:00Z before 2024-03-10, 09:00 EDT = 13:00Z after
    assert state(s, at("UTC", 2024, 3, 9, 14, 10)) == "active"
    assert state(s, at("UTC", 2024, 3, 9, 13, 10)) == "pending"
    assert state(s, at("UTC", 2024, 3, 11, 13, 10)) == "active"
    assert state(s, at("UTC", 2024, 3, 11, 14, 10)) == "pending"


def test_recurring_silence_does_not_mute_between_occurrences() -> None:
    s = weekend_nights()
    labels = {"alertname": "DiskFull"}
    assert mutes(s, labels, at("Europe/Berlin", 2024, 6, 1, 3, 0))
    assert not mutes(s, labels, at("Europe/Berlin", 2024, 6, 3, 3, 0))


def test_recurring_occurrence_is_cut_at_ends_at() -> None:
    s = replace(weekend_nights(), ends_at=at("Europe/Berlin", 2024, 6, 1, 3, 0))
    assert occurrence_window(s, at("Europe/Berlin", 2024, 6, 1, 2, 30)) == (
        at("Europe/Berlin", 2024, 6, 1, 2, 0),
        at("Europe/Berlin", 2024, 6, 1, 3, 0),
    )
    assert state(s, at("Europe/Berlin", 2024, 6, 1, 3, 0)) == "expired"


def test_next_change_of_a_recurring_silence() -> None:
    s = weekend_nights()
    tz = "Europe/Berlin"
    assert next_change(s, at(tz, 2024, 3, 1)) == at(tz, 2024, 3, 23, 2, 0)
    assert next_change(s, at(tz, 2024, 3, 23, 2, 30)) == at(tz, 2024, 3, 23, 4, 0)
    assert next_change(s, at(tz, 2024, 3, 25, 12, 0)) == at(tz, 2024, 3, 30, 2, 0)
    # the last weekend before endsAt (Saturday 2024-11-30 00:00)
    assert next_change(s, at(tz, 2024, 11, 25, 0, 0)) == at(tz, 2024, 11, 30, 0, 0)
    assert next_change(s, at(tz, 2024, 12, 1)) is None


def test_recurring_rule_with_count_stops_early() -> None:
    s = replace(
        weekend_nights(),
        recurrence=Recurrence("FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;COUNT=2", 2 * HOUR, "Europe/Berlin"),
    )
    tz = "Europe/Berlin"
    assert state(s, at(tz, 2024, 3, 30, 2, 30)) == "active"
    assert state(s, at(tz, 2024, 4, 6, 2, 30)) == "pending"
    assert next_change(s, at(tz, 2024, 4, 1)) == s.ends_at


def test_recurring_until_in_utc_is_accepted() -> None:
    s = replace(
        weekend_nights(),
        recurrence=Recurrence(
            "RRULE:FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;UNTIL=20240401T000000Z", 2 * HOUR, "Europe/Berlin"
        ),
    )
    assert validate(s, s.starts_at) == []
    assert state(s, at("Europe/Berlin", 2024, 3, 30, 2, 30)) == "active"
    assert state(s, at("Europe/Berlin", 2024, 4, 6, 2, 30)) == "pending"


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"matchers": ()}, "at least one matcher required"),
        ({"matchers": (m("a", "=", ""),)}, "must not match the empty string"),
        ({"matchers": (m("a", "=~", ".*"), m("b", "=", ""))}, "must not match the empty string"),
        ({"matchers": (m("a", "=~", "x|"),)}, "must not match the empty string"),
        ({"matchers": (m("a-b", "=", "x"),)}, "invalid label name 'a-b'"),
        ({"ends_at": T0}, "start time must be before end time"),
        ({"ends_at": T0 - 1}, "start time must be before end time"),
        ({"starts_at": T0 - 2 * HOUR, "ends_at": T0 - HOUR}, "end time can't be in the past"),
        ({"ends_at": float("nan")}, "endsAt must be a valid time"),
        ({"tenant_id": "acme"}, 'needs the matcher tenant="acme"'),
        (
            {"tenant_id": "acme", "matchers": (m("tenant", "=~", "acme"),)},
            'needs the matcher tenant="acme"',
        ),
        (
            {"tenant_id": "acme", "matchers": (m("tenant", "=", "other"),)},
            'needs the matcher tenant="acme"',
        ),
        ({"recurrence": Recurrence("FREQ=WEEKLY", 3600, "Mars/Olympus")}, "unknown timezone"),
        ({"recurrence": Recurrence("FREQ=BOGUS", 3600)}, "not a valid RFC 5545 RRULE"),
        ({"recurrence": Recurrence("FREQ=WEEKLY", 0)}, "duration must be positive"),
        ({"recurrence": Recurrence("FREQ=MINUTELY", 60)}, "too frequent"),
        ({"recurrence": Recurrence("FREQ=DAILY;INTERVAL=0", 60)}, "INTERVAL must be 1"),
        (
            {"recurrence": Recurrence("DTSTART:20240101T000000\nRRULE:FREQ=DAILY", 60)},
            "startsAt is its DTSTART",
        ),
        (
            {"recurrence": Recurrence("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", 60)},
            "no occurrence between startsAt and endsAt",
        ),
    ],
)
def test_validate_rejects(changes: dict[str, object], fragment: str) -> None:
    problems = validate(silence(**changes), T0)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    "changes",
    [
        {},
        # like Alertmanager 0.25: empty createdBy and comment are accepted
        {"created_by": "", "comment": ""},
        # != and !~ count as not matching the empty string (Alertmanager's matchesEmpty)
        {"matchers": (m("env", "!=", "prod"),)},
        {"matchers": (m("a", "=", ""), m("b", "=~", ".+"))},
        {"starts_at": T0 - DAY},  # a start in the past is fine
        {"tenant_id": "acme", "matchers": (m("tenant", "=", "acme"), m("job", "=", "x"))},
        {"recurrence": Recurrence("FREQ=HOURLY", 600, "Asia/Kolkata")},
    ],
)
def test_validate_accepts(changes: dict[str, object]) -> None:
    assert validate(silence(**changes), T0) == []


def test_validate_allows_an_end_of_exactly_now() -> None:
    # Alertmanager rejects only an end *before* now
    assert validate(silence(), T0 + HOUR) == []


# -- create, expire, update ----------------------------------------------------------------


def test_create_moves_a_past_start_to_now() -> None:
    s = create(silence(starts_at=T0 - HOUR, matched_once=True), T0)
    assert (s.starts_at, s.updated_at, s.matched_once) == (T0, T0, False)
    assert create(silence(starts_at=T0 + 60), T0).starts_at == T0 + 60


def test_create_keeps_a_recurring_start_as_the_rules_anchor() -> None:
    s = weekend_nights()
    assert create(s, s.starts_at + DAY).starts_at == s.starts_at


@pytest.mark.parametrize(
    ("now", "starts", "ends"),
    [
        (T0 - 10, T0 - 10, T0 - 10),  # pending: never starts
        (T0 + 10, T0, T0 + 10),  # active: ends now
    ],
)
def test_expire(now: float, starts: float, ends: float) -> None:
    done = expire(silence(), now)
    assert (done.starts_at, done.ends_at, done.updated_at) == (starts, ends, now)
    assert state(done, now) == "expired"


def test_expire_a_recurring_silence_between_occurrences_keeps_its_start() -> None:
    s = weekend_nights()
    now = at("Europe/Berlin", 2024, 6, 3, 12, 0)
    assert state(s, now) == "pending"
    done = expire(s, now)
    assert (done.starts_at, done.ends_at) == (s.starts_at, now)


def test_expiring_twice_is_an_error() -> None:
    done = expire(silence(), T0 + 10)
    with pytest.raises(SilenceAlreadyExpired, match="already expired"):
        expire(done, T0 + 10)
    with pytest.raises(ValueError):
        expire(silence(), T0 + HOUR)


# (old state at `now`, change, in place?) — checked against Alertmanager 0.25.0's API
UPDATES = [
    ("active: new comment and end", {"comment": "longer", "ends_at": T0 + 2 * HOUR}, True),
    ("active: new creator", {"created_by": "bob"}, True),
    ("active: shorter end still ahead", {"ends_at": T0 + 1800}, True),
    ("active: end before now", {"ends_at": T0 + 100}, False),
    ("active: start changed", {"starts_at": T0 - 60}, False),
    ("active: start changed below a second", {"starts_at": T0 + 0.5}, True),
    ("active: matchers changed", {"matchers": (m("alertname", "=", "Other"),)}, False),
    (
        "active: matcher added",
        {"matchers": (m("alertname", "=", "DiskFull"), m("env", "=", "prod"))},
        False,
    ),
    ("active: tenant changed", {"tenant_id": "acme"}, False),
    ("active: recurrence added", {"recurrence": Recurrence("FREQ=DAILY", 60)}, False),
    ("active: end_on_resolve switched on", {"end_on_resolve": True}, True),
]


@pytest.mark.parametrize(("label", "changes", "in_place"), UPDATES, ids=[u[0] for u in UPDATES])
def test_update_of_an_active_silence(
    label: str, changes: dict[str, object], in_place: bool
) -> None:
    old = silence(matched_once=True)
    now = T0 + 600
    new = replace(old, **changes)  # type: ignore[arg-type]
    assert can_update(old, new, now) is in_place
    kept, expired = update(old, new, now)
    if in_place:
        assert kept.id == "s1" and expired is None
        assert kept.matched_once and kept.updated_at == now
    else:
        assert kept.id == "" and not kept.matched_once
        assert expired is not None and expired.id == "s1"
        assert (expired.starts_at, expired.ends_at) == (T0, now)
        # a new silence starts now at the earliest; a recurring one keeps its anchor
        assert kept.starts_at == (T0 if new.recurrence else now)


def test_update_of_a_pending_silence() -> None:
    old = silence(starts_at=T0 + HOUR, ends_at=T0 + 2 * HOUR)
    later = replace(old, starts_at=T0 + 1800, comment="moved")
    kept, expired = update(old, later, T0)
    assert kept.id == "s1" and kept.starts_at == T0 + 1800 and expired is None

    started = replace(old, starts_at=T0 - 60)
    kept, expired = update(old, started, T0)
    assert kept.id == "" and kept.starts_at == T0
    assert expired is not None and (expired.starts_at, expired.ends_at) == (T0, T0)


def test_update_of_an_expired_silence_makes_a_new_one_and_leaves_the_old() -> None:
    old = silence()
    new = replace(old, ends_at=T0 + 3 * HOUR)
    kept, expired = update(old, new, T0 + 2 * HOUR)
    assert kept.id == "" and expired is None
    assert kept.starts_at == T0 + 2 * HOUR


def test_matcher_order_matters_for_update_like_alertmanager() -> None:
    a, b = m("a", "=", "1"), m("b", "=", "2")
    old = silence(matchers=(a, b))
    assert can_update(old, replace(old, matchers=(a, b)), T0 + 1)
    assert not can_update(old, replace(old, matchers=(b, a)), T0 + 1)


# -- end on resolve ------------------------------------------------------------------------

FIRING_DISK = [{"alertname": "DiskFull", "instance": "db1"}]
FIRING_OTHER = [{"alertname": "CpuHigh"}]


@pytest.mark.parametrize(
    ("end_on_resolve", "matched_once", "firing", "now", "expected"),
    [
        (True, False, FIRING_OTHER, T0 + 1, (False, False)),  # never matched: keeps waiting
        (True, False, FIRING_DISK, T0 + 1, (False, True)),  # first match is remembered
        (True, True, FIRING_DISK, T0 + 1, (False, True)),  # still firing
        (True, True, FIRING_OTHER, T0 + 1, (True, True)),  # matched before, now resolved
        (True, True, [], T0 + 1, (True, True)),
        (True, True, [], T0 - 1, (False, True)),  # pending: not yet
        (True, True, [], T0 + HOUR, (False, True)),  # expired already
        (False, True, [], T0 + 1, (False, True)),  # ordinary silence
    ],
)
def test_ended_by_resolution(
    end_on_resolve: bool,
    matched_once: bool,
    firing: list[dict[str, str]],
    now: float,
    expected: tuple[bool, bool],
) -> None:
    s = silence(end_on_resolve=end_on_resolve, matched_once=matched_once)
    assert ended_by_resolution(s, firing, now) == expected


def test_apply_resolution_walks_through_the_lifecycle() -> None:
    s = silence(end_on_resolve=True)
    assert apply_resolution(s, [], T0 + 1) is s
    seen = apply_resolution(s, FIRING_DISK, T0 + 2)
    assert seen.matched_once and state(seen, T0 + 2) == "active"
    assert apply_resolution(seen, FIRING_DISK, T0 + 3) is seen
    ended = apply_resolution(seen, [], T0 + 4)
    assert ended.ends_at == T0 + 4 and state(ended, T0 + 4) == "expired"


# -- API v2 matchers -----------------------------------------------------------------------


def test_matchers_round_trip_through_the_api_form() -> None:
    api = [
        {"name": "alertname", "value": "DiskFull", "isRegex": False, "isEqual": True},
        {"name": "env", "value": "prod", "isRegex": False, "isEqual": False},
        {"name": "job", "value": "api.*", "isRegex": True, "isEqual": True},
        {"name": "zone", "value": "eu-.*", "isRegex": True, "isEqual": False},
    ]
    parsed = matchers_from_api(api)
    assert [(x.name, x.op, x.value) for x in parsed] == [
        ("alertname", "=", "DiskFull"),
        ("env", "!=", "prod"),
        ("job", "=~", "api.*"),
        ("zone", "!~", "eu-.*"),
    ]
    assert matchers_to_api(parsed) == api


def test_matchers_from_api_defaults_is_equal_and_is_regex() -> None:
    (one,) = matchers_from_api([{"name": "a", "value": "b"}])
    assert one.op == "="
    (two,) = matchers_from_api([{"name": "a", "value": "b.*", "isRegex": True, "isEqual": None}])
    assert two.op == "=~"


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        ("alertname=x", "matchers must be a list"),
        ({"name": "a"}, "matchers must be a list"),
        (["a=b"], "matcher 0: expected an object"),
        ([{"value": "b"}], "matcher 0: invalid label name None"),
        ([{"name": "", "value": "b"}], "invalid label name ''"),
        ([{"name": "1a", "value": "b"}], "invalid label name '1a'"),
        ([{"name": "a", "value": "b"}, {"name": "c"}], "matcher 1 (c): value must be a string"),
        ([{"name": "a", "value": 3}], "value must be a string"),
        ([{"name": "a", "value": "b", "isRegex": "yes"}], "isRegex must be true or false"),
        ([{"name": "a", "value": "b", "isEqual": 0}], "isEqual must be true or false"),
        ([{"name": "a", "value": "(", "isRegex": True}], "invalid regular expression"),
    ],
)
def test_matchers_from_api_rejects_bad_input(items: object, fragment: str) -> None:
    with pytest.raises(ValueError) as err:
        matchers_from_api(items)
    assert fragment in str(err.value)
