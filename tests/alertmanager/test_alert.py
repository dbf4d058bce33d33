"""Alerts as Alertmanager keeps them: fingerprints, API defaults and validation, merging."""

from __future__ import annotations

import pytest

from tenantwatch.alertmanager.alert import (
    AmAlert,
    accept_posted,
    admit_posted,
    fingerprint,
    join_problems,
    labels_string,
    merge,
    put,
    validate_posted,
)


def alert(
    start: float = 100.0,
    end: float = 400.0,
    updated: float = 100.0,
    *,
    timeout: bool = False,
    summary: str = "",
    **labels: str,
) -> AmAlert:
    return AmAlert.of(
        labels=labels or {"alertname": "X"},
        annotations={"summary": summary} if summary else {},
        starts_at=start,
        ends_at=end,
        updated_at=updated,
        timeout=timeout,
    )


def test_fingerprint_is_alertmanagers() -> None:
    # printed by the real Alertmanager 0.25 for this label set
    labels = {
        "alertname": "ProbeFailure",
        "instance": "https://server.example.org",
        "severity": "critical",
    }
    assert fingerprint(labels) == "1cf7c7704caffcfb"
    assert fingerprint(dict(reversed(list(labels.items())))) == "1cf7c7704caffcfb"
    assert (
        AmAlert.of(
            labels=labels, annotations={}, starts_at=0.0, ends_at=0.0, updated_at=0.0
        ).fingerprint
        == "1cf7c7704caffcfb"
    )


def test_fingerprint_does_not_depend_on_shared_leading_labels_or_their_order() -> None:
    # the FNV state after leading pairs is cached: label sets that share them, and an
    # alert built from unsorted pairs, still get their own exact fingerprints
    a = {"alertname": "ProbeFailure", "instance": "https://server.example.org"}
    assert fingerprint({**a, "severity": "critical"}) == "1cf7c7704caffcfb"
    assert fingerprint({**a, "severity": "warning"}) != "1cf7c7704caffcfb"
    assert fingerprint({**a, "severity": "critical"}) == "1cf7c7704caffcfb"
    unsorted = AmAlert(
        (("severity", "critical"), ("alertname", "ProbeFailure"), *sorted(a.items())[1:]),
        (),
        0.0,
        0.0,
        0.0,
    )
    assert unsorted.fingerprint == "1cf7c7704caffcfb"


def test_fingerprint_of_no_labels_is_the_fnv_offset() -> None:
    assert fingerprint({}) == "cbf29ce484222325"


def test_fingerprint_separates_names_from_values() -> None:
    assert fingerprint({"ab": "c"}) != fingerprint({"a": "bc"})


def test_labels_string_sorts_items_as_text_like_go() -> None:
    # '0' and '1' sort before '=', so a0 and a1 come before a (seen in Alertmanager's keys)
    assert labels_string({"a": "1", "a1": "x", "a0": "y", "b": "q\nz"}) == (
        '{a0="y", a1="x", a="1", b="q\\nz"}'
    )
    assert labels_string({}) == "{}"


def test_resolved_at_and_status() -> None:
    a = alert(end=200.0)
    assert not a.resolved_at(199.9) and a.status(199.9) == "firing"
    assert a.resolved_at(200.0) and a.status(200.0) == "resolved"
    assert not alert(end=0.0).resolved_at(1e12)  # no end: never resolves


@pytest.mark.parametrize(
    ("labels", "annotations", "start", "end", "message"),
    [
        ({}, {}, None, None, "at least one label pair required"),
        ({"a": ""}, {}, None, None, "at least one label pair required"),
        ({"1a": "x"}, {}, None, None, 'invalid label set: invalid name "1a"'),
        ({"é": "x"}, {}, None, None, 'invalid label set: invalid name "é"'),
        ({"a": "x"}, {"b-c": "x"}, None, None, 'invalid annotations: invalid name "b-c"'),
        ({"a": "x"}, {}, 500.0, 400.0, "start time must be before end time"),
        ({"a": "x"}, {}, 10_000.0, None, "start time must be before end time"),
    ],
)
def test_validation_messages_are_alertmanagers(
    labels: dict[str, str],
    annotations: dict[str, str],
    start: float | None,
    end: float | None,
    message: str,
) -> None:
    # messages as the real Alertmanager answered them (HTTP 400)
    assert (
        validate_posted(labels, annotations, start, end, now=1000.0, resolve_timeout_s=300)
        == message
    )
    # the one-pass admission (the POST path) refuses with the same message
    assert admit_posted(labels, annotations, start, end, "", 1000.0, 300.0) == message


