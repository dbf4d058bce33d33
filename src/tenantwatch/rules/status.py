"""What the rule manager holds per group: its rules' health and its alerts, as last evaluated."""

from __future__ import annotations

from dataclasses import dataclass, field

from tenantwatch.rules.alerting import Alert
from tenantwatch.rules.files import RuleGroup
from tenantwatch.types import Labels

RuleAlerts = dict[int, dict[Labels, Alert]]
"""A group's alerts by the index of their rule in the group, then by their labels."""


@dataclass(frozen=True, slots=True)
class ManagedGroup:
    """A rule group and, for a tenant's own group, the tenant its queries are bound to."""

    group: RuleGroup
    tenant: str | None = None

    @property
    def key(self) -> str:
        return f"{self.group.file};{self.group.name}"


@dataclass
class RuleStatus:
    health: str = "unknown"  # ok | err | unknown
    last_error: str = ""
    last_evaluation: float | None = None
    duration_s: float = 0.0


@dataclass
class GroupStatus:
    managed: ManagedGroup
    interval_s: float
    last_evaluation: float | None = None
    duration_s: float = 0.0
    rules: list[RuleStatus] = field(default_factory=list)
    alerts: RuleAlerts = field(default_factory=dict)
