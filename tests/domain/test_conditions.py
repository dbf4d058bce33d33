"""Gatus-style conditions: parsing errors with columns, and verdicts with details."""

from __future__ import annotations

import json
import random

import pytest

from tenantwatch.domain.conditions import (
    ConditionError,
    Observation,
    evaluate,
    evaluate_all,
    parse_condition,
)

BODY = json.dumps(
    {"data": {"items": [{"ok": True, "id": 7}, {"ok": False}]}, "status": "all healthy", "n": 3}
).encode()
OBS = Observation(
    status=200,
    response_time_ms=120.0,
    body=BODY,
    certificate_expiry_ms=100 * 3_600_000.0,
    connected=True,
    dns_rcode="NOERROR",
)


def judge(text: str, obs: Observation = OBS) -> tuple[bool, str]:
    outcome = evaluate(parse_condition(text), obs)
    return outcome.ok, outcome.detail


@pytest.mark.parametrize(
    "text",
    [
        "[STATUS] == 200",
        "[STATUS] < 300",
        "[RESPONSE_TIME] < 500",
        "[BODY].data.items[0].ok == true",
        "[BODY].status == pat(*healthy*)",
        "len([BODY].data.items) > 0",
        "[CERTIFICATE_EXPIRATION] > 72h",
        "[CONNECTED] == true",
        "[DNS_RCODE] == NOERROR",
        "[STATUS] == any(200, 429)",
        "has([BODY].data) == true",
        "has([BODY].errors) == false",
        "[BODY].data.items[0].id == 7",
        "[BODY].n >= 3",
        "[RESPONSE_TIME]<1s",
    ],
)
def test_conditions_that_hold(text: str) -> None:
    ok, detail = judge(text)
    assert ok, detail


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("[STATUS] == 503", "[STATUS] (200) == 503"),
        ("[RESPONSE_TIME] < 100", "[RESPONSE_TIME] (120) < 100"),
        ("[BODY].data.items[1].ok == true", "[BODY].data.items[1].ok (false) == true"),
        ("[BODY].status == pat(*down*)", "[BODY].status (all healthy) == pat(*down*)"),
        ("[CERTIFICATE_EXPIRATION] > 200h", "[CERTIFICATE_EXPIRATION] (360000000) > 200h"),
        ("[BODY].missing == 1", "[BODY].missing was not found in the body"),
        ("[IP] == 127.0.0.1", "[IP] is not known for this check"),
        ("[STATUS] == any(429, 503)", "[STATUS] (200) == any(429, 503)"),
    ],
)
def test_conditions_that_fail_say_what_was_seen(text: str, detail: str) -> None:
    assert judge(text) == (False, detail)


def test_a_body_that_is_not_json_fails_a_path() -> None:
    ok, detail = judge("[BODY].a == 1", Observation(body=b"<html>"))
    assert not ok and detail == "the body is not JSON"


def test_ordering_needs_numbers() -> None:
    ok, detail = judge("[DNS_RCODE] > NOERROR")
    assert not ok and "needs numbers" in detail


def test_whole_body_pattern_and_length() -> None:
    obs = Observation(body=b"service is healthy")
    assert judge("[BODY] == pat(*healthy*)", obs)[0]
    assert judge("len([BODY]) == 18", obs)[0]
    assert not judge("[BODY] != pat(*healthy*)", obs)[0]


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("", 1, "empty condition"),
        ("[STATUS]", 1, "no operator"),
        ("[FOO] == 1", 1, "unknown placeholder [FOO]"),
        ("pat(*x*) == [BODY]", 1, "belongs on the right"),
        ("[BODY].a[x] == 1", 9, "malformed JSON path"),
        ("[STATUS] == 1 == 2", 15, "more than one operator"),
        ("foo([BODY]) == 1", 1, "unknown function foo()"),
        ("[STATUS == 1", 12, "unclosed"),
        ("[STATUS] ==", 12, "nothing on the right"),
        ("[STATUS] < any(1, 2)", 12, "works with == and != only"),
        ("[STATUS].x == 1", 9, "only [BODY] takes a JSON path"),
    ],
)
def test_parse_errors_point_at_the_column(text: str, column: int, words: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    assert words in str(caught.value)
    assert caught.value.column == column


def test_evaluate_all_needs_every_condition() -> None:
    conds = [parse_condition("[STATUS] == 200"), parse_condition("[RESPONSE_TIME] < 100")]
    ok, outcomes = evaluate_all(conds, OBS)
    assert not ok and [o.ok for o in outcomes] == [True, False]
    assert evaluate_all([], OBS) == (True, [])


def test_random_text_never_raises_anything_but_condition_error() -> None:
    rng = random.Random(4)
    alphabet = "[]().=<>!*,0123456789 abcBODYSTATUS_len"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        try:
            cond = parse_condition(text)
        except ConditionError:
            continue
        evaluate(cond, OBS)  # must not raise
