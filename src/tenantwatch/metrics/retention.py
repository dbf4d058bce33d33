"""How long a series is kept: its tenant's tier retention, 15 days without a tenant."""

from __future__ import annotations

from collections.abc import Mapping

from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.tenancy import TENANT
from tenantwatch.types import Labels

DEFAULT_RETENTION_S = 15 * 86400.0


class TenantRetention:
    """Retention in ms for a series, by its `tenant` label. Call update() when tenants or
    their tiers change; unknown tenants get the default."""

    def __init__(self, tiers: TierCatalog, *, default_s: float = DEFAULT_RETENTION_S) -> None:
        self.tiers = tiers
        self.default_ms = round(default_s * 1000)
        self._by_tenant: dict[str, int] = {}
        self.shortest_ms = self.default_ms  # no series is kept for less
        self.longest_ms = self.default_ms  # nor for more

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
        for name, value in labels:
            if name == TENANT:
                return self._by_tenant.get(value, self.default_ms)
        return self.default_ms
