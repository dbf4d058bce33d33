"""Tenants: identity rules and the tenant record."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from zoneinfo import available_timezones

from tenantwatch.types import is_label_name

TENANT_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_TENANT_ID = re.compile(TENANT_ID_PATTERN)
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


def tenant_id_problem(value: str) -> str | None:
    """Return why a tenant id is invalid, or None when it is a valid slug."""
    if _TENANT_ID.fullmatch(value):
        return None
    return (
        f"invalid tenant id {value!r}: use 1-63 lowercase letters, digits and '-', "
        "starting and ending with a letter or digit (e.g. 'acme-corp')"
    )


def label_name_problem(value: str) -> str | None:
    """Return why a label name is invalid (Prometheus rules), or None when valid."""
    if is_label_name(value) and not value.startswith("__"):
        return None
    return (
        f"invalid label name {value!r}: use letters, digits and '_', not starting with a "
        "digit or '__'"
    )


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def timezone_problem(name: str) -> str | None:
    """Return why a timezone name is not an IANA zone, or None when it is one."""
    if name in _timezones():
        return None
    return f"unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'"


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    tier: str
    timezone: str = "UTC"
    labels: Mapping[str, str] = field(default_factory=dict)
    status: TenantStatus = TenantStatus.ACTIVE
    sla_overrides: Mapping[str, Decimal | int] = field(default_factory=dict)
    managed_by: str = "api"
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def snapshot(self) -> dict[str, object]:
        """Return a JSON-friendly picture of the tenant, as the audit log records it."""
        return {
            "id": self.id,
            "name": self.name,
            "tier": self.tier,
            "timezone": self.timezone,
            "labels": dict(self.labels),
            "status": str(self.status),
            "sla_overrides": {k: str(v) for k, v in self.sla_overrides.items()},
            "managed_by": self.managed_by,
        }
