"""Each tenant's SLA targets and results as series, so rules compare with them `on(tenant)`:
tenantwatch_tenant_sla_target{tenant, objective} (percent, ms or minutes, as the tier
states them), and the current month's compliance, budget left and availability."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tenantwatch.domain.tiers import SlaTargets
from tenantwatch.promql.model import labels_of
from tenantwatch.sla.report import TenantReport
from tenantwatch.types import Sample

TARGET = "tenantwatch_tenant_sla_target"
OBJECTIVES = {
    "availability": "availability_percentage",
    "response_time_ms": "response_time_ms",
    "error_rate": "error_rate_percentage",
    "recovery_time_minutes": "recovery_time_minutes",
}


def target_samples(targets: Mapping[str, SlaTargets], t_ms: int) -> list[Sample]:
    """One sample per tenant and objective at t_ms."""
    out: list[Sample] = []
    for tenant, sla in sorted(targets.items()):
        for objective, field in OBJECTIVES.items():
            labels = labels_of({"__name__": TARGET, "tenant": tenant, "objective": objective})
            out.append((labels, t_ms, float(getattr(sla, field))))
    return out


COMPLIANCE = "tenantwatch_tenant_sla_compliance"
BUDGET_REMAINING = "tenantwatch_tenant_error_budget_remaining"
AVAILABILITY = "tenantwatch_tenant_sla_availability_percent"


def result_samples(reports: Sequence[TenantReport], t_ms: int) -> list[Sample]:
    """Each tenant's period to date as series: compliance (1 met, 0 missed), the
    availability budget left (ratio; negative when overspent) and availability (percent)."""
    out: list[Sample] = []
    for r in reports:
        base = {"tenant": r.tenant_id, "period": r.period.kind}
        out.append(
            (labels_of({"__name__": COMPLIANCE, **base}), t_ms, 1.0 if r.sla_compliance else 0.0)
        )
        if r.budget is not None:
            labels = labels_of({"__name__": BUDGET_REMAINING, **base, "objective": "availability"})
            out.append((labels, t_ms, float(r.budget.remaining_ratio)))
        if r.availability_percentage is not None:
            labels = labels_of({"__name__": AVAILABILITY, **base})
            out.append((labels, t_ms, float(r.availability_percentage)))
    return out
