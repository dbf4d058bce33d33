"""Silences as a service: saved with an id, kept per tenant, reported in state order, and
ended once the alerts they wait for resolve."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.routing import LabelMatcher
from tenantwatch.alertmanager.silences import Silence
from tenantwatch.services.alert_store import AlertStore
from tenantwatch.services.errors import NotFound
from tenantwatch.services.silences import SilenceService, tenant_scoped
from tests.services.memory_alert_repo import MemoryAlertRepo

NOW = 1_700_000_000.0


def silence(name: str, starts: float, ends: float, tenant: str | None = None) -> Silence:
    return Silence(
        id="",
        matchers=(LabelMatcher.of("alertname", "=", name),),
        starts_at=starts,
        ends_at=ends,
        updated_at=NOW,
        created_by="ops",
        comment="",
        tenant_id=tenant,
    )


def service() -> tuple[SilenceService, AlertStore, list[int]]:
    store = AlertStore(MemoryAlertRepo())
    woken: list[int] = []
    return SilenceService(store, lambda: NOW, lambda: woken.append(1)), store, woken


async def test_a_saved_silence_gets_an_id_and_wakes_the_loop() -> None:
    svc, store, woken = service()
    sid = await svc.save(silence("Down", NOW - 1, NOW + 60))
    assert sid and store.silences[sid].id == sid
    assert woken == [1]
    assert svc.state(svc.get(sid)) == "active"


async def test_another_tenants_silence_is_not_found() -> None:
    svc, _, _ = service()
    sid = await svc.save(silence("Down", NOW - 1, NOW + 60, tenant="alpha"))
    assert svc.get(sid, "alpha").id == sid
    with pytest.raises(NotFound):
        svc.get(sid, "beta")
    assert [r.silence.id for r in svc.reports("beta", [])] == []


async def test_reports_come_active_then_pending_then_expired_each_by_end() -> None:
    svc, _, _ = service()
    expired = await svc.save(silence("A", NOW - 60, NOW - 1))
    late = await svc.save(silence("B", NOW - 1, NOW + 600))
    pending = await svc.save(silence("C", NOW + 10, NOW + 60))
    soon = await svc.save(silence("D", NOW - 1, NOW + 60))
    reports = svc.reports(None, [])
    assert [r.silence.id for r in reports] == [soon, late, pending, expired]
    assert [r.state for r in reports] == ["active", "active", "pending", "expired"]
    only_b = svc.reports(None, [LabelMatcher.of("alertname", "=", "B")])
    assert [r.silence.id for r in only_b] == [late]


async def test_an_end_on_resolve_silence_ends_when_its_alert_resolves() -> None:
    svc, store, _ = service()
    s = silence("Deploy", NOW - 1, NOW + 86400)
    sid = await svc.save(replace(s, end_on_resolve=True))
    a = AmAlert.of(
        labels={"alertname": "Deploy"},
        annotations={},
        starts_at=NOW,
        ends_at=NOW + 300,
        updated_at=NOW,
    )
    store.records[a.fingerprint] = AlertRecord(a, "api", NOW, NOW)
    await svc.end_resolved(NOW)  # it mutes a firing alert: it keeps going
    assert svc.state(svc.get(sid)) == "active"
    store.records.clear()
    await svc.end_resolved(NOW + 1)
    assert store.silences[sid].ends_at <= NOW + 1


def test_a_tenants_silence_is_scoped_to_its_tenant_unless_it_names_one() -> None:
    down = (LabelMatcher.of("alertname", "=", "Down"),)
    assert tenant_scoped(down, None) == down
    assert tenant_scoped(down, "alpha") == (*down, LabelMatcher.of("tenant", "=", "alpha"))
    named = (*down, LabelMatcher.of("tenant", "=", "alpha"))
    assert tenant_scoped(named, "alpha") == named
