"""Which incident a firing alert belongs to, by configurable rules (pure).

A rule matches alerts by their labels and says the incident's severity and how alerts
group. Alerts of one rule with the same `group_by` labels (the tenant is never one of
them) share a group key. A firing alert joins:
1. the active incident it is already linked to (it fired again);
2. an active incident of its group key detected within `window` of now: one shared cause
   hitting many tenants at once is one incident, with every tenant in it;
3. an active incident of its group key that already holds its tenant (the same tenant and
   service, however long the incident has been open);
4. a resolved incident of its group key holding its tenant and resolved within
   `reopen_window`: it recurred, so that incident reopens;
otherwise it opens a new incident. An alert no rule matches opens none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from tenantwatch.incidents.model import Incident, Severity

# an alert's `severity` label to an incident's (seed 000's _map_severity, widened)
SEVERITY_OF_LABEL: dict[str, Severity] = {
    "critical": Severity.P1,
    "page": Severity.P1,
    "high": Severity.P2,
    "error": Severity.P2,
    "warning": Severity.P3,
    "ticket": Severity.P3,
    "medium": Severity.P3,
    "info": Severity.P4,
    "low": Severity.P4,
}


@dataclass(frozen=True)
class Rule:
    name: str
    matchers: Mapping[str, str] = field(default_factory=dict)  # label -> anchored regex
    severity: Severity | None = None  # None: from the alert's severity label
    min_severity: Severity = Severity.P4  # alerts mapped below this open nothing
    group_by: tuple[str, ...] = ("alertname",)
    window: timedelta = timedelta(minutes=10)
    reopen_window: timedelta = timedelta(hours=1)
    auto_resolve: bool = True

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(re.fullmatch(p, labels.get(k, "")) for k, p in self.matchers.items())

    def severity_for(self, labels: Mapping[str, str]) -> Severity | None:
        severity = self.severity or SEVERITY_OF_LABEL.get(labels.get("severity", "").lower())
        if severity is None:
            severity = Severity.P3
        order = list(Severity)
        return severity if order.index(severity) <= order.index(self.min_severity) else None

    def key(self, labels: Mapping[str, str]) -> str:
        parts = [f"{k}={labels.get(k, '')}" for k in self.group_by if k != "tenant"]
        return f"{self.name}|" + ",".join(parts)


DEFAULT_RULES = (Rule("default", min_severity=Severity.P3),)  # warnings and worse


@dataclass(frozen=True)
class Decision:
    action: Literal["join", "reopen", "open", "none"]
    incident: Incident | None = None
    rule: Rule | None = None
    severity: Severity | None = None
    key: str | None = None


def decide(
    labels: Mapping[str, str],
    fingerprint: str,
    incidents: Sequence[Incident],
    now: datetime,
    rules: Sequence[Rule] = DEFAULT_RULES,
) -> Decision:
    """Where a firing alert goes (see the module docstring); `incidents`: the active ones
    and those resolved recently, newest first."""
    rule = next((r for r in rules if r.matches(labels)), None)
    if rule is None:
        return Decision("none")
    severity = rule.severity_for(labels)
    if severity is None:
        return Decision("none", rule=rule)
    key = rule.key(labels)
    tenant = labels.get("tenant")
    found = Decision("open", None, rule, severity, key)
    for inc in incidents:
        if inc.active and any(a.fingerprint == fingerprint for a in inc.alerts):
            return Decision("join", inc, rule, severity, key)
    for inc in incidents:
        if inc.group_key != key:
            continue
        if inc.active and now - inc.detected_at <= rule.window:
            return Decision("join", inc, rule, severity, key)
        if inc.active and tenant is not None and tenant in inc.tenant_ids:
            return Decision("join", inc, rule, severity, key)
    for inc in incidents:
        recent = inc.resolved_at is not None and now - inc.resolved_at <= rule.reopen_window
        same_tenant = tenant is None or tenant in inc.tenant_ids
        if inc.group_key == key and not inc.active and recent and same_tenant:
            return Decision("reopen", inc, rule, severity, key)
    return found
