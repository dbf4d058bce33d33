"""Tenancy edges: reused ids, what a bound admin may change, races between requests."""

from __future__ import annotations

import asyncio

import pytest

from tenantwatch.domain.apikeys import SYSTEM, Principal, Scope, effective_scopes
from tenantwatch.domain.tenants import TenantStatus
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.errors import Conflict, Forbidden, Invalid, NotFound
from tenantwatch.services.tenants import TenantInput, TenantPatch


def bound_admin(tenant: str) -> Principal:
    return Principal(actor="bound", scopes=effective_scopes([Scope.ADMIN]), tenant_id=tenant)


async def test_a_reused_tenant_id_does_not_inherit_the_old_tenants_audit_history(
    runtime: Runtime,
) -> None:
    await runtime.tenants.create(
        SYSTEM, TenantInput(id="acme", name="Old Acme", tier="basic", labels={"deal": "secret"})
    )
    await runtime.api_keys.issue(SYSTEM, name="old-ci", scopes=[Scope.READ], tenant_id="acme")
    await runtime.tenants.delete(SYSTEM, "acme")
    await asyncio.sleep(0.002)  # the new tenant is created strictly later
    await runtime.tenants.create(SYSTEM, TenantInput(id="acme", name="New Acme", tier="basic"))
    entries = (await runtime.audit.list(bound_admin("acme"))).items
    assert [e.action for e in entries] == ["tenant.create"]
    assert "Old Acme" not in repr(entries) and "old-ci" not in repr(entries)
    everything = (await runtime.audit.list(SYSTEM)).items
    assert len(everything) == 4  # the unbound admin still sees the whole history


@pytest.mark.parametrize(
    "patch",
    [
        TenantPatch(tier="enterprise"),
        TenantPatch(status=TenantStatus.ACTIVE),
        TenantPatch(sla_overrides={"response_time_ms": 1}),
    ],
)
async def test_a_bound_admin_cannot_change_its_own_tier_status_or_sla(
    runtime: Runtime, two_tenants: tuple[str, str], patch: TenantPatch
) -> None:
    alpha, _ = two_tenants
    await runtime.tenants.update(SYSTEM, alpha, TenantPatch(status=TenantStatus.SUSPENDED))
    before = await runtime.tenants.get(SYSTEM, alpha)
    with pytest.raises(Forbidden, match="not bound to a tenant"):
        await runtime.tenants.update(bound_admin(alpha), alpha, patch)
    assert await runtime.tenants.get(SYSTEM, alpha) == before


async def test_a_bound_admin_may_rename_and_relabel_its_tenant(
    runtime: Runtime, two_tenants: tuple[str, str]
) -> None:
    alpha, _ = two_tenants
    patch = TenantPatch(name="Alpha GmbH", labels={"team": "sre"}, timezone="Europe/Berlin")
    updated = await runtime.tenants.update(bound_admin(alpha), alpha, patch)
    assert (updated.name, dict(updated.labels), updated.timezone) == (
        "Alpha GmbH",
        {"team": "sre"},
        "Europe/Berlin",
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (TenantInput(id="t", name="A\x00", tier="basic"), "name"),
        (TenantInput(id="t", name="\udcff", tier="basic"), "name"),
        (TenantInput(id="t", name="", tier="basic"), "name"),
        (TenantInput(id="t", name="x" * 201, tier="basic"), "name"),
        (TenantInput(id="t", name="T", tier="basic", labels={"a": "\udcff"}), "labels"),
        (TenantInput(id="t", name="T", tier="basic", labels={"a": "x\x00"}), "labels"),
    ],
)
async def test_text_no_database_can_store_is_refused_everywhere(
    runtime: Runtime, data: TenantInput, field: str
) -> None:
    with pytest.raises(Invalid) as info:
        await runtime.tenants.create(SYSTEM, data)
    assert info.value.field == field
    with pytest.raises(Invalid):
        await runtime.tenants.sync_from_config([data])
    assert (await runtime.tenants.list(SYSTEM)).items == []


async def test_lookups_with_unstorable_text_are_not_found_or_invalid(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await runtime.tenants.get(SYSTEM, "\udcff")
    with pytest.raises(NotFound):
        await runtime.api_keys.get(SYSTEM, "k_\x00")
    with pytest.raises(Invalid):
        await runtime.tenants.list(SYSTEM, tier="\udcff")
    with pytest.raises(Invalid):
        await runtime.audit.list(SYSTEM, object_id="a\x00")
    with pytest.raises(Invalid):
        await runtime.api_keys.issue(SYSTEM, name="\x00", scopes=[Scope.READ])
    assert await runtime.api_keys.authenticate("tw_\udcff") is None


async def test_concurrent_deletes_delete_and_audit_once(
    runtime: Runtime, two_tenants: tuple[str, str]
) -> None:
    alpha, _ = two_tenants
    results = await asyncio.gather(
        runtime.tenants.delete(SYSTEM, alpha),
        runtime.tenants.delete(SYSTEM, alpha),
        runtime.tenants.update(SYSTEM, alpha, TenantPatch(name="ghost")),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(f, NotFound | Conflict) for f in failures), failures
    actions = [e.action for e in (await runtime.audit.list(SYSTEM, object_id=alpha)).items]
    assert actions.count("tenant.delete") == 1
    # an update either happened before the delete, or failed: never after it
    assert actions[0] == "tenant.delete"


async def test_issuing_a_key_for_a_tenant_being_deleted_is_not_found(
    runtime: Runtime,
) -> None:
    for i in range(8):
        tid = f"d{i}"
        await runtime.tenants.create(SYSTEM, TenantInput(id=tid, name=tid, tier="basic"))
        results = await asyncio.gather(
            runtime.tenants.delete(SYSTEM, tid),
            runtime.api_keys.issue(SYSTEM, name="k", scopes=[Scope.READ], tenant_id=tid),
            return_exceptions=True,
        )
        for r in results:
            assert r is None or not isinstance(r, BaseException) or isinstance(r, NotFound), r


async def test_concurrent_revokes_audit_once(runtime: Runtime) -> None:
    target = await runtime.api_keys.issue(SYSTEM, name="t", scopes=[Scope.READ])
    revoked = await asyncio.gather(
        *(runtime.api_keys.revoke(SYSTEM, target.key.id) for _ in range(4))
    )
    assert all(k.revoked_at == revoked[0].revoked_at for k in revoked)
    actions = [e.action for e in (await runtime.audit.list(SYSTEM, object_id=target.key.id)).items]
    assert actions == ["apikey.revoke", "apikey.create"]
