from __future__ import annotations

from decimal import Decimal

import pytest

from tenantwatch.domain.apikeys import SYSTEM, Principal, Scope, effective_scopes
from tenantwatch.domain.tenants import TenantStatus
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.errors import Conflict, Forbidden, Invalid, NotFound
from tenantwatch.services.tenants import TenantInput, TenantPatch


def bound(tenant: str, scope: Scope = Scope.ADMIN) -> Principal:
    return Principal(actor=f"apikey:{tenant}", scopes=effective_scopes([scope]), tenant_id=tenant)


async def test_it_creates_and_reads_back_a_tenant_with_all_fields(runtime: Runtime) -> None:
    data = TenantInput(
        id="acme",
        name="Acme",
        tier="professional",
        timezone="Europe/Berlin",
        labels={"region": "eu"},
        sla_overrides={"availability_percentage": Decimal("99.95"), "response_time_ms": 600},
    )
    await runtime.tenants.create(SYSTEM, data)
    got = await runtime.tenants.get(SYSTEM, "acme")
    assert (got.name, got.tier, got.timezone, dict(got.labels)) == (
        "Acme",
        "professional",
        "Europe/Berlin",
        {"region": "eu"},
    )
    assert got.sla_overrides == {
        "availability_percentage": Decimal("99.95"),
        "response_time_ms": 600,
    }
    assert isinstance(got.sla_overrides["response_time_ms"], int)
    assert got.status is TenantStatus.ACTIVE and got.managed_by == "api"
    sla = runtime.ctx.tiers.effective_sla(got.tier, got.sla_overrides)
    assert sla.availability_percentage == Decimal("99.95")
    assert sla.error_rate_percentage == Decimal("1.5")  # from the professional tier


async def test_a_duplicate_id_conflicts(runtime: Runtime) -> None:
    await runtime.tenants.create(SYSTEM, TenantInput(id="acme", name="A", tier="basic"))
    with pytest.raises(Conflict, match="already exists"):
        await runtime.tenants.create(SYSTEM, TenantInput(id="acme", name="B", tier="basic"))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (TenantInput(id="acme", name="A", tier="gold"), "tier"),
        (TenantInput(id="Acme!", name="A", tier="basic"), "id"),
        (TenantInput(id="acme", name="A", tier="basic", timezone="Mars/Olympus"), "timezone"),
        (TenantInput(id="acme", name="A", tier="basic", labels={"1x": "y"}), "labels"),
        (
            TenantInput(id="acme", name="A", tier="basic", sla_overrides={"uptime": 1}),
            "sla_overrides",
        ),
    ],
)
async def test_invalid_input_names_the_field(
    runtime: Runtime, data: TenantInput, field: str
) -> None:
    with pytest.raises(Invalid) as info:
        await runtime.tenants.create(SYSTEM, data)
    assert info.value.field == field
    with pytest.raises(NotFound):
        await runtime.tenants.get(SYSTEM, "acme")


