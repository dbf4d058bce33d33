"""Pushgateway rules as pure functions: paths, grouping keys, PUT/POST/DELETE."""

from __future__ import annotations

import base64
import re

import pytest

from tenantwatch.metrics.push_groups import (
    PUSH_TIME,
    PushGroup,
    PushPathError,
    apply_push,
    build_families,
    deleted_series,
    family_of,
    parse_push_path,
)
from tenantwatch.promql.model import labels_of
from tenantwatch.types import Labels


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def L(**labels: str) -> Labels:
    return labels_of(labels)


# --- paths ------------------------------------------------------------------------------


def test_a_job_path_is_a_grouping_key() -> None:
    assert parse_push_path("job/backup") == (("job", "backup"),)


def test_label_pairs_join_the_grouping_key() -> None:
    assert parse_push_path("job/backup/instance/db-1/zone/eu") == (
        ("instance", "db-1"),
        ("job", "backup"),
        ("zone", "eu"),
    )


def test_base64_values_may_hold_slashes_and_unicode() -> None:
    path = f"job@base64/{b64('nightly/backup')}/path@base64/{b64('/var/tmp')}/name@base64/{b64('Προμηθεύς')}"
    assert dict(parse_push_path(path)) == {
        "job": "nightly/backup",
        "path": "/var/tmp",
        "name": "Προμηθεύς",
    }


def test_base64_padding_is_optional_and_a_lone_equals_is_empty() -> None:
    assert dict(parse_push_path("job/x/a@base64/YQ==/b@base64/YQ/c@base64/=")) == {
        "job": "x",
        "a": "a",
        "b": "a",
        "c": "",
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "push to /metrics/job/<job>{/<label>/<value>}"),
        ("jobs/x", "push to /metrics/job/<job>{/<label>/<value>}"),
        ("job/x/zone", "label 'zone' has no value"),
        ("job@base64/=", "the job name must not be empty"),
        ("job/x/__name__/y", "invalid label name '__name__'"),
        ("job/x/1abc/y", "invalid label name '1abc'"),
        ("job/x/job/y", "label 'job' appears twice in the path"),
        ("job/x/a@base64/!!!", "value of 'a' '!!!' is not URL-safe base64"),
    ],
)
def test_a_bad_path_says_what_is_wrong(path: str, message: str) -> None:
    with pytest.raises(PushPathError, match=re.escape(message)):
        parse_push_path(path)


# --- families ---------------------------------------------------------------------------


def test_sample_names_map_to_their_declared_family() -> None:
    types = {"lat": "histogram", "req": "counter"}
    assert family_of("lat_bucket", types) == "lat"
    assert family_of("lat_sum", types) == "lat"
    assert family_of("req_total", types) == "req"
    assert family_of("other_sum", types) == "other_sum"


def test_grouping_labels_overwrite_the_pushed_ones() -> None:
    key = L(job="backup", instance="db-1")
    families = build_families(key, [(L(__name__="x", job="other", a="1"), 5.0)], {})
    assert families == {"x": ((L(__name__="x", job="backup", instance="db-1", a="1"), 5.0),)}


def test_pushed_push_time_series_are_ignored() -> None:
    key = L(job="j")
    assert build_families(key, [(L(__name__=PUSH_TIME), 1.0)], {}) == {}


# --- PUT, POST, DELETE ------------------------------------------------------------------

KEY = L(job="backup")
A1 = L(__name__="a", job="backup", x="1")
A2 = L(__name__="a", job="backup", x="2")
B = L(__name__="b", job="backup")


def test_put_replaces_the_whole_group_and_reports_what_went_away() -> None:
    old = PushGroup(KEY, {"a": ((A1, 1.0), (A2, 2.0)), "b": ((B, 3.0),)}, 100.0)
    change = apply_push(old, KEY, {"a": ((A1, 10.0),)}, replace_all=True, now=200.0)
    assert change.group.families == {"a": ((A1, 10.0),)}
    assert change.group.push_time == 200.0
    assert set(change.removed) == {A2, B}


def test_post_replaces_only_the_families_it_names() -> None:
    old = PushGroup(KEY, {"a": ((A1, 1.0), (A2, 2.0)), "b": ((B, 3.0),)}, 100.0)
    change = apply_push(old, KEY, {"a": ((A1, 10.0),)}, replace_all=False, now=200.0)
    assert change.group.families == {"a": ((A1, 10.0),), "b": ((B, 3.0),)}
    assert change.removed == (A2,)


def test_an_empty_post_only_updates_the_push_time() -> None:
    old = PushGroup(KEY, {"b": ((B, 3.0),)}, 100.0)
    change = apply_push(old, KEY, {}, replace_all=False, now=200.0)
    assert change.group.families == old.families
    assert change.group.push_time == 200.0
    assert change.removed == ()


def test_an_empty_put_empties_the_group_but_keeps_it() -> None:
    old = PushGroup(KEY, {"b": ((B, 3.0),)}, 100.0)
    change = apply_push(old, KEY, {}, replace_all=True, now=200.0)
    assert change.group.families == {}
    assert change.removed == (B,)


def test_a_group_exposes_push_time_and_push_failure_time() -> None:
    group = PushGroup(KEY, {"b": ((B, 3.0),)}, 1234.5)
    series = dict(group.series())
    assert series[B] == 3.0
    assert series[L(__name__="push_time_seconds", job="backup")] == 1234.5
    assert series[L(__name__="push_failure_time_seconds", job="backup")] == 0.0
    assert set(deleted_series(group)) == set(series)
