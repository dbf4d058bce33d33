from __future__ import annotations

from typing import Any

import pytest

from tenantwatch.domain.escalation import (
    ESCALATION_RULES,
    EscalationPolicy,
    Step,
    check_target,
    default_policy,
    due_steps,
    next_wakeup,
    oncall_schedule,
    policy_from_mapping,
)

T0 = 1_700_000_000.0

# three steps at 0s, 60s and 300s, repeated twice more; period 300 + 240 = 540s
POLICY = EscalationPolicy(
    steps=(
        Step(0, ("slack",)),
        Step(60, ("oncall:primary",)),
        Step(300, ("oncall:secondary", "manager")),
    ),
    repeat=2,
)


def done(policy: EscalationPolicy, *pairs: tuple[int, int]) -> set[int]:
    return {policy.sequence(step, rnd) for step, rnd in pairs}


def run(policy: EscalationPolicy, until: float, **kw: Any) -> list[tuple[float, int, int]]:
    """Drive the policy like a worker: wake when told, send what is due, remember it."""
    sent: set[int] = set()
    log: list[tuple[float, int, int]] = []
    now = T0
    while now <= until:
        for step, rnd in due_steps(
            policy, T0, kw.get("ack"), kw.get("resolved"), sent, now, ack_until=kw.get("ack_until")
        ):
            sent.add(policy.sequence(step, rnd))
            log.append((now - T0, step, rnd))
        wake = next_wakeup(
            policy, T0, kw.get("ack"), kw.get("resolved"), sent, now, ack_until=kw.get("ack_until")
        )
        if wake is None:
            break
        now = wake
    return log


# -- seed 002 rules and tier defaults ------------------------------------------------------


def test_seed_rules_are_kept_verbatim() -> None:
    assert ESCALATION_RULES["info"].escalation_delay_s is None
    assert ESCALATION_RULES["warning"].notification_delay_s == 60
    assert ESCALATION_RULES["warning"].escalation_delay_s == 900
    assert ESCALATION_RULES["error"].channels == ("slack", "email", "sms")
    assert ESCALATION_RULES["critical"].channels == ("slack", "email", "sms", "pagerduty")
    assert ESCALATION_RULES["critical"].escalation_delay_s == 60


@pytest.mark.parametrize(
    ("severity", "tier", "steps", "repeat"),
    [
        ("info", "professional", [(0, ("slack",))], 0),
        ("info", "enterprise", [(0, ("slack",))], 0),
        ("info", "basic", [(0, ("slack",))], 0),
        (
            "warning",
            "professional",
            [(60, ("slack", "email")), (960, ("oncall:primary",)), (1860, ("oncall:secondary",))],
            0,
        ),
        (
            "warning",
            "enterprise",
            [(30, ("slack", "email")), (480, ("oncall:primary",)), (930, ("oncall:secondary",))],
            0,
        ),
        (
            "warning",
            "basic",
            [(120, ("slack", "email")), (1920, ("oncall:primary",)), (3720, ("oncall:secondary",))],
            0,
        ),
        (
            "error",
            "enterprise",
            [
                (0, ("slack", "email", "sms")),
                (150, ("oncall:primary",)),
                (300, ("oncall:secondary",)),
            ],
            1,
        ),
        (
            "error",
            "basic",
            [(0, ("slack", "email")), (600, ("oncall:primary",)), (1200, ("oncall:secondary",))],
            0,
        ),
        (
            "critical",
            "professional",
            [
                (0, ("slack", "email", "sms", "pagerduty")),
                (60, ("oncall:primary",)),
                (120, ("oncall:secondary",)),
            ],
            1,
        ),
        (
            "critical",
            "enterprise",
            [
                (0, ("slack", "email", "sms", "pagerduty")),
                (30, ("oncall:primary",)),
                (60, ("oncall:secondary",)),
            ],
            2,
        ),
        (
            "critical",
            "basic",
            [(0, ("slack", "email")), (120, ("oncall:primary",)), (240, ("oncall:secondary",))],
            0,
        ),
    ],
)
def test_default_policy_table(
    severity: str, tier: str, steps: list[tuple[float, tuple[str, ...]]], repeat: int
) -> None:
    policy = default_policy(severity, tier)
    assert [(s.after_s, s.targets) for s in policy.steps] == steps
    assert policy.repeat == repeat


def test_enterprise_escalates_faster_than_basic() -> None:
    for severity in ("warning", "error", "critical"):
        ent, pro, basic = (
            default_policy(severity, t) for t in ("enterprise", "professional", "basic")
        )
        assert ent.steps[1].after_s < pro.steps[1].after_s < basic.steps[1].after_s


def test_basic_tier_never_pages() -> None:
    for severity in ("info", "warning", "error", "critical"):
        targets = {t for s in default_policy(severity, "basic").steps for t in s.targets}
        assert not targets & {"sms", "pagerduty"}


