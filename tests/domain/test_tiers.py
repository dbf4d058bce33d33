"""Tiers: the seed 002 defaults, custom tiers and a tenant's effective SLA."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenantwatch.domain.tiers import (
    BUILTIN_TIERS,
    DEFAULT_SLA_TARGETS,
    SlaTargets,
    Tier,
    TierCatalog,
)


def test_the_default_sla_targets_are_those_of_seed_002() -> None:
    assert DEFAULT_SLA_TARGETS.as_dict() == {
        "availability_percentage": Decimal("99.9"),
        "response_time_ms": 500,
        "error_rate_percentage": Decimal("1.0"),
        "recovery_time_minutes": 15,
    }


def test_the_builtin_tiers_are_basic_professional_and_enterprise() -> None:
    assert sorted(BUILTIN_TIERS) == ["basic", "enterprise", "professional"]
    assert all(tier.builtin for tier in BUILTIN_TIERS.values())
    assert all(name == tier.name for name, tier in BUILTIN_TIERS.items())


@pytest.mark.parametrize(
    ("name", "availability", "response_ms", "error_rate"),
    [
        ("basic", "99.0", 1000, "2.0"),
        ("professional", "99.5", 750, "1.5"),
        ("enterprise", "99.9", 500, "0.5"),
    ],
)
def test_each_builtin_tier_promises_the_seed_002_targets(
    name: str, availability: str, response_ms: int, error_rate: str
) -> None:
    assert BUILTIN_TIERS[name].sla == SlaTargets(
        availability_percentage=Decimal(availability),
        response_time_ms=response_ms,
        error_rate_percentage=Decimal(error_rate),
        recovery_time_minutes=15,
    )


def test_higher_tiers_are_checked_more_often_and_kept_longer() -> None:
    basic, pro, ent = (BUILTIN_TIERS[n] for n in ("basic", "professional", "enterprise"))
    assert basic.check_interval_seconds > pro.check_interval_seconds > ent.check_interval_seconds
    assert basic.retention_seconds < pro.retention_seconds < ent.retention_seconds


def test_with_overrides_replaces_only_the_named_objectives() -> None:
    sla = BUILTIN_TIERS["basic"].sla.with_overrides({"response_time_ms": 600})
    assert sla.as_dict() == {
        "availability_percentage": Decimal("99.0"),
        "response_time_ms": 600,
        "error_rate_percentage": Decimal("2.0"),
        "recovery_time_minutes": 15,
    }


def test_with_overrides_leaves_the_original_targets_untouched() -> None:
    DEFAULT_SLA_TARGETS.with_overrides({"response_time_ms": 1})
    assert DEFAULT_SLA_TARGETS.response_time_ms == 500


def test_an_unknown_override_name_raises_key_error_naming_it() -> None:
    with pytest.raises(KeyError) as info:
        DEFAULT_SLA_TARGETS.with_overrides({"uptime": Decimal("99")})
    assert info.value.args == ("uptime",)


def test_the_default_catalog_holds_exactly_the_builtin_tiers() -> None:
    catalog = TierCatalog()
    assert catalog.names() == ["basic", "enterprise", "professional"]
    assert catalog.get("enterprise") is BUILTIN_TIERS["enterprise"]
    assert catalog.get("gold") is None


def _custom(name: str, availability: str) -> Tier:
    return Tier(
        name=name,
        sla=SlaTargets(availability_percentage=Decimal(availability)),
        check_interval_seconds=15,
        retention_seconds=180 * 86400.0,
    )


def test_with_custom_adds_a_tier_next_to_the_builtin_ones() -> None:
    gold = _custom("gold", "99.95")
    catalog = TierCatalog.with_custom({"gold": gold})
    assert catalog.names() == ["basic", "enterprise", "gold", "professional"]
    assert catalog.get("gold") is gold
    assert catalog.get("basic") is BUILTIN_TIERS["basic"]


def test_with_custom_can_redefine_a_builtin_tier() -> None:
    custom_basic = _custom("basic", "98.0")
    catalog = TierCatalog.with_custom({"basic": custom_basic})
    assert catalog.get("basic") is custom_basic
    assert catalog.names() == ["basic", "enterprise", "professional"]


def test_with_custom_does_not_change_the_builtin_tiers() -> None:
    TierCatalog.with_custom({"basic": _custom("basic", "98.0"), "gold": _custom("gold", "99")})
    assert sorted(BUILTIN_TIERS) == ["basic", "enterprise", "professional"]
    assert BUILTIN_TIERS["basic"].sla.availability_percentage == Decimal("99.0")


def test_effective_sla_without_overrides_is_the_tiers_own() -> None:
    assert TierCatalog().effective_sla("professional", {}) == BUILTIN_TIERS["professional"].sla


def test_effective_sla_applies_the_tenants_overrides_on_its_tier() -> None:
    sla = TierCatalog().effective_sla(
        "enterprise", {"response_time_ms": 300, "availability_percentage": Decimal("99.95")}
    )
    assert sla == SlaTargets(Decimal("99.95"), 300, Decimal("0.5"), 15)


def test_effective_sla_uses_a_custom_tier() -> None:
    catalog = TierCatalog.with_custom({"gold": _custom("gold", "99.95")})
    sla = catalog.effective_sla("gold", {"recovery_time_minutes": 5})
    assert sla == SlaTargets(Decimal("99.95"), 500, Decimal("1.0"), 5)


def test_effective_sla_of_an_unknown_tier_starts_from_the_defaults() -> None:
    sla = TierCatalog().effective_sla("vanished", {"response_time_ms": 900})
    assert sla == SlaTargets(Decimal("99.9"), 900, Decimal("1.0"), 15)


def test_effective_sla_with_an_unknown_override_name_raises_key_error() -> None:
    with pytest.raises(KeyError) as info:
        TierCatalog().effective_sla("basic", {"latency_ms": 100})
    assert info.value.args == ("latency_ms",)
