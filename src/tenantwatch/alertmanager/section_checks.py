"""Check the alerting sections of tenantwatch.yml when it loads: the Alertmanager
configuration (its own file, at its own file:line), tenant routes and escalation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tenantwatch.alertmanager.config import (
    config_from_mapping,
    load_alertmanager_config,
    with_tenant_routes,
)
from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.config.alerting_model import EscalationConfig
from tenantwatch.config.errors import ConfigError, ConfigIssue
from tenantwatch.config.yaml_lines import LineMap, issue_at
from tenantwatch.domain.escalation import policy_from_mapping
from tenantwatch.domain.oncall import schedule_from_mapping


def alerting_issues(data: dict[str, Any], file: str, lines: LineMap) -> list[ConfigIssue]:
    """Problems in the Alertmanager config tenantwatch.yml names (at their own file:line; a
    file that cannot be read at its config_file line), its tenant routes and escalation."""
    section = data.get("alertmanager")
    if not isinstance(section, dict):
        return []
    am: AlertmanagerConfig | None = None
    try:
        if isinstance(section.get("config_file"), str):
            am = load_alertmanager_config(Path(file).parent / section["config_file"])
        elif isinstance(section.get("config"), dict):
            am = config_from_mapping(section["config"], f"{file} (alertmanager.config)")
        routes = section.get("tenant_routes")
        if am is not None and isinstance(routes, dict) and routes:
            am = with_tenant_routes(am, routes, file)
    except ConfigError as exc:
        issues = list(exc.issues)
        if isinstance(section.get("config_file"), str) and any(i.line == 0 for i in issues):
            where = lines.line_of(("alertmanager", "config_file"))
            issues = [ConfigIssue(file, where, i.message) if i.line == 0 else i for i in issues]
        return issues
    escalation = section.get("escalation")
    if am is not None and isinstance(escalation, dict) and escalation.get("enabled"):
        problem = escalation_problem(EscalationConfig.model_validate(escalation), am)
        if problem:
            return [issue_at(file, lines, ("alertmanager", "escalation"), problem)]
    return []


def escalation_problem(config: EscalationConfig, am: AlertmanagerConfig) -> str | None:
    """Why the escalation settings cannot work, or None."""
    try:
        for severity, policy in config.policies.items():
            policy_from_mapping(policy, f"escalation.policies.{severity}")
        for name, schedule in config.oncall.items():
            schedule_from_mapping({"name": name, **schedule}, f"escalation.oncall.{name}")
    except ValueError as exc:
        return str(exc)
    for where, names in (
        ("escalation.channels", config.channels.values()),
        ("escalation.users", config.users.values()),
    ):
        for name in names:
            if name not in am.receivers:
                return f"{where}: no receiver named {name!r} in the Alertmanager config"
    return None
