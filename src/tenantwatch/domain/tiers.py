"""Tenant tiers: SLA targets, check intervals, retention and series per tier (seed 002 defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType

SLA_OBJECTIVES = (
    "availability_percentage",
    "response_time_ms",
    "error_rate_percentage",
    "recovery_time_minutes",
)


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """What a tier promises: the objectives of seed 002's DEFAULT_SLA_TARGETS."""

    availability_percentage: Decimal = Decimal("99.9")
    response_time_ms: int = 500
    error_rate_percentage: Decimal = Decimal("1.0")
    recovery_time_minutes: int = 15

    def with_overrides(self, overrides: Mapping[str, Decimal | int]) -> SlaTargets:
        """Return these targets with the given objectives replaced; unknown names raise KeyError."""
        for name in overrides:
            if name not in SLA_OBJECTIVES:
                raise KeyError(name)
        return replace(self, **overrides)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Decimal | int]:
        return {name: getattr(self, name) for name in SLA_OBJECTIVES}


DEFAULT_SLA_TARGETS = SlaTargets()
# Series a tenant may keep in the metric store, for custom tiers without a base tier.
DEFAULT_MAX_SERIES = 100_000


@dataclass(frozen=True, slots=True)
class Tier:
    """A tier of service; every tenant belongs to exactly one."""

    name: str
    sla: SlaTargets
    check_interval_seconds: float
    retention_seconds: float
    builtin: bool = False
    description: str = ""
    max_series: int = DEFAULT_MAX_SERIES  # series a tenant may keep in the metric store


_DAY = 86400.0

BUILTIN_TIERS: Mapping[str, Tier] = MappingProxyType(
    {
        "basic": Tier(
            name="basic",
            sla=SlaTargets(Decimal("99.0"), 1000, Decimal("2.0"), 15),
            check_interval_seconds=300,
            retention_seconds=15 * _DAY,
            builtin=True,
            description="Best effort: 99.0% availability, checks every 5 minutes.",
            max_series=20_000,
        ),
        "professional": Tier(
            name="professional",
            sla=SlaTargets(Decimal("99.5"), 750, Decimal("1.5"), 15),
            check_interval_seconds=60,
            retention_seconds=30 * _DAY,
            builtin=True,
            description="99.5% availability, checks every minute.",
            max_series=100_000,
        ),
        "enterprise": Tier(
            name="enterprise",
            sla=SlaTargets(Decimal("99.9"), 500, Decimal("0.5"), 15),
            check_interval_seconds=30,
            retention_seconds=90 * _DAY,
            builtin=True,
            description="99.9% availability, checks every 30 seconds.",
            max_series=500_000,
        ),
    }
)


@dataclass(frozen=True, slots=True)
class TierCatalog:
    """The built-in tiers plus the custom ones a config declares (custom may redefine built-ins)."""

    tiers: Mapping[str, Tier] = field(default_factory=lambda: dict(BUILTIN_TIERS))

    @classmethod
    def with_custom(cls, custom: Mapping[str, Tier]) -> TierCatalog:
        merged = dict(BUILTIN_TIERS)
        merged.update(custom)
        return cls(MappingProxyType(merged))

    def get(self, name: str) -> Tier | None:
        return self.tiers.get(name)

    def names(self) -> list[str]:
        return sorted(self.tiers)

    def effective_sla(self, tier: str, overrides: Mapping[str, Decimal | int]) -> SlaTargets:
        """Return the tenant's SLA targets: its tier's, then its own overrides on top."""
        base = self.tiers[tier].sla if tier in self.tiers else DEFAULT_SLA_TARGETS
        return base.with_overrides(overrides)