def test_default_critical_professional_schedule() -> None:
    policy = default_policy("critical", "professional")
    assert [p for p in run(policy, T0 + 3600)] == [
        (0, 0, 0),
        (60, 1, 0),
        (120, 2, 0),
        (180, 0, 1),
        (240, 1, 1),
        (300, 2, 1),
    ]


@pytest.mark.parametrize(
    ("severity", "tier", "message"),
    [
        ("fatal", "basic", "unknown severity 'fatal'"),
        ("critical", "gold", "tier 'gold' has no default escalation"),
    ],
)
def test_default_policy_rejects_unknown_names(severity: str, tier: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        default_policy(severity, tier)


# -- schedule arithmetic -------------------------------------------------------------------


def test_sequence_numbers_round_trip() -> None:
    assert POLICY.total == 9
    assert POLICY.period_s == 540
    for seq in range(POLICY.total):
        assert POLICY.sequence(*POLICY.position(seq)) == seq
    assert POLICY.position(4) == (1, 1)
    assert POLICY.offset_s(4) == 600


@pytest.mark.parametrize(
    ("steps", "gap", "period"),
    [
        ((Step(0, ("a",)), Step(60, ("b",)), Step(300, ("c",))), None, 540),
        ((Step(0, ("a",)), Step(60, ("b",))), 600, 660),
        ((Step(120, ("a",)),), None, 120),
        ((Step(120, ("a",)), Step(180, ("b",))), 0, 60),
    ],
)
def test_period(steps: tuple[Step, ...], gap: float | None, period: float) -> None:
    assert EscalationPolicy(steps, repeat=1, repeat_gap_s=gap).period_s == period


def test_unacknowledged_alert_runs_every_step_and_repeat() -> None:
    assert run(POLICY, T0 + 10_000) == [
        (0, 0, 0),
        (60, 1, 0),
        (300, 2, 0),
        (540, 0, 1),
        (600, 1, 1),
        (840, 2, 1),
        (1080, 0, 2),
        (1140, 1, 2),
        (1380, 2, 2),
    ]


@pytest.mark.parametrize(
    ("now", "already", "expected"),
    [
        (T0 - 1, set(), []),
        (T0, set(), [(0, 0)]),
        (T0 + 59, {0}, []),
        (T0 + 60, {0}, [(1, 0)]),
        # a worker that was down catches up on everything that fell due
        (T0 + 700, set(), [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1)]),
        (T0 + 700, {0, 1, 2}, [(0, 1), (1, 1)]),
        (T0 + 99_999, set(range(9)), []),
    ],
)
def test_due_steps(now: float, already: set[int], expected: list[tuple[int, int]]) -> None:
    assert due_steps(POLICY, T0, None, None, already, now) == expected


@pytest.mark.parametrize(
    ("now", "already", "expected"),
    [
        (T0 - 100, set(), T0),
        (T0, set(), T0),
        (T0 + 1, {0}, T0 + 60),
        (T0 + 1, set(), T0 + 1),  # overdue: act now
        (T0 + 400, {0, 1, 2}, T0 + 540),
        (T0 + 1500, set(range(9)), None),
    ],
)
def test_next_wakeup(now: float, already: set[int], expected: float | None) -> None:
    assert next_wakeup(POLICY, T0, None, None, already, now) == expected


# -- acknowledgement and resolution --------------------------------------------------------


def test_acknowledgement_stops_escalation() -> None:
    assert run(POLICY, T0 + 10_000, ack=T0 + 100) == [(0, 0, 0), (60, 1, 0)]
    assert next_wakeup(POLICY, T0, T0 + 100, None, {0, 1}, T0 + 100) is None


def test_acknowledgement_suppresses_steps_that_were_due_but_not_sent() -> None:
    assert due_steps(POLICY, T0, T0 + 100, None, set(), T0 + 120) == []


def test_future_acknowledgement_or_resolution_is_ignored() -> None:
    assert due_steps(POLICY, T0, T0 + 500, T0 + 600, {0}, T0 + 60) == [(1, 0)]


def test_resolution_stops_escalation_even_after_an_ack_expired() -> None:
    log = run(POLICY, T0 + 10_000, ack=T0 + 10, ack_until=T0 + 200, resolved=T0 + 250)
    assert log == [(0, 0, 0), (200, 1, 0)]
    assert next_wakeup(POLICY, T0, T0 + 10, T0 + 250, {0, 1}, T0 + 250) is None


