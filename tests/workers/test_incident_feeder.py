"""The feeder follows tenantwatch's alert manager: alerts posted to /api/v2/alerts open an
incident, their end resolves it, and MTTA/MTTR series are written."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.incidents.model import Status
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.incidents import Filters
from tenantwatch.types import Sample
from tenantwatch.workers.incidents import IncidentFeeder
from tests.conftest import KeyMaker
from tests.support import bearer


async def test_alerts_posted_to_the_alert_manager_open_and_resolve_an_incident(
    runtime: Runtime, client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    assert runtime.incidents is not None
    await runtime.start_alerting()
    written: list[Sample] = []
    feeder = IncidentFeeder(runtime.incidents, runtime.alerting, sink=written.extend)
    key = bearer(await make_key(Scope.READ, Scope.WRITE))
    now = datetime.now(UTC)
    alerts = [
        {
            "labels": {"alertname": "ApiDown", "severity": "critical", "tenant": t},
            "annotations": {"summary": "the API is down"},
            "startsAt": now.isoformat(),
        }
        for t in ("alpha", "bravo")
    ]
    assert (await client.post("/api/v2/alerts", json=alerts, headers=key)).status_code == 200
    await feeder.tick()
    page = await runtime.incidents.list(SYSTEM, Filters(status="active"), cursor=None, limit=5)
    [inc] = page.items
    assert sorted(inc.tenant_ids) == ["alpha", "bravo"] and inc.status is Status.OPEN
    await feeder.tick()  # still firing: nothing changes
    assert (await runtime.incidents.get(SYSTEM, inc.id)).active
    ended = [{**a, "endsAt": now.isoformat()} for a in alerts]
    assert (await client.post("/api/v2/alerts", json=ended, headers=key)).status_code == 200
    await feeder.tick()
    done = await runtime.incidents.get(SYSTEM, inc.id)
    assert done.status is Status.RESOLVED
    names = {dict(labels)["__name__"] for labels, _, _ in written}
    assert "tenantwatch_incident_mttr_seconds" in names
