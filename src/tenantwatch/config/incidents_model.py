"""The `incidents:` section of tenantwatch.yml: which alerts open incidents, how they
group, and where an unacknowledged P1 escalates."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tenantwatch.config.errors import refusing
from tenantwatch.config.types import AllowList, Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _regex_problem(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a regular expression: {exc}"
    return None


Severity = Literal["P1", "P2", "P3", "P4"]


class IncidentRuleConfig(_Strict):
    name: str = Field(min_length=1, max_length=100)
    match: dict[str, Annotated[str, Field(max_length=1000), refusing(_regex_problem)]] = Field(
        default_factory=dict, description="label -> anchored regular expression"
    )
    severity: Severity | None = Field(
        None, description="the incident's severity; default: from the alert's severity label"
    )
    min_severity: Severity = Field("P3", description="alerts mapped below this open nothing")
    group_by: list[str] = Field(
        default_factory=lambda: ["alertname"],
        description="alerts with these labels equal (the tenant aside) share an incident",
    )
    window: Duration = Field(600.0, description="a shared cause's alerts join within this")
    reopen_window: Duration = Field(3600.0, description="a recurrence within this reopens")
    auto_resolve: bool = True


ActionKind = Literal[
    "webhook",
    "shell",
    "kubernetes_scale",
    "kubernetes_restart",
    "maintenance",
    "block_ip",
    "disable_account",
    "ticket",
]
Status = Literal["open", "investigating", "identified", "monitoring", "resolved"]
Regex = Annotated[str, Field(max_length=1000), refusing(_regex_problem)]


class ActionMatchersConfig(_Strict):
    severities: list[Severity] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)
    tenants: list[str] = Field(default_factory=list)
    tenant_regex: Regex | None = None
    labels: dict[str, Regex] = Field(default_factory=dict)


class ActionConfig(_Strict):
    """An automated response (docs/incident-actions.md)."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: ActionKind
    matchers: ActionMatchersConfig = ActionMatchersConfig()
    params: dict[str, object] = Field(default_factory=dict)
    dry_run: bool = False
    cooldown: Duration = 900.0
    max_per_hour: int = Field(10, ge=1, le=10_000)
    approval: bool = False
    per_tenant: bool = True
    timeout: Duration = 30.0


class IncidentsSection(_Strict):
    enabled: bool = True
    rules: list[IncidentRuleConfig] = Field(
        default_factory=lambda: [IncidentRuleConfig(name="default")]
    )
    escalate_to: str = Field(
        "on-call", description="who an incident not acknowledged in time escalates to"
    )
    reconcile_interval: Duration = 5.0
    actions: list[ActionConfig] = Field(default_factory=list)
    allow_private_targets: AllowList = Field(
        default_factory=list,
        description="private networks action webhooks may reach (CIDRs), as for receivers",
    )
