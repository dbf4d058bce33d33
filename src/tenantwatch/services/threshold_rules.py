"""Seed 002's threshold rules (`POST /api/v1/monitoring/alert-rules`): a tenant, a metric, a
condition, a threshold and a severity become one Prometheus alerting rule.

`metric` is one of seed 002's names, mapped to tenantwatch's own series (the table below,
also in docs/alerting.md), or a series the tenant has (or any PromQL expression). A name
that would give a rule that can never fire (no such series for the tenant) is refused with
the names to use instead.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from tenantwatch.services.errors import Invalid

CONDITIONS = {
    "greater_than": ">",
    "greater_or_equal": ">=",
    "less_than": "<",
    "less_or_equal": "<=",
    "equals": "==",
    "not_equals": "!=",
}

# seed 002's metric names -> (PromQL over tenantwatch's check series, what it measures)
SEED_METRICS: dict[str, tuple[str, str]] = {
    "response_time_ms": (
        'avg by (tenant) (tenantwatch_check_duration_seconds{kind="http"}) * 1000',
        "the mean duration of the tenant's http checks' latest runs, in milliseconds",
    ),
    "availability_percentage": (
        "avg by (tenant) (avg_over_time(tenantwatch_check_up[1h])) * 100",
        "the share of the tenant's check runs that passed in the last hour, in percent",
    ),
    "error_rate_percentage": (
        "(1 - avg by (tenant) (avg_over_time(tenantwatch_check_up[5m]))) * 100",
        "the share of the tenant's check runs that failed in the last 5 minutes, in percent",
    ),
}
SEED_ALIASES = {
    "uptime_percentage": "availability_percentage",
    "availability": "availability_percentage",
    "avg_response_time_ms": "response_time_ms",
    "response_time": "response_time_ms",
    "error_rate": "error_rate_percentage",
}
# seed 002 names no series carries: resource figures come from the app's own metrics
UNMAPPED = {
    "cpu_usage_percent": "rate(container_cpu_usage_seconds_total[5m]) * 100",
    "memory_usage_percent": (
        "container_memory_working_set_bytes / container_spec_memory_limit_bytes * 100"
    ),
    "cpu_usage": "rate(container_cpu_usage_seconds_total[5m]) * 100",
    "memory_usage": "container_memory_working_set_bytes / container_spec_memory_limit_bytes * 100",
    "disk_usage_percent": "1 - node_filesystem_avail_bytes / node_filesystem_size_bytes",
}
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")

# does the tenant have a series of this name (in recent history)? None: cannot tell
HasSeries = Callable[[str, str], Awaitable[bool | None]]


def _names() -> str:
    return ", ".join(sorted(SEED_METRICS))


async def metric_expression(tenant: str, metric: str, has_series: HasSeries | None) -> str:
    """The PromQL a threshold rule compares: a mapped seed 002 name, or the metric itself.
    Invalid (422) when it names nothing the tenant has."""
    name = SEED_ALIASES.get(metric, metric)
    if name in SEED_METRICS:
        return SEED_METRICS[name][0]
    if metric in UNMAPPED:
        raise Invalid(
            f"no series carries {metric!r}: tenantwatch maps {_names()} to its check series; "
            f"for resource usage compare your app's own series, e.g. metric "
            f"{UNMAPPED[metric]!r}",
            field="metric",
        )
    bare_name = _METRIC_NAME.fullmatch(metric) is not None
    if bare_name and has_series is not None and await has_series(tenant, metric) is False:
        raise Invalid(
            f"tenant {tenant!r} has no series named {metric!r} (so the rule could never "
            f"fire); use one of seed 002's names ({_names()}), a series the tenant has "
            "(GET /api/v1/label/__name__/values with its key), or a PromQL expression",
            field="metric",
        )
    return f"({metric})"


async def threshold_rule(
    tenant: str,
    metric: str,
    condition: str,
    threshold: float,
    severity: str,
    duration: str | None = None,
    name: str | None = None,
    has_series: HasSeries | None = None,
) -> dict[str, Any]:
    """Seed 002's threshold rule (metric, condition, threshold, severity) as a PromQL rule."""
    op = CONDITIONS.get(condition)
    if op is None:
        raise Invalid(
            f"unknown condition {condition!r}; use one of {', '.join(CONDITIONS)}",
            field="condition",
        )
    expr = await metric_expression(tenant, metric, has_series)
    alert = name or re.sub(r"[^A-Za-z0-9_]", "_", f"{metric}_{condition}")
    rule: dict[str, Any] = {
        "alert": alert,
        "expr": f"{expr} {op} {threshold:g}",
        "labels": {"severity": severity, "tenant": tenant},
        "annotations": {
            "summary": f"{metric} {condition.replace('_', ' ')} {threshold:g} for tenant {tenant}",
            "description": "{{ $labels.tenant }}: " + metric + " is {{ $value }}",
        },
    }
    if duration:
        rule["for"] = duration
    return rule
