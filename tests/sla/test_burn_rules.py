"""Burn-rate alerts: the generated rules fire for a fast burn and not for a slow one."""

from __future__ import annotations

from pathlib import Path

from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import VectorResult, labels_of
from tenantwatch.sla.burn_rules import availability_burn_rules

MIN = 60_000
NOW = 3 * 86400_000


def store_with(tenants: dict[str, tuple[float, str]]) -> MetricStore:
    """Checks every 30 s for 3 days; `down` = share of runs failing in the last 6 hours
    (fast: all of the last hour instead)."""
    store = MetricStore(None)
    store.open()
    for tenant, (down, how) in tenants.items():
        target = labels_of(
            {
                "__name__": "tenantwatch_tenant_sla_target",
                "tenant": tenant,
                "objective": "availability",
            }
        )
        check = labels_of({"__name__": "tenantwatch_check_up", "tenant": tenant, "check": "web"})
        for k, t in enumerate(range(0, NOW + 1, 30_000)):
            store.append(target, t, 99.9)
            if how == "fast":
                up = 0.0 if t > NOW - 60 * MIN else 1.0
            else:
                up = 0.0 if t > NOW - 360 * MIN and k % round(1 / down) == 0 else 1.0
            store.append(check, t, up)
    return store


def firing(store: MetricStore) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule in availability_burn_rules()["rules"]:
        result = Engine(store).instant(rule["expr"], NOW).value
        assert isinstance(result, VectorResult)
        for sample in result.samples:
            out.setdefault(dict(sample.labels)["tenant"], set()).add(rule["labels"]["window"])
    return out


def test_a_fast_burn_pages_and_a_slow_one_does_not() -> None:
    store = store_with({"acme": (1.0, "fast"), "globex": (0.005, "slow")})
    got = firing(store)
    assert {"1h", "6h"} <= got["acme"]  # a full outage for an hour: both pages
    assert "globex" not in got  # 0.5 % errors against a 0.1 % budget: 5x, below every page


def test_the_rules_read_each_tenants_own_target() -> None:
    group = availability_burn_rules()
    assert [r["labels"]["severity"] for r in group["rules"]] == ["page", "page", "ticket", "ticket"]
    first = group["rules"][0]["expr"]
    assert 'avg_over_time(tenantwatch_check_up{kind!="heartbeat"}[1h])' in first
    assert 'avg_over_time(tenantwatch_check_up{kind!="heartbeat"}[5m])' in first
    assert '14.4 * (1 - tenantwatch_tenant_sla_target{objective="availability"} / 100)' in first


def test_the_runtime_loads_the_burn_rate_group_unless_turned_off(tmp_path: Path) -> None:
    from tenantwatch.config.model import Config
    from tenantwatch.runtime.root import config_rule_groups
    from tenantwatch.settings import Settings

    settings = Settings(data_dir=tmp_path)
    on = config_rule_groups(settings, Config())
    burn = [g for g in on if g.group.name == "tenantwatch-sla-burn-rate"]
    assert len(burn) == 1
    assert [r.labels["severity"] for r in burn[0].group.rules] == [
        "page",
        "page",
        "ticket",
        "ticket",
    ]
    assert len(burn[0].group.rules) == 4
    off = config_rule_groups(settings, Config.model_validate({"sla": {"burn_rate_alerts": False}}))
    assert not [g for g in off if g.group.name == "tenantwatch-sla-burn-rate"]


def test_a_tier_whose_alerts_can_never_fire_is_logged() -> None:
    from decimal import Decimal

    from structlog.testing import capture_logs

    from tenantwatch.domain.tiers import SlaTargets, Tier, TierCatalog
    from tenantwatch.runtime.sla import warn_infeasible

    loose = Tier("loose", SlaTargets(Decimal("90")), 60, 86400)  # 1 / (1 - 0.9) = 10 < 14.4
    with capture_logs() as logs:
        warn_infeasible(TierCatalog.with_custom({"loose": loose}))
    warned = [e for e in logs if e.get("tier") == "loose"]
    assert len(warned) == 1 and warned[0]["factors"] == [14.4]
    assert not [e for e in logs if e.get("tier") in ("basic", "professional", "enterprise")]
