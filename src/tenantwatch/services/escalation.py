"""Escalation of unacknowledged alerts: which receivers are due at `now`, per alert.

Policies come from the config (`escalation.policies.<severity>`) or from seed 002's
ESCALATION_RULES scaled by the tenant's tier (domain/escalation.py). Step targets are
seed 002's channel names (mapped to receivers by `escalation.channels`), receiver names,
or `oncall:<schedule>`, which reaches whoever the schedule has on call now (each user's
receiver in `escalation.users`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.config.alerting_model import EscalationConfig
from tenantwatch.domain.escalation import (
    EscalationPolicy,
    default_policy,
    due_steps,
    oncall_schedule,
    policy_from_mapping,
)
from tenantwatch.domain.oncall import OnCallSchedule, on_call, schedule_from_mapping


@dataclass(frozen=True, slots=True)
class DueStep:
    sequence: int
    targets: tuple[str, ...]
    receivers: tuple[str, ...]


class Escalator:
    def __init__(self, config: EscalationConfig, receivers: Iterable[str]) -> None:
        """Raise ValueError naming the setting when a policy, schedule or name is wrong."""
        self.config = config
        self.known = set(receivers)
        self.policies: dict[str, EscalationPolicy] = {
            severity: policy_from_mapping(data, f"escalation.policies.{severity}")
            for severity, data in config.policies.items()
        }
        self.schedules: dict[str, OnCallSchedule] = {
            name: schedule_from_mapping({"name": name, **data}, f"escalation.oncall.{name}")
            for name, data in config.oncall.items()
        }
        for where, names in (
            ("escalation.channels", config.channels.values()),
            ("escalation.users", config.users.values()),
        ):
            for name in names:
                if name not in self.known:
                    raise ValueError(
                        f"{where}: no receiver named {name!r} in the Alertmanager config"
                    )

    def policy(self, severity: str | None, tier: str) -> EscalationPolicy | None:
        if severity is None:
            return None
        if severity in self.policies:
            return self.policies[severity]
        try:
            return default_policy(severity, tier)
        except ValueError:
            return None  # a custom tier without an explicit policy does not escalate

    def receivers(self, targets: Iterable[str], now: float) -> tuple[str, ...]:
        out: list[str] = []
        for target in targets:
            schedule = oncall_schedule(target)
            if schedule is not None:
                found = self.schedules.get(schedule)
                users = on_call(found, now) if found is not None else []
                names = [self.config.users[u] for u in users if u in self.config.users]
            elif target in self.config.channels:
                names = [self.config.channels[target]]
            else:
                names = [target] if target in self.known else []
            out.extend(n for n in names if n not in out)
        return tuple(out)

    def due(self, record: AlertRecord, tiers: Mapping[str, str], now: float) -> list[DueStep]:
        """The escalation steps of a firing alert that are due now and not yet sent."""
        tenant = record.tenant_id
        if tenant is None or record.alert.resolved_at(now):
            return []
        policy = self.policy(record.severity, tiers.get(tenant, "basic"))
        if policy is None:
            return []
        steps = due_steps(
            policy,
            record.alert.starts_at,
            record.ack_at,
            None,
            record.escalated,
            now,
            ack_until=record.ack_until,
        )
        out = []
        for step_index, repeat_round in steps:
            targets = policy.steps[step_index].targets
            out.append(
                DueStep(
                    policy.sequence(step_index, repeat_round),
                    tuple(targets),
                    self.receivers(targets, now),
                )
            )
        return out
