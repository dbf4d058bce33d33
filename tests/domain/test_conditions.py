"""Gatus-style conditions: parse errors with columns, verdicts with resolved details."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from tenantwatch.domain.condition_eval import (
    ConditionOutcome,
    Observation,
    evaluate,
    evaluate_all,
)
from tenantwatch.domain.conditions import ConditionError, parse_condition

HOUR_MS = 3_600_000.0
BODY = json.dumps(
    {
        "data": {"items": [{"ok": True, "id": 7}, {"ok": False, "id": 8}]},
        "items": [1, 2, 3],
        "empty": [],
        "status": "all healthy",
        "a": {"b": "deep"},
        "age": 8,
        "id": 8,
        "price": 2.50,
        "nothing": None,
        "text": "UP",
        "code": "200",
    }
).encode()
OBS = Observation(
    status=200,
    response_time_ms=120.0,
    body=BODY,
    certificate_expiry_ms=100 * HOUR_MS,
    connected=True,
    dns_rcode="NOERROR",
    ip="10.0.0.1",
    value=42.5,
)
DOWN = Observation(
    status=503,
    response_time_ms=900.0,
    body=b'{"data": {"items": [{"ok": false}]}, "items": [], "status": "degraded"}',
    certificate_expiry_ms=10 * HOUR_MS,
    connected=False,
    dns_rcode="NXDOMAIN",
)


def judge(text: str, obs: Observation = OBS) -> ConditionOutcome:
    return evaluate(parse_condition(text), obs)


# -- the examples, passing and failing ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "passing", "failing"),
    [
        ("[STATUS] == 200", "[STATUS] (200) == 200", "[STATUS] (503) == 200"),
        ("[STATUS] < 300", "[STATUS] (200) < 300", "[STATUS] (503) < 300"),
        ("[RESPONSE_TIME] < 500", "[RESPONSE_TIME] (120) < 500", "[RESPONSE_TIME] (900) < 500"),
        (
            "[BODY].data.items[0].ok == true",
            "[BODY].data.items[0].ok (true) == true",
            "[BODY].data.items[0].ok (false) == true",
        ),
        ("len([BODY].items) > 0", "len([BODY].items) (3) > 0", "len([BODY].items) (0) > 0"),
        (
            "[CERTIFICATE_EXPIRATION] > 72h",
            "[CERTIFICATE_EXPIRATION] (360000000) > 72h",
            "[CERTIFICATE_EXPIRATION] (36000000) > 72h",
        ),
        ("[CONNECTED] == true", "[CONNECTED] (true) == true", "[CONNECTED] (false) == true"),
        (
            "[DNS_RCODE] == NOERROR",
            "[DNS_RCODE] (NOERROR) == NOERROR",
            "[DNS_RCODE] (NXDOMAIN) == NOERROR",
        ),
        (
            "[STATUS] == any(200, 429)",
            "[STATUS] (200) == any(200, 429)",
            "[STATUS] (503) == any(200, 429)",
        ),
        (
            "[BODY].status == pat(*healthy*)",
            "[BODY].status (all healthy) == pat(*healthy*)",
            "[BODY].status (degraded) == pat(*healthy*)",
        ),
    ],
)
def test_each_example_passes_and_fails_with_a_resolved_detail(
    text: str, passing: str, failing: str
) -> None:
    assert judge(text, OBS) == ConditionOutcome(text, True, passing)
    assert judge(text, DOWN) == ConditionOutcome(text, False, failing)


def test_whole_body_pattern_passes_and_fails() -> None:
    assert judge("[BODY] == pat(*healthy*)", Observation(body=b"service is healthy")).ok
    outcome = judge("[BODY] == pat(*healthy*)", Observation(body=b"service is down"))
    assert outcome == ConditionOutcome(
        "[BODY] == pat(*healthy*)",
        False,
        "[BODY] (15 bytes, sha256 6aee3dd5d982) == pat(*healthy*)",
    )


# -- operators ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("[STATUS] == 200", True),
        ("[STATUS]==200", True),
        ("[STATUS] != 200", False),
        ("[STATUS]!=201", True),
        ("[STATUS] < 200", False),
        ("[STATUS]<201", True),
        ("[STATUS] <= 200", True),
        ("[STATUS]<=199", False),
        ("[STATUS] > 199", True),
        ("[STATUS]>200", False),
        ("[STATUS] >= 200", True),
        ("[STATUS]>=201", False),
        ("  [STATUS]   ==   200  ", True),
    ],
)
def test_every_operator_with_or_without_spaces(text: str, ok: bool) -> None:
    assert judge(text).ok is ok


def test_the_condition_keeps_its_original_text() -> None:
    cond = parse_condition("[STATUS]==200")
    assert cond.text == "[STATUS]==200"
    assert evaluate(cond, OBS) == ConditionOutcome("[STATUS]==200", True, "[STATUS] (200) == 200")


# -- placeholders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("[IP] == 10.0.0.1", "[IP] (10.0.0.1) == 10.0.0.1"),
        ("[VALUE] > 40", "[VALUE] (42.5) > 40"),
        ("[BODY].a.b == deep", "[BODY].a.b (deep) == deep"),
        ("[BODY].data.items[1].id == 8", "[BODY].data.items[1].id (8) == 8"),
        ("[BODY].age == [BODY].id", "[BODY].age (8) == [BODY].id (8)"),
        ("[STATUS] > [BODY].age", "[STATUS] (200) > [BODY].age (8)"),
    ],
)
def test_placeholders_resolve(text: str, detail: str) -> None:
    assert judge(text) == ConditionOutcome(text, True, detail)


def test_a_json_path_can_start_with_an_index() -> None:
    obs = Observation(body=b'[{"id": 5}, {"id": 6}]')
    assert judge("[BODY][0].id == 5", obs) == ConditionOutcome(
        "[BODY][0].id == 5", True, "[BODY][0].id (5) == 5"
    )
    assert judge("[BODY][1].id == 5", obs).detail == "[BODY][1].id (6) == 5"


def test_a_placeholder_on_the_right_can_fail() -> None:
    obs = Observation(body=b'{"age": 3, "id": 4}')
    assert judge("[BODY].age == [BODY].id", obs).detail == "[BODY].age (3) == [BODY].id (4)"
    assert not judge("[BODY].age == [BODY].id", obs).ok


@pytest.mark.parametrize(
    "name", ["STATUS", "RESPONSE_TIME", "CERTIFICATE_EXPIRATION", "CONNECTED", "DNS_RCODE", "IP"]
)
def test_a_fact_the_probe_does_not_have_fails_and_says_so(name: str) -> None:
    outcome = judge(f"[{name}] == 1", Observation())
    assert outcome == ConditionOutcome(
        f"[{name}] == 1", False, f"[{name}] is not known for this check"
    )


def test_value_is_not_known_without_a_python_check() -> None:
    assert judge("[VALUE] < 100", Observation()).detail == "[VALUE] is not known for this check"
    assert judge("[VALUE] < 100", Observation(value=99.0)).ok


def test_a_missing_json_path_fails_and_says_so() -> None:
    outcome = judge("[BODY].data.items[5].ok == true")
    assert outcome.ok is False
    assert outcome.detail == "[BODY].data.items[5].ok was not found in the body"
    assert judge("[BODY].a.b.c == 1").detail == "[BODY].a.b.c was not found in the body"
    assert judge("[BODY][0] == 1").detail == "[BODY][0] was not found in the body"


def test_a_body_that_is_not_json_fails_a_path_and_says_so() -> None:
    outcome = judge("[BODY].a == 1", Observation(body=b"<html>"))
    assert outcome == ConditionOutcome(
        "[BODY].a == 1", False, "the body is not JSON, so [BODY].a cannot be read"
    )


def test_the_whole_body_never_shows_in_a_detail_only_its_size_and_hash() -> None:
    secret = b"internal-token-3f9a"
    for text in ("[BODY] == short", "[BODY] == pat(*x*)", "[BODY] != internal"):
        outcome = judge(text, Observation(body=secret))
        digest = hashlib.sha256(secret).hexdigest()[:12]
        assert outcome.detail.startswith(f"[BODY] (19 bytes, sha256 {digest}) ")
        assert "internal-token" not in outcome.detail


def test_a_json_path_value_shows_only_when_short_and_scalar() -> None:
    long = "y" * 65
    obs = Observation(body=json.dumps({"s": long, "a": [1, 2], "o": {"k": 1}, "n": 5}).encode())
    assert judge("[BODY].s == x", obs).detail == "[BODY].s (65 characters) == x"
    assert judge("[BODY].a == x", obs).detail == "[BODY].a (array of 2 items) == x"
    assert judge("[BODY].o == x", obs).detail == "[BODY].o (object with 1 key) == x"
    assert judge("[BODY].n == 6", obs).detail == "[BODY].n (5) == 6"
    assert long not in judge("[BODY].s == pat(*z*)", obs).detail


def test_a_hidden_payload_is_judged_but_never_shown() -> None:
    obs = Observation(body=b'{"n": 42}', value=42.0, payload_hidden=True)
    assert judge("[VALUE] > 40", obs) == ConditionOutcome(
        "[VALUE] > 40", True, "[VALUE] (not shown) > 40"
    )
    outcome = judge("[BODY].n == 41", obs)
    assert not outcome.ok and outcome.detail == "[BODY].n (not shown) == 41"
    assert "42" not in judge("[BODY] == pat(*4*)", obs).detail


# -- functions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "body", "ok"),
    [
        ("len([BODY]) == 7", "h\u00e9llo!".encode(), True),  # 7 bytes, 6 characters
        ("len([BODY].a) == 2", b'{"a": {"x": 1, "y": 2}}', True),
        ("len([BODY].a) == 5", b'{"a": "hello"}', True),
        ("len([BODY].a) == 0", b'{"a": []}', True),
        ("len([BODY].a) >= 1", b'{"a": []}', False),
    ],
)
def test_len_counts_arrays_objects_strings_and_body_bytes(text: str, body: bytes, ok: bool) -> None:
    assert judge(text, Observation(body=body)).ok is ok


def test_len_of_a_missing_path_fails() -> None:
    assert judge("len([BODY].nope) == 0").detail == "[BODY].nope was not found in the body"


@pytest.mark.parametrize(
    ("text", "obs", "detail"),
    [
        ("has([BODY].data) == true", OBS, "has([BODY].data) (true) == true"),
        ("has([BODY].errors) == false", OBS, "has([BODY].errors) (false) == false"),
        ("has([BODY].nothing) == true", OBS, "has([BODY].nothing) (true) == true"),
        ("has([BODY].a) == false", Observation(body=b"not json"), "has([BODY].a) (false) == false"),
    ],
)
def test_has_tells_whether_a_path_exists(text: str, obs: Observation, detail: str) -> None:
    assert judge(text, obs) == ConditionOutcome(text, True, detail)


def test_has_can_fail() -> None:
    outcome = judge("has([BODY].errors) == true")
    assert outcome == ConditionOutcome(
        "has([BODY].errors) == true", False, "has([BODY].errors) (false) == true"
    )


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("[BODY].status == pat(all healthy)", True),
        ("[BODY].status == pat(all*)", True),
        ("[BODY].status == pat(*healthy)", True),
        ("[BODY].status == pat(*heal*th*)", True),
        ("[BODY].status == pat(*)", True),
        ("[BODY].status == pat(healthy)", False),  # the whole string must match
        ("[BODY].status == pat(all)", False),
        ("[BODY].status == pat(*sick*)", False),
        ("[BODY].status != pat(*sick*)", True),
        ("[BODY].status != pat(*healthy*)", False),
        ("[STATUS] == pat(2*)", True),
        ("[DNS_RCODE] == pat(no*)", False),  # case matters
    ],
)
def test_pat_is_a_whole_string_glob_with_stars(text: str, ok: bool) -> None:
    assert judge(text).ok is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("[STATUS] == any(200, 429)", True),
        ("[STATUS] == any(429,200)", True),
        ("[STATUS] == any(201, 429)", False),
        ("[STATUS] != any(500, 503)", True),
        ("[STATUS] != any(200, 503)", False),
        ("[DNS_RCODE] == any(NXDOMAIN, NOERROR)", True),
        ("[BODY].price == any(2.5, 3)", True),
        ("[RESPONSE_TIME] == any(120ms, 1s)", True),
    ],
)
def test_any_matches_one_of_its_values(text: str, ok: bool) -> None:
    assert judge(text).ok is ok


def test_any_shows_the_actual_value_on_failure() -> None:
    outcome = judge("[STATUS] != any(200, 503)")
    assert outcome.detail == "[STATUS] (200) != any(200, 503)"


# -- literals and comparison rules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("[BODY].price == 2.5", True),
        ("[BODY].price == 2.50", True),  # numbers compare as numbers
        ("[BODY].price < 2.51", True),
        ("[BODY].price > 1e1", False),
        ("[VALUE] == 42.5", True),
        ("[VALUE] >= -1", True),
        ("[BODY].code == 200", True),  # a JSON string that is a number
        ("[BODY].code > 199", True),
        ("[BODY].text == UP", True),
        ("[BODY].text == up", False),
        ("[BODY].text != DOWN", True),
        ("[BODY].status == all healthy", True),  # a bare string may hold spaces
        ("[BODY].nothing == null", True),
        ("[CONNECTED] == false", False),
        ("[CONNECTED] != false", True),
        ("[BODY].data.items[1].ok == false", True),
    ],
)
def test_literals_and_comparisons(text: str, ok: bool) -> None:
    assert judge(text).ok is ok


def test_json_values_show_in_their_shortest_text() -> None:
    obs = Observation(body=b'{"f": 2.50, "g": 3.0, "o": {"k": [1, true], "m": 1}, "s": "q"}')
    assert judge("[BODY].f == 0", obs).detail == "[BODY].f (2.5) == 0"
    assert judge("[BODY].g == 0", obs).detail == "[BODY].g (3) == 0"
    assert judge("[BODY].o == 0", obs).detail == "[BODY].o (object with 2 keys) == 0"
    assert judge("[BODY].s == 0", obs).detail == "[BODY].s (q) == 0"


def test_large_integers_compare_exactly() -> None:
    obs = Observation(body=b'{"n": 12345678901234567891}')
    assert judge("[BODY].n != 12345678901234567890", obs).ok
    assert judge("[BODY].n == 12345678901234567891", obs).ok


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("72h", 72 * HOUR_MS),
        ("30m", 30 * 60_000.0),
        ("1h30m", 90 * 60_000.0),
        ("500ms", 500.0),
        ("10s", 10_000.0),
        ("1d", 24 * HOUR_MS),
        ("1.5h", 90 * 60_000.0),
        ("2d12h", 60 * HOUR_MS),
    ],
)
def test_durations_are_milliseconds_for_time_placeholders(text: str, ms: float) -> None:
    assert judge(f"[CERTIFICATE_EXPIRATION] == {text}", Observation(certificate_expiry_ms=ms)).ok
    assert judge(f"[RESPONSE_TIME] == {text}", Observation(response_time_ms=ms)).ok
    assert not judge(f"[RESPONSE_TIME] < {text}", Observation(response_time_ms=ms)).ok
    assert judge(f"{text} == [RESPONSE_TIME]", Observation(response_time_ms=ms)).ok


def test_an_expired_certificate_has_negative_milliseconds() -> None:
    outcome = judge("[CERTIFICATE_EXPIRATION] > 0", Observation(certificate_expiry_ms=-HOUR_MS))
    assert outcome == ConditionOutcome(
        "[CERTIFICATE_EXPIRATION] > 0", False, "[CERTIFICATE_EXPIRATION] (-3600000) > 0"
    )


def test_durations_are_plain_text_elsewhere() -> None:
    obs = Observation(body=b'{"every": "5m"}')
    assert judge("[BODY].every == 5m", obs).ok
    assert not judge("[STATUS] == 1s", Observation(status=1000)).ok


def test_ordering_needs_numbers_and_says_so() -> None:
    outcome = judge("[DNS_RCODE] > NOERROR")
    assert outcome == ConditionOutcome(
        "[DNS_RCODE] > NOERROR",
        False,
        "[DNS_RCODE] (NOERROR) > NOERROR: > needs numbers on both sides; "
        "use == or != to compare text",
    )
    assert not judge("[CONNECTED] >= 1").ok
    assert not judge("[BODY].status < 5").ok


# -- parse errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("", 1, "empty condition"),
        ("   ", 1, "empty condition"),
        ("[STATUS]", 9, "add an operator such as =="),
        ("[STATUS] 200", 10, "add an operator such as =="),
        ("[STATUS] = 200", 10, "write == to compare"),
        ("[FOO] == 1", 1, "unknown placeholder [FOO]; use one of [STATUS], [RESPONSE_TIME]"),
        ("[STATUS] == [NOPE]", 13, "[CERTIFICATE_EXPIRATION], [CONNECTED], [DNS_RCODE], [IP]"),
        ("[status] == 200", 1, "write [STATUS] in capitals"),
        ("[STATUS == 1", 1, "unclosed '['"),
        ("[STATUS]] == 1", 9, "unbalanced ']'"),
        ("[STATUS] == 200)", 16, "unbalanced ')'"),
        ("[STATUS] == 200]", 16, "unbalanced ']'"),
        ("len([BODY].items > 0", 4, "unclosed '(' of len()"),
        ("len([BODY]", 4, "unclosed '(' of len()"),
        ("[STATUS] == pat(*a*", 16, "unclosed '(' of pat()"),
        ("[STATUS] == any(1, 2", 16, "unclosed '(' of any()"),
        ("foo([BODY]) == 1", 1, "unknown function foo(); use len(), has(), pat() or any()"),
        ("[STATUS] == size(2)", 13, "unknown function size()"),
        ("pat(*x*) == [BODY]", 1, "pat() belongs on the right of == or !="),
        ("any(1, 2) == [STATUS]", 1, "any() belongs on the right of == or !="),
        ("== 200", 1, "nothing on the left"),
        ("[STATUS] ==", 12, "nothing on the right"),
        ("[STATUS] ==   ", 15, "nothing on the right"),
        ("[BODY].a[x] == 1", 10, "malformed JSON path: [x] is not an array index"),
        ("[BODY]..a == 1", 8, "malformed JSON path"),
        ("[BODY].a[ == 1", 9, "unclosed '['"),
        ("[BODY]x == 1", 7, "malformed JSON path"),
        ("[STATUS] == 1 == 2", 15, "more than one operator ('==')"),
        ("[STATUS] == == 2", 13, "more than one operator"),
        ("[STATUS] <> 1", 10, "'<>' is not an operator; use one of ==, !=, <, <=, >, >="),
        ("[STATUS] === 200", 10, "'===' is not an operator; use one of =="),
        ("[STATUS] !== 200", 10, "'!==' is not an operator"),
        ("[RESPONSE_TIME] =< 300", 17, "a single '=' is not an operator"),
        ("[RESPONSE_TIME] <== 300", 17, "'<==' is not an operator"),
        ("[STATUS] < any(1, 2)", 12, "any() works with == and != only"),
        ("[BODY] >= pat(*x*)", 11, "pat() works with == and != only"),
        ("[STATUS].x == 1", 9, "only [BODY] takes a JSON path"),
        ("len(5) == 1", 5, "len() takes a placeholder, e.g. len([BODY].items)"),
        ("has([BODY] [IP]) == true", 12, "has() takes one placeholder"),
        ("[STATUS] == any(1,,2)", 19, "any() needs values separated by commas"),
        ("[STATUS] == pat( )", 17, "pat() needs a pattern"),
        ("[STATUS] == 2(0)", 14, "unexpected '('"),
    ],
)
def test_parse_errors_point_at_the_column_and_say_how_to_fix(
    text: str, column: int, words: str
) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    assert words in str(caught.value)
    assert caught.value.column == column


def test_a_condition_error_is_a_value_error() -> None:
    assert issubclass(ConditionError, ValueError)
    assert ConditionError("fix it", 3).column == 3


# -- evaluate_all ------------------------------------------------------------------------------


def test_evaluate_all_needs_every_condition() -> None:
    conds = [parse_condition("[STATUS] == 200"), parse_condition("[RESPONSE_TIME] < 100")]
    ok, outcomes = evaluate_all(conds, OBS)
    assert ok is False
    assert [o.ok for o in outcomes] == [True, False]
    assert outcomes[1].detail == "[RESPONSE_TIME] (120) < 100"
    assert evaluate_all(conds[:1], OBS) == (True, [judge("[STATUS] == 200")])


def test_evaluate_all_of_nothing_holds() -> None:
    assert evaluate_all([], OBS) == (True, [])


# -- robustness --------------------------------------------------------------------------------

PIECES = [
    "[STATUS]", "[BODY]", "[BODY].a", "[BODY][0]", "[IP]", "[VALUE]", "[FOO]", "len(", "has(",
    "pat(", "any(", ")", "(", "[", "]", ".", ",", "*", "==", "!=", "<", "<=", ">", ">=", "=",
    "!", " ", "1", "-2.5", "72h", "1e9", "true", "NOERROR", "x", "\u00e9", "\n", "1e99999",
]  # fmt: skip
OPERANDS = [
    "[STATUS]", "[BODY]", "[BODY].a", "[BODY][0].b", "[BODY].a[0]", "[IP]", "[VALUE]",
    "[RESPONSE_TIME]", "[CERTIFICATE_EXPIRATION]", "[CONNECTED]", "[DNS_RCODE]",
    "len([BODY])", "len([BODY].a)", "has([BODY].a)", "1", "-2.5", "72h", "1e99999", "true",
    "NOERROR", "null", "nan", "inf", "\u00e9",
]  # fmt: skip
RIGHT_ONLY = ["pat(*)", "pat(*a*)", "any(1, true, x)", "any(72h)"]
OPERATORS = ["==", "!=", "<", "<=", ">", ">="]
BODIES = [
    b"",
    b"not json",
    b"[" * 5000 + b"]" * 5000,
    b'{"a": NaN, "b": Infinity}',
    b'{"a": 1e400}',
    b'[{"a": [1, {"b": null}]}]',
    b"\xff\xfe\x00",
    b'{"a": "' + b"y" * 10_000 + b'"}',
]


def test_random_text_never_raises_anything_but_condition_error() -> None:
    rng = random.Random(20240607)
    obs_list = [OBS, Observation(), DOWN] + [Observation(body=b) for b in BODIES]
    parsed = 0
    for _ in range(5000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8)))
        if rng.random() < 0.5:  # mostly well-formed: operand, operator, operand
            left, right = rng.choice(OPERANDS), rng.choice(OPERANDS + RIGHT_ONLY)
            text = f"{left} {rng.choice(OPERATORS)} {right}"
        try:
            cond = parse_condition(text)
        except ConditionError as exc:
            assert 1 <= exc.column <= max(len(text), 1) + 1
            continue
        parsed += 1
        for obs in obs_list:
            outcome = evaluate(cond, obs)
            assert outcome.condition == text and isinstance(outcome.ok, bool)
    assert parsed > 100  # the fuzz reaches the evaluator


@pytest.mark.parametrize("body", BODIES)
def test_odd_bodies_never_break_evaluation(body: bytes) -> None:
    for text in ["[BODY].a == 1", "[BODY][0] > 2", "len([BODY]) > 0", "has([BODY].a) == true"]:
        outcome = judge(text, Observation(body=body))
        assert isinstance(outcome.ok, bool) and outcome.detail


def test_random_characters_never_raise_anything_but_condition_error() -> None:
    rng = random.Random(7)
    alphabet = "[]().,=<>!* abcBODYSTATUS_len0123456789"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        try:
            cond = parse_condition(text)
        except ConditionError:
            continue
        assert isinstance(evaluate(cond, OBS).ok, bool)
