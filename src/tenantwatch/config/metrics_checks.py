"""Checks on the metrics and scrape sections that span fields or entries, on the raw data.

They run even when other parts of the file fail validation, and point at the exact line.
"""

from __future__ import annotations

from typing import Any

from tenantwatch.config.errors import ConfigIssue
from tenantwatch.config.metrics_model import DEFAULT_SCRAPE_INTERVAL, DEFAULT_SCRAPE_TIMEOUT
from tenantwatch.config.yaml_lines import LineMap, issue_at
from tenantwatch.domain.durations import format_duration, parse_duration


def _seconds(value: object) -> float | None:
    """The duration in value, or None when it is missing or invalid (reported elsewhere)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    if isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError:
            return None
        return seconds if seconds > 0 else None
    return None


def _show(seconds: float) -> str:
    return format_duration(seconds)


def metrics_issues(data: dict[str, Any], file: str, lines: LineMap) -> list[ConfigIssue]:
    """Problems in `metrics:` that span fields: the remote url, timeout versus interval."""
    section = data.get("metrics")
    if not isinstance(section, dict):
        return []
    issues = []
    if section.get("backend") == "remote" and not section.get("url"):
        issues.append(
            issue_at(
                file,
                lines,
                ("metrics", "backend"),
                "metrics.backend 'remote' needs metrics.url, e.g. url: http://prometheus:9090",
            )
        )
    interval = _seconds(section.get("scrape_interval", DEFAULT_SCRAPE_INTERVAL))
    timeout = _seconds(section.get("scrape_timeout", DEFAULT_SCRAPE_TIMEOUT))
    if interval is not None and timeout is not None and timeout > interval:
        where = "scrape_timeout" if "scrape_timeout" in section else "scrape_interval"
        issues.append(
            issue_at(
                file,
                lines,
                ("metrics", where),
                f"metrics.scrape_timeout ({_show(timeout)}) is longer than "
                f"metrics.scrape_interval ({_show(interval)}); a scrape must end before the "
                "next one starts, so lower the timeout or raise the interval",
            )
        )
    return issues


def scrape_issues(
    data: dict[str, Any], file: str, lines: LineMap, tenant_ids: set[str]
) -> list[ConfigIssue]:
    """Problems across scrape jobs: duplicate job names, timeouts longer than intervals,
    and `tenant` labels that name no declared tenant."""
    jobs = data.get("scrape_configs")
    if not isinstance(jobs, list):
        return []
    section = data.get("metrics")
    defaults = section if isinstance(section, dict) else {}
    default_interval = _seconds(defaults.get("scrape_interval", DEFAULT_SCRAPE_INTERVAL))
    issues = []
    seen: set[str] = set()
    for i, job in enumerate(jobs):
        if not isinstance(job, dict):
            continue
        name = job.get("job_name")
        if isinstance(name, str):
            if name in seen:
                issues.append(
                    issue_at(
                        file,
                        lines,
                        ("scrape_configs", i, "job_name"),
                        f"duplicate job_name {name!r}; each scrape job needs its own name",
                    )
                )
            seen.add(name)
        interval = (
            _seconds(job["scrape_interval"]) if "scrape_interval" in job else default_interval
        )
        timeout = _seconds(job.get("scrape_timeout"))
        if interval is not None and timeout is not None and timeout > interval:
            issues.append(
                issue_at(
                    file,
                    lines,
                    ("scrape_configs", i, "scrape_timeout"),
                    f"job {name!r}: scrape_timeout ({_show(timeout)}) is longer than its "
                    f"scrape_interval ({_show(interval)}); lower the timeout or raise the interval",
                )
            )
        issues += _tenant_label_issues(job, i, name, file, lines, tenant_ids)
    return issues


def _tenant_label_issues(
    job: dict[str, Any],
    i: int,
    name: object,
    file: str,
    lines: LineMap,
    tenant_ids: set[str],
) -> list[ConfigIssue]:
    statics = job.get("static_configs")
    issues = []
    for j, static in enumerate(statics if isinstance(statics, list) else []):
        labels = static.get("labels") if isinstance(static, dict) else None
        tenant = labels.get("tenant") if isinstance(labels, dict) else None
        if isinstance(tenant, str) and tenant not in tenant_ids:
            known = ", ".join(sorted(tenant_ids)) or "none yet"
            issues.append(
                issue_at(
                    file,
                    lines,
                    ("scrape_configs", i, "static_configs", j, "labels", "tenant"),
                    f"job {name!r}: tenant label {tenant!r} is not a tenant declared under "
                    f"'tenants:' (declared: {known}); fix the id or declare the tenant",
                )
            )
    return issues
