"""The relabel rules of tenantwatch.yml's scrape jobs, checked as Prometheus checks them,
each refusal at its file:line (a check composed by tenantwatch.configuration)."""

from __future__ import annotations

from typing import Any

from tenantwatch.config.errors import ConfigIssue
from tenantwatch.config.metrics_model import RelabelConfig
from tenantwatch.config.yaml_lines import LineMap, issue_at
from tenantwatch.metrics.relabel import RelabelError, parse_rule

RULE_LISTS = ("relabel_configs", "metric_relabel_configs")
KEYS = frozenset(RelabelConfig.model_fields)


def relabel_issues(data: dict[str, Any], file: str, lines: LineMap) -> list[ConfigIssue]:
    """Every relabel rule Prometheus would refuse, in its words. Wrong types are left to
    the config model, which reports them at the same place."""
    jobs = data.get("scrape_configs")
    issues: list[ConfigIssue] = []
    for i, job in enumerate(jobs if isinstance(jobs, list) else []):
        if not isinstance(job, dict):
            continue
        name = job.get("job_name")
        for key in RULE_LISTS:
            rules = job.get(key)
            for j, rule in enumerate(rules if isinstance(rules, list) else []):
                if not isinstance(rule, dict) or not set(rule) <= KEYS:
                    continue  # unknown keys are reported by the model
                try:
                    parse_rule(rule)
                except RelabelError as exc:
                    where = ("scrape_configs", i, key, j, _culprit(rule, str(exc)))
                    issues.append(issue_at(file, lines, where, f"job {name!r}: {key}[{j}]: {exc}"))
                except (TypeError, ValueError):
                    continue  # a wrong type, reported by the model
    return issues


def _culprit(rule: dict[str, Any], message: str) -> str:
    """The key the message is about, so the issue points at its line."""
    if message.startswith("invalid regex"):
        key = "regex"
    elif "'target_label' for" in message:
        key = "target_label"
    elif "'replacement'" in message:
        key = "replacement"
    elif "modulus" in message:
        key = "modulus"
    elif "requires only" in message:
        allowed = {"regex"} if "'regex'" in message else {"source_labels", "target_label"}
        key = next((k for k in rule if k not in allowed and k != "action"), "action")
    else:
        key = "action"
    if key in rule:
        return key
    return "action" if "action" in rule else next(iter(rule), "action")