def test_expired_ack_resumes_where_escalation_stopped() -> None:
    # acknowledged after step 0, for ten minutes; nothing is resolved
    log = run(POLICY, T0 + 10_000, ack=T0 + 30, ack_until=T0 + 630)
    assert log == [
        (0, 0, 0),
        (630, 1, 0),  # the step that was next goes out when the ack expires
        (870, 2, 0),  # later steps keep their spacing (300 - 60 = 240s)
        (1110, 0, 1),
        (1170, 1, 1),
        (1410, 2, 1),
        (1650, 0, 2),
        (1710, 1, 2),
        (1950, 2, 2),
    ]


def test_nothing_is_due_while_an_ack_lasts() -> None:
    until = T0 + 630
    assert due_steps(POLICY, T0, T0 + 30, None, {0}, T0 + 629, ack_until=until) == []
    assert next_wakeup(POLICY, T0, T0 + 30, None, {0}, T0 + 100, ack_until=until) == until
    assert due_steps(POLICY, T0, T0 + 30, None, {0}, until, ack_until=until) == [(1, 0)]


def test_short_ack_that_expires_before_the_next_step_changes_nothing() -> None:
    log = run(POLICY, T0 + 400, ack=T0 + 10, ack_until=T0 + 40)
    assert log == [(0, 0, 0), (60, 1, 0), (300, 2, 0)]


def test_steps_missed_before_an_expiring_ack_are_sent_at_resume() -> None:
    # step 1 fell due at 60 but was not sent before the ack at 100
    assert due_steps(POLICY, T0, T0 + 100, None, {0}, T0 + 500, ack_until=T0 + 500) == [
        (1, 0),
        (2, 0),
    ]


def test_ack_until_must_be_after_the_ack() -> None:
    with pytest.raises(ValueError, match="'until' must be after"):
        due_steps(POLICY, T0, T0 + 100, None, set(), T0 + 200, ack_until=T0 + 100)


# -- validation and parsing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": ()}, "at least one step"),
        ({"steps": (Step(60, ("a",)), Step(30, ("b",)))}, "steps must be in time order"),
        ({"steps": (Step(-1, ("a",)),)}, "zero or more seconds"),
        ({"steps": (Step(0, ()),)}, "at least one target"),
        ({"steps": (Step(0, ("oncall:",)),)}, "name the schedule"),
        ({"steps": (Step(0, ("",)),)}, "channel or receiver name"),
        ({"steps": (Step(0, ("a",)),), "repeat": -1}, "repeat must be zero or more"),
        ({"steps": (Step(0, ("a",)),), "repeat": 1}, "set repeat_gap"),
        ({"steps": (Step(0, ("a",)),), "repeat_gap_s": -5}, "repeat_gap must be zero or more"),
    ],
)
def test_policy_rejects_bad_shapes(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EscalationPolicy(**kwargs)


def test_targets() -> None:
    assert oncall_schedule("oncall:db-team") == "db-team"
    assert oncall_schedule("slack") is None
    assert check_target("ops-receiver") == "ops-receiver"


def test_policy_from_mapping() -> None:
    policy = policy_from_mapping(
        {
            "steps": [
                {"after": "0s", "targets": ["slack", "email"]},
                {"after": "5m", "targets": "oncall:primary"},
                {"after": 900, "targets": ["oncall:secondary"]},
            ],
            "repeat": 2,
            "repeat_gap": "10m",
        }
    )
    assert policy == EscalationPolicy(
        (
            Step(0, ("slack", "email")),
            Step(300, ("oncall:primary",)),
            Step(900, ("oncall:secondary",)),
        ),
        repeat=2,
        repeat_gap_s=600,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a mapping with 'steps'"),
        ({"steps": []}, r"escalation.steps: give a list of steps"),
        ({"steps": [{"after": "5m", "targets": ["a"]}], "repeats": 1}, "unknown field.*repeats"),
        ({"steps": ["slack"]}, r"steps\[0\]: expected a mapping"),
        ({"steps": [{"after": "5 min", "targets": ["a"]}]}, r"steps\[0\].after: invalid duration"),
        ({"steps": [{"after": True, "targets": ["a"]}]}, r"steps\[0\].after: expected a duration"),
        ({"steps": [{"after": -3, "targets": ["a"]}]}, r"steps\[0\].after: must be zero or more"),
        ({"steps": [{"after": "1m", "target": ["a"]}]}, r"steps\[0\]: unknown field.*target"),
        ({"steps": [{"after": "1m"}]}, r"steps\[0\].targets: give a list"),
        ({"steps": [{"targets": ["oncall:"]}]}, r"steps\[0\].targets: .*name the schedule"),
        ({"steps": [{"targets": ["a"]}], "repeat": "2"}, "repeat: expected a whole number"),
        (
            {"steps": [{"after": "5m", "targets": ["a"]}, {"after": "1m", "targets": ["b"]}]},
            "escalation: step 1: steps must be in time order",
        ),
    ],
)
def test_policy_from_mapping_errors(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        policy_from_mapping(data)
