"""What every use case receives: storage, the clock and the tier catalogue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.services.ports import UnitOfWorkFactory


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceContext:
    uow: UnitOfWorkFactory
    tiers: TierCatalog = field(default_factory=TierCatalog)
    clock: Callable[[], datetime] = utcnow
