"""Multiwindow, multi-burn-rate alerts (SRE Workbook, chapter 5) as Prometheus rules.

One rule per window pair serves every tenant: the error ratio of each tenant's checks is
compared `on(tenant)` with its own budget, read from `tenantwatch_tenant_sla_target`
(percent), so tiers and overrides need no rule of their own. An alert fires when both
the long and the short window burn faster than the factor (the short window, 1/12 of
the long, makes it stop soon after the burn does).
"""

from __future__ import annotations

from typing import Any

from tenantwatch.sla.budget import WINDOWS, burn_factor

TARGET_SERIES = "tenantwatch_tenant_sla_target"
UP_SERIES = "tenantwatch_check_up"


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _factor(value: float) -> str:
    return f"{value:.4g}"


def availability_error(window_s: int) -> str:
    """Each tenant's share of failed check runs over the window (heartbeats left out: a
    periodic job's missed run is not its customers' availability)."""
    selector = f'{UP_SERIES}{{kind!="heartbeat"}}'
    return f"(1 - avg by (tenant) (avg_over_time({selector}[{_duration(window_s)}])))"


def budget() -> str:
    """Each tenant's error budget as a ratio, from its availability target in percent."""
    return f'(1 - {TARGET_SERIES}{{objective="availability"}} / 100)'


def availability_burn_rules(period_s: int = 30 * 86400) -> dict[str, Any]:
    """A rule group (Prometheus rule file shape) of the four burn-rate alerts."""
    rules = []
    for severity, long_s, short_s, share in WINDOWS:
        factor = _factor(burn_factor(share, period_s, long_s))
        long_w, short_w = _duration(long_s), _duration(short_s)
        expr = (
            f"{availability_error(long_s)} > on(tenant) ({factor} * {budget()})\n"
            f"and on(tenant)\n"
            f"{availability_error(short_s)} > on(tenant) ({factor} * {budget()})"
        )
        rules.append(
            {
                "alert": "TenantErrorBudgetBurn",
                "expr": expr,
                "labels": {"severity": severity, "objective": "availability", "window": long_w},
                "annotations": {
                    "summary": f"{{{{ $labels.tenant }}}} burns its availability budget "
                    f"{factor}x too fast ({long_w} and {short_w})",
                    "description": f"At this rate {share:.0%} of the period's error budget "
                    f"goes in {long_w}.",
                },
            }
        )
    return {"name": "tenantwatch-sla-burn-rate", "rules": rules}
