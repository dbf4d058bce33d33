"""How long a series is kept: its tenant's tier retention, 15 days without a tenant; the
series SLAs are measured from (check results) at least `sla_history_s`, so last month's
and last year's SLA reports and credits stay computable for every tier."""

from __future__ import annotations

from collections.abc import Mapping

from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.tenancy import TENANT
from tenantwatch.types import Labels

DEFAULT_RETENTION_S = 15 * 86400.0
SLA_HISTORY_S = 400 * 86400.0  # a yearly report and the month before it
SLA_SOURCES = frozenset({"tenantwatch_check_up", "tenantwatch_check_duration_seconds"})


class TenantRetention:
    """Retention in ms for a series, by its `tenant` label. Call update() when tenants or
    their tiers change; unknown tenants get the default."""

    def __init__(
        self,
        tiers: TierCatalog,
        *,
        default_s: float = DEFAULT_RETENTION_S,
        sla_history_s: float = SLA_HISTORY_S,
    ) -> None:
        self.tiers = tiers
        self.default_ms = round(default_s * 1000)
        self.sla_history_ms = round(sla_history_s * 1000)
        self._by_tenant: dict[str, int] = {}
        self.shortest_ms = self.default_ms  # no series is kept for less
        # nor for more (but for SLA sources; block sizes follow the tiers' retention)
        self.longest_ms = self.default_ms

    def update(self, tenant_tiers: Mapping[str, str]) -> None:
        """Take the tier of every tenant (tenant id -> tier name)."""
        out = {}
        for tenant, tier_name in tenant_tiers.items():
            tier = self.tiers.get(tier_name)
            if tier is not None:
                out[tenant] = round(tier.retention_seconds * 1000)
        self._by_tenant = out
        self.shortest_ms = min([self.default_ms, *out.values()])
        self.longest_ms = max([self.default_ms, *out.values()])

    def __call__(self, labels: Labels) -> int:
        keep = self.default_ms
        floor = 0
        for name, value in labels:
            if name == TENANT:
                keep = self._by_tenant.get(value, self.default_ms)
            elif name == "__name__" and value in SLA_SOURCES:
                floor = self.sla_history_ms
        return max(keep, floor)
