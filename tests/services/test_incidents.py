"""Incidents from alerts, on SQLite and PostgreSQL: a storm across 50 tenants from one
cause is one incident with every tenant; TTA and TTR match the timeline; recurrence
reopens; the last alert resolving resolves; tenant keys see their own tenant only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tenantwatch.domain.apikeys import SYSTEM, Principal, Scope
from tenantwatch.incidents.model import EntryKind, Role, Severity, Status
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.errors import Invalid, NotFound
from tenantwatch.services.incidents import AlertEvent, Filters, IncidentService
from tenantwatch.services.tenants import TenantInput

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def alert(
    tenant: str, name: str = "DatabaseDown", *, firing: bool = True, severity: str = "critical"
) -> AlertEvent:
    labels = {"alertname": name, "tenant": tenant, "severity": severity, "service": "db"}
    return AlertEvent(
        fingerprint=f"{name}-{tenant}",
        labels=labels,
        annotations={
            "summary": f"{name} on the shared cluster",
            "runbook_url": "https://runbooks.example/db",
        },
        firing=firing,
        starts_at=T0,
    )


@pytest.fixture
async def service(runtime: Runtime) -> tuple[IncidentService, Clock]:
    assert runtime.incidents is not None
    clock = Clock()
    runtime.incidents.clock = clock
    for i in range(50):
        tier = ("basic", "professional", "enterprise")[i % 3]
        await runtime.tenants.create(SYSTEM, TenantInput(id=f"t{i:02d}", name=f"T{i}", tier=tier))
    return runtime.incidents, clock


async def test_a_storm_across_50_tenants_is_one_incident(
    service: tuple[IncidentService, Clock],
) -> None:
    incidents, clock = service
    for i in range(50):
        clock.now = T0 + timedelta(seconds=3 * i)  # within the 10-minute window
        await incidents.ingest([alert(f"t{i:02d}")])
    page = await incidents.list(SYSTEM, Filters(status="active"), cursor=None, limit=10)
    assert len(page.items) == 1
    inc = page.items[0]
    assert inc.id == "INC-20261207-0001"
    assert inc.severity is Severity.P1 and inc.status is Status.OPEN
    assert len(inc.tenant_ids) == 50 and len(inc.firing_alerts) == 50
    assert {t.tier for t in inc.tenants} == {"basic", "professional", "enterprise"}
    assert inc.runbook == "https://runbooks.example/db"
    timeline = await incidents.timeline(SYSTEM, inc.id)
    assert [e.kind for e in timeline[:3]] == [
        EntryKind.CREATED,
        EntryKind.ALERT_FIRING,
        EntryKind.TENANT_AFFECTED,
    ]
    assert sum(1 for e in timeline if e.kind is EntryKind.TENANT_AFFECTED) == 50
    # an unrelated alert after the window opens its own incident
    clock.now = T0 + timedelta(minutes=30)
    await incidents.ingest([alert("t01", "HighLatency", severity="warning")])
    later = await incidents.list(SYSTEM, Filters(status="active"), cursor=None, limit=10)
    assert [i.id for i in later.items] == ["INC-20261207-0002", "INC-20261207-0001"]
    assert later.items[0].severity is Severity.P3


async def test_time_to_acknowledge_and_resolve_match_the_timeline(
    service: tuple[IncidentService, Clock],
) -> None:
    incidents, clock = service
    [inc] = await incidents.ingest([alert("t01"), alert("t02")])
    clock.now = T0 + timedelta(minutes=4)
    who = Principal("apikey:alice", frozenset(Scope))
    await incidents.acknowledge(who, inc.id)
    clock.now = T0 + timedelta(minutes=9)
    await incidents.transition(who, inc.id, Status.MONITORING, "failover done")
    clock.now = T0 + timedelta(minutes=20)
    await incidents.ingest([alert("t01", firing=False)])
    still = await incidents.get(SYSTEM, inc.id)
    assert still.active  # t02's alert still fires
    clock.now = T0 + timedelta(minutes=25)
    await incidents.ingest([alert("t02", firing=False)])
    done = await incidents.get(SYSTEM, inc.id)
    assert done.status is Status.RESOLVED
    assert done.time_to_acknowledge == timedelta(minutes=4)
    assert done.time_to_resolve == timedelta(minutes=25)
    assert done.mitigated_at == T0 + timedelta(minutes=9)
    timeline = await incidents.timeline(SYSTEM, inc.id)
    acked = next(e for e in timeline if e.kind is EntryKind.ACKNOWLEDGED)
    resolved = [e for e in timeline if e.kind is EntryKind.STATUS][-1]
    assert acked.at - inc.detected_at == done.time_to_acknowledge
    assert resolved.at - inc.detected_at == done.time_to_resolve
    assert resolved.data == {"from": "monitoring", "to": "resolved"}
    assert [e.seq for e in timeline] == list(range(1, len(timeline) + 1))
    # it recurs within the reopen window: the same incident reopens
    clock.now = T0 + timedelta(minutes=40)
    [again] = await incidents.ingest([alert("t02")])
    assert again.id == inc.id and again.status is Status.OPEN and again.reopened == 1


async def test_people_move_note_and_assign(service: tuple[IncidentService, Clock]) -> None:
    incidents, _ = service
    who = Principal("apikey:bob", frozenset(Scope))
    inc = await incidents.create(
        who, title="Billing emails late", severity=Severity.P3, tenants=["t03"]
    )
    assert inc.id.startswith("INC-20261207-") and not inc.auto_resolve
    await incidents.assign(who, inc.id, Role.COMMANDER, "alice")
    await incidents.note(who, inc.id, "queue backed up | retrying", pinned=True)
    await incidents.transition(who, inc.id, Status.INVESTIGATING)
    with pytest.raises(Invalid, match="only starts open"):
        await incidents.transition(who, inc.id, Status.OPEN)
    await incidents.transition(who, inc.id, Status.RESOLVED, "queue drained")
    with pytest.raises(Invalid, match="reopen it"):
        await incidents.transition(who, inc.id, Status.MONITORING)
    reopened = await incidents.transition(who, inc.id, Status.OPEN, "late again")
    assert reopened.status is Status.OPEN and reopened.roles == {Role.COMMANDER: "alice"}
    timeline = await incidents.timeline(SYSTEM, inc.id)
    assert [e.kind for e in timeline] == [
        EntryKind.CREATED,
        EntryKind.ASSIGNED,
        EntryKind.NOTE,
        EntryKind.ACKNOWLEDGED,
        EntryKind.STATUS,
        EntryKind.STATUS,
        EntryKind.REOPENED,
    ]
    assert timeline[2].pinned and timeline[2].author == "apikey:bob"


async def test_a_tenant_key_sees_only_its_own_tenant(
    service: tuple[IncidentService, Clock],
) -> None:
    incidents, _ = service
    [inc] = await incidents.ingest([alert("t01"), alert("t02")])
    own = Principal("apikey:t1", frozenset({Scope.READ, Scope.WRITE}), tenant_id="t01")
    other = Principal("apikey:t9", frozenset({Scope.READ}), tenant_id="t09")
    seen = await incidents.get(own, inc.id)
    assert seen.tenant_ids == ("t01",) and [a.tenant_id for a in seen.alerts] == ["t01"]
    assert all(e.data.get("tenant") in (None, "t01") for e in await incidents.timeline(own, inc.id))
    with pytest.raises(NotFound):
        await incidents.get(other, inc.id)
    assert (await incidents.list(other, Filters(), cursor=None, limit=10)).items == []
    with pytest.raises(NotFound):
        await incidents.acknowledge(other, inc.id)


async def test_a_p1_not_acknowledged_in_15_minutes_escalates_once(
    service: tuple[IncidentService, Clock],
) -> None:
    incidents, clock = service
    [inc] = await incidents.ingest([alert("t05")])
    clock.now = T0 + timedelta(minutes=14)
    assert await incidents.escalate_overdue("on-call") == []
    clock.now = T0 + timedelta(minutes=15)
    [escalated] = await incidents.escalate_overdue("on-call")
    assert escalated.id == inc.id and escalated.escalated_at == clock.now
    assert await incidents.escalate_overdue("on-call") == []


async def test_reconcile_resolves_what_no_longer_fires(
    service: tuple[IncidentService, Clock],
) -> None:
    incidents, clock = service
    await incidents.reconcile([alert("t07")])
    [inc] = (await incidents.list(SYSTEM, Filters(status="active"), cursor=None, limit=5)).items
    clock.now = T0 + timedelta(minutes=3)
    await incidents.reconcile([alert("t07")])  # still firing: nothing changes
    assert (await incidents.get(SYSTEM, inc.id)).active
    await incidents.reconcile([])
    assert (await incidents.get(SYSTEM, inc.id)).status is Status.RESOLVED
