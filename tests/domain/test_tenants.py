"""Tenant identity rules (ids, label names, timezones) and the audit snapshot."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tenantwatch.domain.tenants import (
    Tenant,
    TenantStatus,
    label_name_problem,
    tenant_id_problem,
    timezone_problem,
)


@pytest.mark.parametrize("value", ["a", "0", "acme-corp", "a1", "a--b", "x" * 63, "9lives"])
def test_a_lowercase_slug_is_a_valid_tenant_id(value: str) -> None:
    assert tenant_id_problem(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "Acme", "acme_corp", "-acme", "acme-", "x" * 64, "acme corp", "acme.corp", "äcme", "-"],
)
def test_anything_else_is_an_invalid_tenant_id(value: str) -> None:
    assert tenant_id_problem(value) == (
        f"invalid tenant id {value!r}: use 1-63 lowercase letters, digits and '-', "
        "starting and ending with a letter or digit (e.g. 'acme-corp')"
    )


def test_a_tenant_id_with_a_trailing_newline_is_invalid() -> None:
    assert tenant_id_problem("acme\n") is not None


@pytest.mark.parametrize("value", ["region", "_private", "a1", "Region_2", "x"])
def test_a_prometheus_label_name_is_valid(value: str) -> None:
    assert label_name_problem(value) is None


@pytest.mark.parametrize("value", ["", "1a", "a-b", "a.b", "__name__", "__", "ré gion"])
def test_a_label_name_breaking_prometheus_rules_is_invalid(value: str) -> None:
    assert label_name_problem(value) == (
        f"invalid label name {value!r}: use letters, digits and '_', not starting with a "
        "digit or '__'"
    )


def test_a_label_name_with_a_trailing_newline_is_invalid() -> None:
    assert label_name_problem("region\n") is not None


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Singapore", "Europe/London"]
)
def test_an_iana_timezone_is_valid(name: str) -> None:
    assert timezone_problem(name) is None


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "CEST", "Europe/Berlin ", "+02:00"])
def test_a_name_that_is_no_iana_zone_is_an_unknown_timezone(name: str) -> None:
    assert timezone_problem(name) == (
        f"unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'"
    )


def _tenant() -> Tenant:
    return Tenant(
        id="acme-corp",
        name="Acme Corp",
        tier="enterprise",
        timezone="America/New_York",
        labels={"region": "us-east"},
        status=TenantStatus.SUSPENDED,
        sla_overrides={"availability_percentage": Decimal("99.95"), "response_time_ms": 300},
        managed_by="config",
    )


def test_a_snapshot_records_every_field_the_audit_log_needs() -> None:
    assert _tenant().snapshot() == {
        "id": "acme-corp",
        "name": "Acme Corp",
        "tier": "enterprise",
        "timezone": "America/New_York",
        "labels": {"region": "us-east"},
        "status": "suspended",
        "sla_overrides": {"availability_percentage": "99.95", "response_time_ms": "300"},
        "managed_by": "config",
    }


def test_a_snapshot_is_json_serialisable() -> None:
    snapshot = _tenant().snapshot()
    assert json.loads(json.dumps(snapshot)) == snapshot


def test_a_snapshot_holds_copies_not_the_tenants_own_mappings() -> None:
    tenant = _tenant()
    snapshot = tenant.snapshot()
    snapshot["labels"]["region"] = "changed"  # type: ignore[index]
    assert tenant.labels == {"region": "us-east"}


def test_a_new_tenant_defaults_to_active_in_utc_managed_by_the_api() -> None:
    snapshot = Tenant(id="a", name="A", tier="basic").snapshot()
    assert (snapshot["status"], snapshot["timezone"], snapshot["managed_by"]) == (
        "active",
        "UTC",
        "api",
    )
    assert snapshot["labels"] == {}
    assert snapshot["sla_overrides"] == {}
