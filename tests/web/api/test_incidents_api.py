"""/api/v1/incidents and the Alertmanager webhook intake /webhooks/alerts."""

from __future__ import annotations

import httpx

from tenantwatch.domain.apikeys import Scope
from tenantwatch.runtime.root import Runtime
from tests.conftest import KeyMaker
from tests.support import bearer


def am_message(status: str, *tenants: str) -> dict[str, object]:
    """An Alertmanager webhook payload (version 4) for DatabaseDown in these tenants."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DatabaseDown"}',
        "status": status,
        "receiver": "tenantwatch",
        "groupLabels": {"alertname": "DatabaseDown"},
        "commonLabels": {"alertname": "DatabaseDown"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "DatabaseDown", "severity": "critical", "tenant": t},
                "annotations": {"summary": "the shared database is down"},
                "startsAt": "2026-12-07T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-07T10:20:00Z",
                "generatorURL": "http://prometheus.example/graph",
                "fingerprint": f"fp{t}",
            }
            for t in tenants
        ],
    }


async def test_an_external_alertmanager_opens_and_resolves_one_incident(
    runtime: Runtime, client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    key = bearer(await make_key(Scope.READ, Scope.WRITE))
    r = await client.post(
        "/webhooks/alerts", json=am_message("firing", "alpha", "bravo"), headers=key
    )
    assert r.status_code == 200, r.text
    [incident_id] = r.json()["incidents"]
    got = (await client.get(f"/api/v1/incidents/{incident_id}", headers=key)).json()
    assert got["severity"] == "P1" and got["status"] == "open"
    assert [t["tenant_id"] for t in got["tenants"]] == ["alpha", "bravo"]
    assert {t["tier"] for t in got["tenants"]} == {"enterprise", "basic"}
    assert {a["source"] for a in got["alerts"]} == {"webhook"}
    assert got["title"] == "the shared database is down"
    # the feeder follows tenantwatch's own alert manager: it leaves alone what an
    # external Alertmanager reported (that one says itself when its alerts resolve)
    assert runtime.incidents is not None
    await runtime.incidents.reconcile([])
    still = (await client.get(f"/api/v1/incidents/{incident_id}", headers=key)).json()
    assert still["status"] == "open"
    r = await client.post(
        "/webhooks/alerts", json=am_message("resolved", "alpha", "bravo"), headers=key
    )
    assert r.json()["incidents"] == [incident_id]
    done = (await client.get(f"/api/v1/incidents/{incident_id}", headers=key)).json()
    assert done["status"] == "resolved" and done["time_to_resolve_seconds"] is not None


async def test_people_drive_an_incident_through_the_api(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    key = bearer(await make_key(Scope.READ, Scope.WRITE))
    r = await client.post(
        "/api/v1/incidents",
        json={"title": "Checkout failing", "severity": "P2", "tenants": ["alpha"]},
        headers=key,
    )
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["id"].startswith("INC-") and inc["status"] == "open"
    base = f"/api/v1/incidents/{inc['id']}"
    assert (await client.post(f"{base}/acknowledge", headers=key)).json()["acknowledged_at"]
    r = await client.post(
        f"{base}/assignments", json={"role": "incident_commander", "user": "alice"}, headers=key
    )
    assert r.json()["roles"] == {"incident_commander": "alice"}
    await client.post(f"{base}/notes", json={"text": "rolled back", "pinned": True}, headers=key)
    r = await client.post(f"{base}/transitions", json={"status": "monitoring"}, headers=key)
    assert r.json()["mitigated_at"] is not None
    r = await client.post(f"{base}/resolve", json={"text": "fixed"}, headers=key)
    assert r.json()["status"] == "resolved"
    r = await client.post(f"{base}/transitions", json={"status": "identified"}, headers=key)
    assert r.status_code == 422 and "reopen it" in r.text
    entries = (await client.get(f"{base}/timeline", headers=key)).json()["entries"]
    assert [e["kind"] for e in entries] == [
        "created",
        "acknowledged",
        "assigned",
        "note",
        "status",
        "status",
    ]
    assert entries[3]["pinned"] is True
    listed = (await client.get("/api/v1/incidents?status=resolved&severity=P2", headers=key)).json()
    assert [i["id"] for i in listed["items"]] == [inc["id"]]


async def test_incidents_of_another_tenant_answer_404(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    admin = bearer(await make_key(Scope.READ, Scope.WRITE))
    bravo = bearer(await make_key(Scope.READ, Scope.WRITE, tenant="bravo"))
    r = await client.post(
        "/api/v1/incidents",
        json={"title": "x", "severity": "P3", "tenants": ["alpha"]},
        headers=admin,
    )
    inc = r.json()["id"]
    assert (await client.get(f"/api/v1/incidents/{inc}", headers=bravo)).status_code == 404
    assert (
        await client.post(f"/api/v1/incidents/{inc}/acknowledge", headers=bravo)
    ).status_code == 404
    assert (await client.get("/api/v1/incidents", headers=bravo)).json()["items"] == []
    r = await client.post(
        "/api/v1/incidents",
        json={"title": "y", "severity": "P3", "tenants": ["alpha"]},
        headers=bravo,
    )
    assert r.status_code == 422
    # bravo's key stamps bravo on what its Alertmanager sends
    r = await client.post("/webhooks/alerts", json=am_message("firing", "alpha"), headers=bravo)
    [mine] = r.json()["incidents"]
    got = (await client.get(f"/api/v1/incidents/{mine}", headers=bravo)).json()
    assert [t["tenant_id"] for t in got["tenants"]] == ["bravo"]


async def test_bad_input_is_a_clear_4xx(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    key = bearer(await make_key(Scope.READ, Scope.WRITE))
    r = await client.post("/webhooks/alerts", content=b"{not json", headers=key)
    assert r.status_code == 422
    r = await client.post(
        "/webhooks/alerts", json={"alerts": [{"status": "burning", "labels": {}}]}, headers=key
    )
    assert r.status_code == 422
    assert (await client.get("/api/v1/incidents/INC-1", headers=key)).status_code == 422
    assert (await client.get("/api/v1/incidents/INC-20261207-9999", headers=key)).status_code == 404
    r = await client.post("/api/v1/incidents", json={"title": "t", "severity": "P9"}, headers=key)
    assert r.status_code == 422


async def test_a_tenants_status_shows_its_incidents_and_their_updates(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    admin = bearer(await make_key(Scope.READ, Scope.WRITE))
    bravo = bearer(await make_key(Scope.READ, tenant="bravo"))
    assert (await client.get("/api/v1/tenants/bravo/status", headers=bravo)).json() == {
        "tenant_id": "bravo",
        "status": "operational",
        "incidents": [],
    }
    r = await client.post(
        "/api/v1/incidents",
        json={"title": "Logins fail", "severity": "P2", "tenants": ["alpha", "bravo"]},
        headers=admin,
    )
    inc = r.json()["id"]
    await client.post(
        f"/api/v1/incidents/{inc}/updates", json={"text": "We are investigating."}, headers=admin
    )
    await client.post(
        f"/api/v1/incidents/{inc}/notes", json={"text": "internal: pool exhausted"}, headers=admin
    )
    await client.post(
        f"/api/v1/incidents/{inc}/updates", json={"text": "A fix is rolling out."}, headers=admin
    )
    status = (await client.get("/api/v1/tenants/bravo/status", headers=bravo)).json()
    assert status["status"] == "partial_outage"
    [shown] = status["incidents"]
    assert [u["text"] for u in shown["updates"]] == [
        "A fix is rolling out.",
        "We are investigating.",
    ]
    assert (await client.get("/api/v1/tenants/alpha/status", headers=bravo)).status_code == 404
    await client.post(f"/api/v1/incidents/{inc}/resolve", headers=admin)
    assert (await client.get("/api/v1/tenants/bravo/status", headers=bravo)).json()[
        "status"
    ] == "operational"


async def test_the_postmortem_holds_the_real_timeline_and_stays_once_edited(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    import io

    from pypdf import PdfReader

    key = bearer(await make_key(Scope.READ, Scope.WRITE))
    r = await client.post(
        "/webhooks/alerts", json=am_message("firing", "alpha", "bravo"), headers=key
    )
    [inc] = r.json()["incidents"]
    base = f"/api/v1/incidents/{inc}"
    await client.post(f"{base}/acknowledge", headers=key)
    await client.post(
        f"{base}/notes", json={"text": "failed over to the replica", "pinned": True}, headers=key
    )
    await client.post(
        "/webhooks/alerts", json=am_message("resolved", "alpha", "bravo"), headers=key
    )
    md = (await client.get(f"{base}/postmortem?format=md", headers=key)).text
    assert inc in md and "failed over to the replica" in md
    entries = (await client.get(f"{base}/timeline", headers=key)).json()["entries"]
    for e in entries:  # every timeline entry is in the review, in order
        assert e["text"].split(":")[0][:40] in md
    positions = [md.index(e["text"].split(":")[0][:40]) for e in entries]
    assert positions == sorted(positions)
    assert "alpha" in md and "bravo" in md and "enterprise" in md
    pdf = await client.get(f"{base}/postmortem?format=pdf", headers=key)
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert inc in text
    edited = md + "\n## Root cause\n\nA full disk on the primary.\n"
    r = await client.put(f"{base}/postmortem", json={"markdown": edited}, headers=key)
    assert r.json()["edited"] is True
    again = (await client.get(f"{base}/postmortem", headers=key)).json()
    assert again == {"incident_id": inc, "markdown": edited, "edited": True}
