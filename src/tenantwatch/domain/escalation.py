"""Escalation: who is told about an unacknowledged alert, and when.

An `EscalationPolicy` is a list of steps, each `after_s` seconds after the alert started,
each naming targets (channel names such as "slack", receiver names, or
"oncall:<schedule>" for whoever is on call). After the last step the steps repeat
`repeat` more times; round r runs every step `r * period_s` later, where the period is
the span of the steps plus `repeat_gap_s` (by default the last gap between steps).

Acknowledging stops escalation and so does resolving. An acknowledgement may carry an
`until`: if that passes while the alert still fires, escalation resumes where it
stopped: steps that were already due when the alert was acknowledged (but not sent) go
out at `until`, the first step that was not yet due goes out at `until` too, and the
later ones keep their spacing after it. An acknowledgement that is withdrawn should be
passed as one whose `until` is the withdrawal time, so it resumes the same way.

Default policies come from seed 002's ESCALATION_RULES (per severity: a notification
delay, an escalation delay, and channels), scaled by the tenant's tier:

| tier         | delays | channels                 | repeat: critical / error / other |
|--------------|--------|--------------------------|----------------------------------|
| enterprise   | x 0.5  | as the seed              | 2 / 1 / 0                        |
| professional | x 1    | as the seed              | 1 / 0 / 0                        |
| basic        | x 2    | no "sms", no "pagerduty" | 0 / 0 / 0                        |

With notification delay N, escalation delay E and tier factor f the steps are:
step 0 at f*N to the channels; if E is set, step 1 at f*(N+E) to "oncall:primary" and
step 2 at f*(N+2E) to "oncall:secondary"; repeats wait f*E after the last step.
So a critical alert of a professional tenant goes to slack, email, sms and pagerduty at
once, to the primary on-call after 1 minute, the secondary after 2, and the round runs
once more from minute 3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tenantwatch.domain.durations import parse_duration

SEVERITIES = ("info", "warning", "error", "critical")
ONCALL_PREFIX = "oncall:"


@dataclass(frozen=True, slots=True)
class SeverityRule:
    notification_delay_s: float
    escalation_delay_s: float | None  # None: never escalates
    channels: tuple[str, ...]


ESCALATION_RULES: Mapping[str, SeverityRule] = MappingProxyType(
    {
        "info": SeverityRule(0, None, ("slack",)),
        "warning": SeverityRule(60, 900, ("slack", "email")),
        "error": SeverityRule(0, 300, ("slack", "email", "sms")),
        "critical": SeverityRule(0, 60, ("slack", "email", "sms", "pagerduty")),
    }
)


@dataclass(frozen=True, slots=True)
class TierEscalation:
    delay_factor: float
    dropped_channels: frozenset[str]
    repeat: Mapping[str, int]


TIER_ESCALATION: Mapping[str, TierEscalation] = MappingProxyType(
    {
        "enterprise": TierEscalation(0.5, frozenset(), {"critical": 2, "error": 1}),
        "professional": TierEscalation(1.0, frozenset(), {"critical": 1}),
        "basic": TierEscalation(2.0, frozenset({"sms", "pagerduty"}), {}),
    }
)


@dataclass(frozen=True, slots=True)
class Step:
    after_s: float
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    steps: tuple[Step, ...]
    repeat: int = 0
    repeat_gap_s: float | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("an escalation policy needs at least one step")
        previous = 0.0
        for i, step in enumerate(self.steps):
            if not math.isfinite(step.after_s) or step.after_s < 0:
                raise ValueError(f"step {i}: 'after' must be zero or more seconds")
            if step.after_s < previous:
                raise ValueError(
                    f"step {i}: steps must be in time order; it comes after {previous:g}s "
                    f"but is set to {step.after_s:g}s"
                )
            previous = step.after_s
            if not step.targets:
                raise ValueError(f"step {i}: give at least one target")
            for target in step.targets:
                check_target(target)
        if self.repeat < 0:
            raise ValueError("repeat must be zero or more")
        if self.repeat_gap_s is not None and not (
            math.isfinite(self.repeat_gap_s) and self.repeat_gap_s >= 0
        ):
            raise ValueError("repeat_gap must be zero or more seconds")
        if self.repeat and self.period_s <= 0:
            raise ValueError(
                "a repeating policy needs time between rounds; set repeat_gap, e.g. '10m'"
            )

    @property
    def period_s(self) -> float:
        """Seconds between the same step of two consecutive rounds."""
        first, last = self.steps[0].after_s, self.steps[-1].after_s
        return last - first + self._gap()

    def _gap(self) -> float:
        if self.repeat_gap_s is not None:
            return self.repeat_gap_s
        if len(self.steps) >= 2:
            return self.steps[-1].after_s - self.steps[-2].after_s
        return self.steps[0].after_s

    @property
    def total(self) -> int:
        """The number of (step, round) notifications the policy can send."""
        return len(self.steps) * (self.repeat + 1)

    def sequence(self, step_index: int, repeat_round: int) -> int:
        """Return the number `already_done` uses for a step of a round."""
        return repeat_round * len(self.steps) + step_index

    def position(self, sequence: int) -> tuple[int, int]:
        """Return (step_index, repeat_round) of a sequence number."""
        repeat_round, step_index = divmod(sequence, len(self.steps))
        return step_index, repeat_round

    def offset_s(self, sequence: int) -> float:
        """Seconds after the alert started at which a sequence number is due."""
        step_index, repeat_round = self.position(sequence)
        return self.steps[step_index].after_s + repeat_round * self.period_s


def check_target(target: str) -> str:
    """Return the target if usable; raise ValueError saying how to write one."""
    if not isinstance(target, str) or not target.strip():
        raise ValueError("a target must be a channel or receiver name, or 'oncall:<schedule>'")
    if target.startswith(ONCALL_PREFIX) and not target[len(ONCALL_PREFIX) :].strip():
        raise ValueError(f"target {target!r}: name the schedule, e.g. 'oncall:primary'")
    return target


def oncall_schedule(target: str) -> str | None:
    """Return the schedule name of an 'oncall:<schedule>' target, else None."""
    if target.startswith(ONCALL_PREFIX):
        return target[len(ONCALL_PREFIX) :]
    return None


def default_policy(severity: str, tier: str) -> EscalationPolicy:
    """Return the policy for a severity and tier (see the table in the module docstring).

    Raise ValueError for an unknown severity or a tier without defaults (custom tiers
    need an explicit policy).
    """
    rule = ESCALATION_RULES.get(severity)
    if rule is None:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    scale = TIER_ESCALATION.get(tier)
    if scale is None:
        raise ValueError(
            f"tier {tier!r} has no default escalation; give it an escalation policy "
            f"or use one of {', '.join(TIER_ESCALATION)}"
        )
    f = scale.delay_factor
    channels = tuple(c for c in rule.channels if c not in scale.dropped_channels)
    steps = [Step(f * rule.notification_delay_s, channels)]
    gap: float | None = None
    if rule.escalation_delay_s is not None:
        e = rule.escalation_delay_s
        steps.append(Step(f * (rule.notification_delay_s + e), (ONCALL_PREFIX + "primary",)))
        steps.append(Step(f * (rule.notification_delay_s + 2 * e), (ONCALL_PREFIX + "secondary",)))
        gap = f * e
    repeat = scale.repeat.get(severity, 0) if gap else 0
    return EscalationPolicy(tuple(steps), repeat=repeat, repeat_gap_s=gap)


def _effective_times(
    policy: EscalationPolicy,
    started_at: float,
    acknowledged_at: float | None,
    ack_until: float | None,
    resolved_at: float | None,
    now: float,
) -> list[float] | None:
    """When each sequence number is due, or None when escalation has stopped for good."""
    if resolved_at is not None and resolved_at <= now:
        return None
    planned = [started_at + policy.offset_s(j) for j in range(policy.total)]
    if acknowledged_at is None or acknowledged_at > now:
        return planned
    if ack_until is None:
        return None
    if ack_until <= acknowledged_at:
        raise ValueError("an acknowledgement's 'until' must be after the acknowledgement")
    # the first step not yet due when acknowledged is where escalation resumes
    resume = next((j for j, t in enumerate(planned) if t > acknowledged_at), policy.total)
    shift = max(0.0, ack_until - planned[resume]) if resume < policy.total else 0.0
    return [ack_until if j < resume else t + shift for j, t in enumerate(planned)]


def due_steps(
    policy: EscalationPolicy,
    alert_started_at: float,
    acknowledged_at: float | None,
    resolved_at: float | None,
    already_done: Set[int],
    now: float,
    *,
    ack_until: float | None = None,
) -> list[tuple[int, int]]:
    """Return the (step_index, repeat_round) pairs due at `now` and not yet done, in order.

    `already_done` holds `policy.sequence(step, round)` of the steps sent. A resolved
    alert, or one acknowledged without `ack_until` (or before it), has nothing due.
    """
    times = _effective_times(policy, alert_started_at, acknowledged_at, ack_until, resolved_at, now)
    if times is None:
        return []
    return [policy.position(j) for j, t in enumerate(times) if t <= now and j not in already_done]


def next_wakeup(
    policy: EscalationPolicy,
    alert_started_at: float,
    acknowledged_at: float | None,
    resolved_at: float | None,
    already_done: Set[int],
    now: float,
    *,
    ack_until: float | None = None,
) -> float | None:
    """Return when `due_steps` will next have something not done: `now` if it has already.

    Return None when nothing more will ever be due (resolved, acknowledged for good, or
    every step done).
    """
    times = _effective_times(policy, alert_started_at, acknowledged_at, ack_until, resolved_at, now)
    if times is None:
        return None
    pending = [t for j, t in enumerate(times) if j not in already_done]
    if not pending:
        return None
    return max(min(pending), now)


def policy_from_mapping(data: Any, where: str = "escalation") -> EscalationPolicy:
    """Return a policy from config such as::

        steps:
          - {after: 0s, targets: [slack, email]}
          - {after: 5m, targets: ["oncall:primary"]}
        repeat: 2
        repeat_gap: 10m

    Raise ValueError naming the field (prefixed with `where`) and how to fix it.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a mapping with 'steps' (and optional 'repeat')")
    unknown = set(data) - {"steps", "repeat", "repeat_gap"}
    if unknown:
        raise ValueError(
            f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
            "allowed: steps, repeat, repeat_gap"
        )
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ValueError(f"{where}.steps: give a list of steps like {{after: 5m, targets: [sms]}}")
    steps = [_step_from_mapping(item, f"{where}.steps[{i}]") for i, item in enumerate(raw_steps)]
    repeat = data.get("repeat", 0)
    if isinstance(repeat, bool) or not isinstance(repeat, int):
        raise ValueError(f"{where}.repeat: expected a whole number of extra rounds, e.g. 2")
    gap = data.get("repeat_gap")
    gap_s = None if gap is None else _seconds(gap, f"{where}.repeat_gap")
    try:
        return EscalationPolicy(tuple(steps), repeat=repeat, repeat_gap_s=gap_s)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _step_from_mapping(item: Any, where: str) -> Step:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a mapping like {{after: 5m, targets: [sms]}}")
    unknown = set(item) - {"after", "targets"}
    if unknown:
        raise ValueError(
            f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
            "allowed: after, targets"
        )
    after = _seconds(item.get("after", 0), f"{where}.after")
    targets = item.get("targets")
    if isinstance(targets, str):
        targets = [targets]
    if not isinstance(targets, list) or not targets:
        raise ValueError(f"{where}.targets: give a list such as [slack, 'oncall:primary']")
    for t in targets:
        try:
            check_target(t)
        except ValueError as exc:
            raise ValueError(f"{where}.targets: {exc}") from None
    return Step(after, tuple(targets))


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a duration such as '5m' or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    else:
        raise ValueError(f"{where}: expected a duration such as '5m' or a number of seconds")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{where}: must be zero or more seconds")
    return seconds