@pytest.mark.parametrize(
    ("labels", "start", "end"),
    [
        ({"a": "x", "gone": ""}, None, None),
        ({"b": "y", "a": "x"}, None, 900.0),
        ({"a": "ÿé"}, 500.0, 5000.0),
    ],
)
def test_admitted_alerts_are_the_accepted_ones(
    labels: dict[str, str], start: float | None, end: float | None
) -> None:
    admitted = admit_posted(labels, {"s": "t"}, start, end, "http://g", 1000.0, 300.0)
    accepted = accept_posted(labels, {"s": "t"}, start, end, "http://g", 1000.0, 300.0)
    assert isinstance(admitted, AmAlert)
    assert admitted == accepted and admitted.fingerprint == accepted.fingerprint


def test_valid_alerts_pass() -> None:
    assert validate_posted({"a": "ÿé"}, {"c": ""}, None, None, now=1.0) is None
    assert validate_posted({"a": "x", "empty": ""}, {}, 100.0, 100.0) is None
    # without `now` a start in the future cannot be judged against the timeout
    assert validate_posted({"a": "x"}, {}, 10_000.0, None) is None


def test_invalid_value_is_reported() -> None:
    assert validate_posted({"a": "\udcff"}, {}, None, None) == (
        'invalid label set: invalid value "\\udcff"'
    )


def test_several_problems_join_like_a_multierror() -> None:
    problems = [
        validate_posted({"a.b": "x"}, {}, None, None),
        validate_posted({}, {}, None, None),
    ]
    assert join_problems(p for p in problems if p) == (
        'invalid label set: invalid name "a.b"; at least one label pair required'
    )


def test_accepted_without_times_starts_now_and_times_out() -> None:
    a = accept_posted({"a": "x", "gone": ""}, {"s": "t"}, None, None, "http://g", 1000.0, 300.0)
    assert (a.starts_at, a.ends_at, a.updated_at, a.timeout) == (1000.0, 1300.0, 1000.0, True)
    assert a.label_map() == {"a": "x"}  # empty values are dropped
    assert a.annotation_map() == {"s": "t"} and a.generator_url == "http://g"


def test_accepted_with_only_an_end_starts_at_the_end() -> None:
    a = accept_posted({"a": "x"}, {}, None, 900.0, "", 1000.0, 300.0)
    assert (a.starts_at, a.ends_at, a.timeout) == (900.0, 900.0, False)
    assert a.resolved_at(1000.0)


def test_accepted_with_both_times_keeps_them() -> None:
    a = accept_posted({"a": "x"}, {}, 500.0, 5000.0, "", 1000.0, 300.0)
    assert (a.starts_at, a.ends_at, a.timeout) == (500.0, 5000.0, False)


def test_merge_keeps_the_earliest_start_and_the_younger_alert() -> None:
    old = alert(start=100.0, end=400.0, updated=100.0, summary="old")
    new = alert(start=200.0, end=500.0, updated=200.0, summary="new")
    for merged in (merge(old, new), merge(new, old)):
        assert merged.starts_at == 100.0 and merged.ends_at == 500.0
        assert merged.annotation_map() == {"summary": "new"} and merged.updated_at == 200.0


def test_merge_keeps_a_later_explicit_end_of_the_older_alert() -> None:
    old = alert(end=900.0, updated=100.0)
    new = alert(end=500.0, updated=200.0)
    assert merge(old, new).ends_at == 900.0
    timed_out = alert(end=900.0, updated=100.0, timeout=True)
    assert merge(timed_out, new).ends_at == 500.0  # a timeout end does not rule


def test_merge_of_two_resolved_alerts_keeps_the_latest_end() -> None:
    old = alert(end=190.0, updated=150.0)
    new = alert(end=180.0, updated=200.0)
    assert merge(old, new).ends_at == 190.0
    still_firing_then = alert(end=900.0, updated=150.0)
    assert merge(still_firing_then, new).ends_at == 180.0  # the resolution wins


def test_put_merges_overlapping_activity() -> None:
    stored = alert(start=100.0, end=400.0, updated=100.0)
    resolved = alert(start=100.0, end=250.0, updated=250.0)
    assert put(stored, resolved).ends_at == 250.0
    refreshed = alert(start=150.0, end=700.0, updated=300.0)
    assert (put(stored, refreshed).starts_at, put(stored, refreshed).ends_at) == (100.0, 700.0)


def test_put_replaces_when_the_alert_fires_again_after_resolving() -> None:
    stored = alert(start=100.0, end=250.0, updated=250.0)
    again = alert(start=300.0, end=900.0, updated=300.0)
    assert put(stored, again) == again
    assert put(None, again) == again
