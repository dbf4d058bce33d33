"""The relabel rules of tenantwatch.yml's scrape jobs, checked as Prometheus checks them,
each refusal at its file:line (a check composed by tenantwatch.configuration)."""

from __future__ import annotations

from typing import Any

from tenantwatch.config.errors import ConfigIssue
from tenantwatch.config.yaml_lines import LineMap, issue_at
from tenantwatch.metrics.relabel import RelabelError, parse_rule

RULE_LISTS = ("relabel_configs", "metric_relabel_configs")


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
                if not isinstance(rule, dict):
                    continue
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
    for key in ("regex", "modulus", "replacement", "target_label", "action"):
        if key in rule and (f"'{key}'" in message or key in message.split(" ")[0:3]):
            return key
    if "regex" in message and "regex" in rule:
        return "regex"
    return "action" if "action" in rule else next(iter(rule), "action")
