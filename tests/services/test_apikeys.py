from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tenantwatch.adapters.db.tables import api_keys, audit_log
from tenantwatch.domain.apikeys import SYSTEM, Principal, Scope, effective_scopes
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.apikeys import ApiKeyService, needs_touch
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Forbidden, Invalid, NotFound


async def test_an_issued_key_authenticates_and_carries_its_scopes(runtime: Runtime) -> None:
    issued = await runtime.api_keys.issue(SYSTEM, name="ci", scopes=[Scope.WRITE])
    assert issued.secret.startswith("tw_") and len(issued.secret) > 40
    who = await runtime.api_keys.authenticate(issued.secret)
    assert who is not None
    assert who.key_id == issued.key.id and who.tenant_id is None
    assert who.can(Scope.READ) and who.can(Scope.WRITE) and not who.can(Scope.ADMIN)
    assert await runtime.api_keys.authenticate(issued.secret + "x") is None
    assert await runtime.api_keys.authenticate("") is None


async def test_the_secret_is_stored_nowhere_only_its_hash(runtime: Runtime) -> None:
    issued = await runtime.api_keys.issue(SYSTEM, name="ci", scopes=[Scope.ADMIN])
    async with runtime.engine.connect() as conn:
        rows = [tuple(r) for r in await conn.execute(select(api_keys))]
        rows += [tuple(r) for r in await conn.execute(select(audit_log))]
    assert rows
    assert issued.secret not in repr(rows)
    assert issued.key.prefix in repr(rows)  # the recognisable prefix is kept


async def test_a_revoked_key_no_longer_authenticates(runtime: Runtime) -> None:
    admin = await runtime.api_keys.issue(SYSTEM, name="admin", scopes=[Scope.ADMIN])
    other = await runtime.api_keys.issue(SYSTEM, name="ci", scopes=[Scope.READ])
    who = await runtime.api_keys.authenticate(admin.secret)
    assert who is not None
    revoked = await runtime.api_keys.revoke(who, other.key.id)
    assert revoked.revoked_at is not None
    assert await runtime.api_keys.authenticate(other.secret) is None
    listed = await runtime.api_keys.list(SYSTEM)
    assert other.key.id not in [k.id for k in listed.items]
    everything = await runtime.api_keys.list(SYSTEM, include_revoked=True)
    assert other.key.id in [k.id for k in everything.items]


async def test_a_key_cannot_revoke_itself(runtime: Runtime) -> None:
    admin = await runtime.api_keys.issue(SYSTEM, name="admin", scopes=[Scope.ADMIN])
    who = await runtime.api_keys.authenticate(admin.secret)
    assert who is not None
    with pytest.raises(Forbidden, match="cannot revoke itself"):
        await runtime.api_keys.revoke(who, admin.key.id)


async def test_a_bound_admin_issues_keys_only_for_its_own_tenant(
    runtime: Runtime, two_tenants: tuple[str, str]
) -> None:
    alpha, bravo = two_tenants
    who = Principal(actor="a", scopes=effective_scopes([Scope.ADMIN]), tenant_id=alpha)
    own = await runtime.api_keys.issue(who, name="x", scopes=[Scope.READ])
    assert own.key.tenant_id == alpha
    with pytest.raises(NotFound):
        await runtime.api_keys.issue(who, name="x", scopes=[Scope.READ], tenant_id=bravo)
    other = await runtime.api_keys.issue(SYSTEM, name="b", scopes=[Scope.READ], tenant_id=bravo)
    with pytest.raises(NotFound):
        await runtime.api_keys.get(who, other.key.id)
    with pytest.raises(NotFound):
        await runtime.api_keys.revoke(who, other.key.id)
    assert [k.id for k in (await runtime.api_keys.list(who)).items] == [own.key.id]


async def test_keys_for_an_unknown_tenant_or_without_scopes_are_refused(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await runtime.api_keys.issue(SYSTEM, name="x", scopes=[Scope.READ], tenant_id="ghost")
    with pytest.raises(Invalid):
        await runtime.api_keys.issue(SYSTEM, name="x", scopes=[])


async def test_deleting_a_tenant_deletes_its_keys(
    runtime: Runtime, two_tenants: tuple[str, str]
) -> None:
    alpha, _ = two_tenants
    issued = await runtime.api_keys.issue(SYSTEM, name="x", scopes=[Scope.READ], tenant_id=alpha)
    await runtime.tenants.delete(SYSTEM, alpha)
    assert await runtime.api_keys.authenticate(issued.secret) is None


async def test_ensure_admin_issues_one_key_only_while_none_exists(runtime: Runtime) -> None:
    first = await runtime.api_keys.ensure_admin()
    assert first is not None and Scope.ADMIN in first.key.scopes
    assert await runtime.api_keys.ensure_admin() is None
    who = await runtime.api_keys.authenticate(first.secret)
    assert who is not None
    spare = await runtime.api_keys.issue(who, name="spare", scopes=[Scope.ADMIN])
    spare_who = await runtime.api_keys.authenticate(spare.secret)
    assert spare_who is not None
    await runtime.api_keys.revoke(spare_who, first.key.id)
    await runtime.api_keys.revoke(who, spare.key.id)  # the first was revoked: 'who' is stale
    assert await runtime.api_keys.ensure_admin() is not None


async def test_last_used_is_written_at_most_once_a_minute(runtime: Runtime) -> None:
    now = [datetime(2026, 11, 1, 12, 0, tzinfo=UTC)]
    ctx = ServiceContext(uow=runtime.ctx.uow, tiers=runtime.ctx.tiers, clock=lambda: now[0])
    service = ApiKeyService(ctx)
    issued = await service.issue(SYSTEM, name="x", scopes=[Scope.READ])
    await service.authenticate(issued.secret)
    assert (await service.get(SYSTEM, issued.key.id)).last_used_at == now[0]
    first = now[0]
    now[0] += timedelta(seconds=30)
    await service.authenticate(issued.secret)
    assert (await service.get(SYSTEM, issued.key.id)).last_used_at == first
    now[0] += timedelta(seconds=31)
    await service.authenticate(issued.secret)
    assert (await service.get(SYSTEM, issued.key.id)).last_used_at == now[0]


def test_needs_touch_when_never_used_or_stale() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert needs_touch(None, t)
    assert not needs_touch(t, t + timedelta(seconds=59))
    assert needs_touch(t, t + timedelta(seconds=60))
