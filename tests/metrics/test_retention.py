"""Series retention follows the tenant's tier."""

from __future__ import annotations

from tenantwatch.domain.tiers import BUILTIN_TIERS, SlaTargets, Tier, TierCatalog
from tenantwatch.metrics.retention import TenantRetention
from tenantwatch.promql.model import labels_of

DAY_MS = 86_400_000


def test_a_series_gets_its_tenants_tier_retention() -> None:
    retention = TenantRetention(TierCatalog())
    retention.update({"acme": "enterprise", "globex": "basic"})
    assert retention(labels_of({"__name__": "x", "tenant": "acme"})) == 90 * DAY_MS
    assert retention(labels_of({"__name__": "x", "tenant": "globex"})) == 15 * DAY_MS


def test_series_without_a_known_tenant_keep_15_days() -> None:
    retention = TenantRetention(TierCatalog())
    retention.update({"acme": "enterprise"})
    assert retention(labels_of({"__name__": "x"})) == 15 * DAY_MS
    assert retention(labels_of({"__name__": "x", "tenant": "unknown"})) == 15 * DAY_MS


def test_custom_tiers_and_updates_apply() -> None:
    gold = Tier("gold", SlaTargets(), 30, 365 * 86400.0)
    retention = TenantRetention(TierCatalog.with_custom({"gold": gold}))
    retention.update({"acme": "gold"})
    assert retention(labels_of({"tenant": "acme"})) == 365 * DAY_MS
    retention.update({"acme": "professional"})
    assert retention(labels_of({"tenant": "acme"})) == round(
        BUILTIN_TIERS["professional"].retention_seconds * 1000
    )


def test_the_shortest_retention_is_that_of_any_tenant_or_the_default() -> None:
    tiers = TierCatalog.with_custom(
        {"brief": Tier("brief", BUILTIN_TIERS["basic"].sla, 60, 3600.0)}
    )
    retention = TenantRetention(tiers)
    assert retention.shortest_ms == 15 * 86_400_000
    retention.update({"a": "enterprise", "b": "brief"})
    assert retention.shortest_ms == 3_600_000


def test_check_results_outlive_a_short_tier_for_sla_reports() -> None:
    retention = TenantRetention(TierCatalog(), sla_history_s=400 * 86400)
    retention.update({"acme": "basic"})
    up = labels_of({"__name__": "tenantwatch_check_up", "tenant": "acme", "check": "api"})
    other = labels_of({"__name__": "app_requests_total", "tenant": "acme"})
    assert retention(up) == 400 * 86400_000
    assert retention(other) == 15 * 86400_000
    assert retention.longest_ms == 15 * 86400_000  # block sizes follow the tiers
