"""Alertmanager API v2 and seed 002's alert APIs, end to end to a loopback webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.gotext.times import format_rfc3339_nano
from tenantwatch.runtime.root import Runtime, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.receivers import Receiver, running_receiver


def am_config(url: str) -> dict[str, object]:
    return {
        "route": {
            "receiver": "hook",
            "group_by": ["alertname"],
            "group_wait": "500ms",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "hook", "webhook_configs": [{"url": url}]}],
    }


@dataclass
class Setup:
    rt: Runtime
    client: httpx.AsyncClient
    hook: Receiver
    admin: dict[str, str]

    async def key(self, *scopes: Scope, tenant: str | None = None) -> dict[str, str]:
        issued = await self.rt.api_keys.issue(
            SYSTEM, name="t", scopes=list(scopes), tenant_id=tenant
        )
        return {"Authorization": f"Bearer {issued.secret}"}


@pytest.fixture
async def setup(settings: Settings) -> AsyncIterator[Setup]:
    async with running_receiver() as hook:
        config = Config.model_validate(
            {
                "alertmanager": {
                    "config": am_config(hook.url + "/hook"),
                    "allow_private_targets": ["127.0.0.1/32"],
                },
            }
        )
        rt = build_runtime(settings, config)
        await prepare(rt)
        for tid in ("alpha", "bravo"):
            await rt.tenants.create(SYSTEM, TenantInput(id=tid, name=tid, tier="basic"))
        await rt.start_alerting()
        app = create_app(settings, runtime=rt)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tw.test") as client:
            issued = await rt.api_keys.issue(SYSTEM, name="a", scopes=[Scope.ADMIN])
            yield Setup(rt, client, hook, {"Authorization": f"Bearer {issued.secret}"})
        await rt.stop()


def alert(name: str, **labels: str) -> dict[str, object]:
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} happened"},
        "generatorURL": "http://prom/graph",
    }


async def test_posted_alerts_reach_the_webhook_in_alertmanagers_shape(setup: Setup) -> None:
    s = setup
    answer = await s.client.post(
        "/api/v2/alerts",
        json=[alert("Down", instance="a", tenant="alpha"), alert("Down", instance="b")],
        headers=s.admin,
    )
    assert answer.status_code == 200, answer.text
    await s.hook.wait_for(1)
    (body,) = s.hook.json_bodies()
    assert body["receiver"] == "hook" and body["status"] == "firing"
    assert body["groupKey"] == '{}:{alertname="Down"}'
    assert body["groupLabels"] == {"alertname": "Down"}
    assert body["commonLabels"] == {"alertname": "Down"}
    assert body["commonAnnotations"] == {"summary": "Down happened"}
    assert body["version"] == "4" and body["truncatedAlerts"] == 0
    assert [a["labels"]["instance"] for a in body["alerts"]] == ["a", "b"]
    assert all(a["endsAt"] == "0001-01-01T00:00:00Z" for a in body["alerts"])
    listed = (await s.client.get("/api/v2/alerts", headers=s.admin)).json()
    assert sorted(a["labels"]["instance"] for a in listed) == ["a", "b"]
    assert listed[0]["receivers"] == [{"name": "hook"}]
    assert listed[0]["status"]["state"] == "active"
    groups = (await s.client.get("/api/v2/alerts/groups", headers=s.admin)).json()
    assert [(g["labels"], len(g["alerts"])) for g in groups] == [({"alertname": "Down"}, 2)]


async def test_resolving_sends_the_resolution_once(setup: Setup) -> None:
    s = setup
    await s.client.post("/api/v2/alerts", json=[alert("Gone")], headers=s.admin)
    await s.hook.wait_for(1)
    now = s.rt.alerting.now() if s.rt.alerting else 0.0
    resolved = {**alert("Gone"), "endsAt": format_rfc3339_nano(now)}
    await s.client.post("/api/v2/alerts", json=[resolved], headers=s.admin)
    await s.hook.wait_for(2)
    await asyncio.sleep(2.5)  # two more group intervals: nothing new to say
    bodies = s.hook.json_bodies()
    assert [b["status"] for b in bodies] == ["firing", "resolved"]
    assert bodies[1]["alerts"][0]["endsAt"] == format_rfc3339_nano(now)


async def test_silenced_alerts_are_not_sent_and_show_as_suppressed(setup: Setup) -> None:
    s = setup
    now = s.rt.alerting.now() if s.rt.alerting else 0.0
    silence = {
        "matchers": [{"name": "alertname", "value": "Quiet", "isRegex": False}],
        "startsAt": format_rfc3339_nano(now - 1),
        "endsAt": format_rfc3339_nano(now + 3600),
        "createdBy": "test",
        "comment": "maintenance",
    }
    created = await s.client.post("/api/v2/silences", json=silence, headers=s.admin)
    assert created.status_code == 200, created.text
    sid = created.json()["silenceID"]
    await s.client.post("/api/v2/alerts", json=[alert("Quiet"), alert("Loud")], headers=s.admin)
    await s.hook.wait_for(1)
    await asyncio.sleep(1.2)
    assert [b["groupLabels"]["alertname"] for b in s.hook.json_bodies()] == ["Loud"]
    listed = (await s.client.get("/api/v2/alerts", headers=s.admin)).json()
    quiet = next(a for a in listed if a["labels"]["alertname"] == "Quiet")
    assert quiet["status"] == {"state": "suppressed", "silencedBy": [sid], "inhibitedBy": []}
    got = (await s.client.get(f"/api/v2/silence/{sid}", headers=s.admin)).json()
    assert got["status"]["state"] == "active" and got["comment"] == "maintenance"
    assert (await s.client.delete(f"/api/v2/silence/{sid}", headers=s.admin)).status_code == 200
    got = (await s.client.get(f"/api/v2/silence/{sid}", headers=s.admin)).json()
    assert got["status"]["state"] == "expired"


async def test_bad_alerts_are_a_400_that_says_why(setup: Setup) -> None:
    s = setup
    bad_json = await s.client.post(
        "/api/v2/alerts", content=b"[{", headers={**s.admin, "Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400 and "JSON array" in bad_json.json()
    no_labels = await s.client.post("/api/v2/alerts", json=[{"labels": {}}], headers=s.admin)
    assert no_labels.status_code == 400
    assert "at least one label pair required" in no_labels.json()
    bad_time = await s.client.post(
        "/api/v2/alerts", json=[{**alert("X"), "startsAt": "yesterday"}], headers=s.admin
    )
    assert bad_time.status_code == 400 and "RFC 3339" in bad_time.json()


async def test_a_tenant_key_raises_and_sees_only_its_own_alerts(setup: Setup) -> None:
    s = setup
    alpha = await s.key(Scope.WRITE, tenant="alpha")
    bravo = await s.key(Scope.WRITE, tenant="bravo")
    await s.client.post("/api/v2/alerts", json=[alert("Mine", tenant="bravo")], headers=alpha)
    await s.client.post("/api/v2/alerts", json=[alert("Theirs")], headers=bravo)
    seen = (await s.client.get("/api/v2/alerts", headers=alpha)).json()
    assert [(a["labels"]["alertname"], a["labels"]["tenant"]) for a in seen] == [("Mine", "alpha")]
    theirs = (await s.client.get("/api/v1/monitoring/alerts", headers=bravo)).json()["alerts"]
    assert [a["alert_name"] for a in theirs] == ["Theirs"]
    mine_id = seen[0]["fingerprint"]
    ack = await s.client.post(
        f"/api/v1/monitoring/alerts/{mine_id}/acknowledge", json={}, headers=bravo
    )
    assert ack.status_code == 404


async def test_acknowledge_and_resolve_with_notes(setup: Setup) -> None:
    s = setup
    created = await s.client.post(
        "/api/v1/monitoring/alerts",
        json={
            "tenant_id": "alpha",
            "alert_name": "Custom Business Logic Alert",
            "severity": "warning",
            "description": "Custom alert triggered by business logic",
        },
        headers=s.admin,
    )
    assert created.status_code == 201, created.text
    alert_id = created.json()["alert_id"]
    assert created.json()["status"] == "active"
    acked = await s.client.post(
        f"/api/v1/monitoring/alerts/{alert_id}/acknowledge",
        json={"notes": "Investigating the issue"},
        headers=s.admin,
    )
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["ack_notes"] == "Investigating the issue"
    listed = await s.client.get(
        "/api/v1/monitoring/alerts?severity=warning&status=acknowledged&limit=50",
        headers=s.admin,
    )
    assert [a["alert_id"] for a in listed.json()["alerts"]] == [alert_id]
    done = await s.client.post(
        f"/api/v1/monitoring/alerts/{alert_id}/resolve",
        json={"resolution_notes": "Fixed by scaling up resources"},
        headers=s.admin,
    )
    assert done.json()["status"] == "resolved"
    assert done.json()["resolution_notes"] == "Fixed by scaling up resources"
    again = await s.client.post(
        f"/api/v1/monitoring/alerts/{alert_id}/resolve", json={}, headers=s.admin
    )
    assert again.status_code == 422