async def test_list_pages_through_every_tenant_once_in_id_order(runtime: Runtime) -> None:
    ids = [f"t{i:02d}" for i in range(23)]
    for tid in reversed(ids):
        await runtime.tenants.create(SYSTEM, TenantInput(id=tid, name=tid, tier="basic"))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await runtime.tenants.list(SYSTEM, cursor=cursor, limit=10)
        seen += [t.id for t in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ids and pages == 3


async def test_list_filters_by_tier_and_status(runtime: Runtime) -> None:
    await runtime.tenants.create(SYSTEM, TenantInput(id="a", name="A", tier="basic"))
    await runtime.tenants.create(
        SYSTEM, TenantInput(id="b", name="B", tier="basic", status=TenantStatus.SUSPENDED)
    )
    await runtime.tenants.create(SYSTEM, TenantInput(id="c", name="C", tier="enterprise"))
    basic = await runtime.tenants.list(SYSTEM, tier="basic")
    assert [t.id for t in basic.items] == ["a", "b"]
    suspended = await runtime.tenants.list(SYSTEM, status="suspended")
    assert [t.id for t in suspended.items] == ["b"]
    assert sorted(await runtime.tenants.counts(SYSTEM)) == [
        ("basic", "active", 1),
        ("basic", "suspended", 1),
        ("enterprise", "active", 1),
    ]


async def test_a_tenant_bound_principal_sees_only_its_tenant(
    runtime: Runtime, two_tenants: tuple[str, str]
) -> None:
    alpha, bravo = two_tenants
    who = bound(alpha, Scope.READ)
    assert [t.id for t in (await runtime.tenants.list(who)).items] == [alpha]
    assert (await runtime.tenants.get(who, alpha)).id == alpha
    with pytest.raises(NotFound):
        await runtime.tenants.get(who, bravo)
    assert await runtime.tenants.counts(who) == [("enterprise", "active", 1)]


async def test_a_bound_admin_cannot_touch_another_tenant_or_create_tenants(
    runtime: Runtime, two_tenants: tuple[str, str]
) -> None:
    alpha, bravo = two_tenants
    who = bound(alpha)
    with pytest.raises(NotFound):
        await runtime.tenants.update(who, bravo, TenantPatch(name="stolen"))
    with pytest.raises(NotFound):
        await runtime.tenants.delete(who, bravo)
    with pytest.raises(Forbidden):
        await runtime.tenants.create(who, TenantInput(id="new", name="N", tier="basic"))
    assert (await runtime.tenants.get(SYSTEM, bravo)).name == "Bravo"


async def test_a_read_only_principal_cannot_change_anything(
    runtime: Runtime, two_tenants: tuple[str, str]
) -> None:
    alpha, _ = two_tenants
    reader = Principal(actor="r", scopes=effective_scopes([Scope.WRITE]))
    with pytest.raises(Forbidden, match="admin"):
        await runtime.tenants.update(reader, alpha, TenantPatch(name="x"))


async def test_update_and_delete_are_audited_with_before_and_after(
    runtime: Runtime, two_tenants: tuple[str, str]
) -> None:
    alpha, _ = two_tenants
    updated = await runtime.tenants.update(
        SYSTEM, alpha, TenantPatch(tier="basic", status=TenantStatus.SUSPENDED), request_id="r-1"
    )
    assert (updated.tier, updated.status) == ("basic", TenantStatus.SUSPENDED)
    await runtime.tenants.delete(SYSTEM, alpha, request_id="r-2")
    with pytest.raises(NotFound):
        await runtime.tenants.get(SYSTEM, alpha)
    entries = (await runtime.audit.list(SYSTEM, object_id=alpha)).items
    assert [e.action for e in entries] == ["tenant.delete", "tenant.update", "tenant.create"]
    delete, update, _ = entries
    assert update.before is not None and update.after is not None
    assert (update.before["tier"], update.after["tier"]) == ("enterprise", "basic")
    assert update.after["status"] == "suspended" and update.request_id == "r-1"
    assert delete.before is not None and delete.after is None and delete.request_id == "r-2"
    assert delete.actor == SYSTEM.actor


async def test_an_update_that_changes_nothing_writes_no_audit_entry(
    runtime: Runtime, two_tenants: tuple[str, str]
) -> None:
    alpha, _ = two_tenants
    await runtime.tenants.update(SYSTEM, alpha, TenantPatch(name="Alpha"))
    entries = (await runtime.audit.list(SYSTEM, object_id=alpha)).items
    assert [e.action for e in entries] == ["tenant.create"]


async def test_config_sync_creates_updates_and_releases(runtime: Runtime) -> None:
    first = [
        TenantInput(id="a", name="A", tier="basic"),
        TenantInput(id="b", name="B", tier="enterprise"),
    ]
    report = await runtime.tenants.sync_from_config(first)
    assert (report.created, report.updated, report.released) == (["a", "b"], [], [])
    assert (await runtime.tenants.get(SYSTEM, "a")).managed_by == "config"

    again = await runtime.tenants.sync_from_config(first)
    assert again.unchanged == ["a", "b"] and not again.created and not again.updated

    second = [TenantInput(id="a", name="A renamed", tier="professional")]
    report = await runtime.tenants.sync_from_config(second)
    assert (report.updated, report.released) == (["a"], ["b"])
    a = await runtime.tenants.get(SYSTEM, "a")
    assert (a.name, a.tier) == ("A renamed", "professional")
    b = await runtime.tenants.get(SYSTEM, "b")
    assert b.managed_by == "api"  # kept, with its data, but now the API's to manage
    actions = [e.action for e in (await runtime.audit.list(SYSTEM)).items]
    assert actions.count("tenant.release") == 1


async def test_config_managed_tenants_refuse_api_changes(runtime: Runtime) -> None:
    await runtime.tenants.sync_from_config([TenantInput(id="a", name="A", tier="basic")])
    with pytest.raises(Conflict, match="config file"):
        await runtime.tenants.update(SYSTEM, "a", TenantPatch(name="x"))
    with pytest.raises(Conflict, match="config file"):
        await runtime.tenants.delete(SYSTEM, "a")


async def test_concurrent_creates_of_one_id_give_one_tenant_and_conflicts(runtime: Runtime) -> None:
    import asyncio

    results = await asyncio.gather(
        *(
            runtime.tenants.create(SYSTEM, TenantInput(id="race", name=f"R{i}", tier="basic"))
            for i in range(5)
        ),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert (await runtime.tenants.get(SYSTEM, "race")).name == created[0].name


async def test_two_processes_starting_together_both_sync_the_config(runtime: Runtime) -> None:
    import asyncio

    from tenantwatch.config.model import Config
    from tenantwatch.runtime.root import build_runtime, sync_config

    config = Config.model_validate(
        {"tenants": [{"id": f"c{i}", "name": f"C{i}", "tier": "basic"} for i in range(20)]}
    )
    a = build_runtime(runtime.settings, config)
    b = build_runtime(runtime.settings, config)
    try:
        await asyncio.gather(sync_config(a), sync_config(b))
    finally:
        await a.stop()
        await b.stop()
    assert len((await runtime.tenants.list(SYSTEM, limit=100)).items) == 20
