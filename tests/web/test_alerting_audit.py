"""Every change people make to alerting is in the audit log, with who and the request id:
silences (create, update, expire), acknowledgements, resolutions, custom alerts and rule
groups. The dashboard's active alerts are the alert manager's firing alerts."""

from __future__ import annotations

from typing import Any

import httpx

from tenantwatch.domain.apikeys import Scope
from tests.web.test_alertmanager_api import Setup, alert, setup

__all__ = ["setup"]


async def _audit(s: Setup, **query: str) -> list[dict[str, Any]]:
    answer = await s.client.get("/api/v1/audit", params={"limit": 100, **query}, headers=s.admin)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _silence(comment: str, ends: str = "2099-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "matchers": [{"name": "alertname", "value": "Noisy", "isRegex": False, "isEqual": True}],
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": ends,
        "createdBy": "ops",
        "comment": comment,
    }


async def test_silences_are_audited_from_creation_to_expiry(setup: Setup) -> None:
    s = setup
    made = await s.client.post(
        "/api/v2/silences", json=_silence("deploy"), headers={**s.admin, "X-Request-ID": "r-1"}
    )
    assert made.status_code == 200, made.text
    silence_id = made.json()["silenceID"]
    changed = await s.client.post(
        "/api/v2/silences", json={**_silence("longer deploy"), "id": silence_id}, headers=s.admin
    )
    assert changed.status_code == 200, changed.text
    expired = await s.client.delete(
        f"/api/v2/silence/{changed.json()['silenceID']}", headers=s.admin
    )
    assert expired.status_code == 200
    entries = await _audit(s, object_type="silence")
    actions = [e["action"] for e in reversed(entries)]
    assert actions == ["silence.create", "silence.update", "silence.expire"]
    first = entries[-1]
    assert first["request_id"] == "r-1" and first["actor"].startswith("apikey:")
    assert first["after"]["comment"] == "deploy" and first["before"] is None
    assert entries[-2]["before"]["comment"] == "deploy"
    assert entries[-2]["after"]["comment"] == "longer deploy"


async def test_acknowledgements_resolutions_and_custom_alerts_are_audited(setup: Setup) -> None:
    s = setup
    created = await s.client.post(
        "/api/v1/monitoring/alerts",
        json={"tenant_id": "alpha", "alert_name": "Quota", "description": "over quota"},
        headers=s.admin,
    )
    alert_id = created.json()["alert_id"]
    await s.client.post(
        f"/api/v1/monitoring/alerts/{alert_id}/acknowledge",
        json={"notes": "looking"},
        headers=s.admin,
    )
    await s.client.post(
        f"/api/v1/monitoring/alerts/{alert_id}/resolve",
        json={"resolution_notes": "raised the quota"},
        headers=s.admin,
    )
    entries = list(reversed(await _audit(s, object_type="alert", object_id=alert_id)))
    assert [e["action"] for e in entries] == ["alert.create", "alert.acknowledge", "alert.resolve"]
    assert {e["tenant_id"] for e in entries} == {"alpha"}
    assert entries[1]["before"]["status"] == "active"
    assert entries[1]["after"]["status"] == "acknowledged"
    assert entries[1]["after"]["ack_notes"] == "looking"
    assert entries[2]["after"]["status"] == "resolved"
    assert entries[2]["after"]["resolution_notes"] == "raised the quota"


async def test_rule_groups_are_audited_and_a_tenant_sees_only_its_own(setup: Setup) -> None:
    s = setup
    alpha = await s.key(Scope.ADMIN, tenant="alpha")
    group = {"name": "mine", "rules": [{"alert": "Up", "expr": "up == 0"}]}
    made = await s.client.post(
        "/api/v1/rule-groups", json={"tenant_id": "alpha", "group": group}, headers=alpha
    )
    assert made.status_code == 201, made.text
    group_id = made.json()["id"]
    threshold = await s.client.post(
        "/api/v1/monitoring/alert-rules",
        json={
            "tenant_id": "bravo",
            "metric": "availability_percentage",
            "condition": "less_than",
            "threshold": 99,
        },
        headers=s.admin,
    )
    assert threshold.status_code == 201, threshold.text
    deleted = await s.client.delete(f"/api/v1/rule-groups/{group_id}", headers=alpha)
    assert deleted.status_code == 204
    everything = await _audit(s, object_type="rule_group")
    assert sorted(e["action"] for e in everything) == [
        "rule_group.create",
        "rule_group.create",
        "rule_group.delete",
    ]
    mine = await s.client.get("/api/v1/audit?object_type=rule_group", headers=alpha)
    assert {e["tenant_id"] for e in mine.json()["items"]} == {"alpha"}


async def test_the_dashboards_active_alerts_are_the_firing_alerts(setup: Setup) -> None:
    s = setup
    posted = await s.client.post(
        "/api/v2/alerts",
        json=[
            alert("DiskFull", tenant="alpha", severity="critical"),
            alert("SlowQueries", tenant="bravo", severity="warning"),
        ],
        headers=s.admin,
    )
    assert posted.status_code == 200
    dash = (await s.client.get("/api/v1/monitoring/dashboard/health", headers=s.admin)).json()
    assert dash["platform_health"]["active_alerts"] == 2
    names = [(a["alert_name"], a["severity"], a["status"]) for a in dash["active_alerts"]]
    assert names == [("DiskFull", "critical", "active"), ("SlowQueries", "warning", "active")]
    alpha = await s.key(Scope.READ, tenant="alpha")
    mine = (await s.client.get("/api/v1/monitoring/dashboard/health", headers=alpha)).json()
    assert [a["alert_name"] for a in mine["active_alerts"]] == ["DiskFull"]
    listed = await s.client.get("/api/v1/monitoring/alerts?status=active", headers=s.admin)
    assert {a["alert_id"] for a in listed.json()["alerts"]} == {
        a["alert_id"] for a in dash["active_alerts"]
    }


async def test_an_unauthenticated_client_cannot_read_the_audit(setup: Setup) -> None:
    answer = await setup.client.get("/api/v1/audit")
    assert answer.status_code == 401
    assert isinstance(setup.client, httpx.AsyncClient)
