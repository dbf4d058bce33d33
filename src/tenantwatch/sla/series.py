"""Each tenant's SLA targets as series, so rules compare with them `on(tenant)`:
tenantwatch_tenant_sla_target{tenant, objective} (percent, ms or minutes, as the tier
states them)."""

from __future__ import annotations

from collections.abc import Mapping

from tenantwatch.domain.tiers import SlaTargets
from tenantwatch.promql.model import labels_of
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
