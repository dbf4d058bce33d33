"""/api/v1/notifications: the delivery log (filters, pages, tenant isolation, no secrets) and
putting a dead notification back in the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.domain.apikeys import Scope
from tenantwatch.domain.outbox_order import order_key
from tenantwatch.runtime.root import Runtime
from tenantwatch.web.api.v1 import notifications
from tenantwatch.web.app import create_app
from tests.conftest import KeyMaker
from tests.support import bearer

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
SECRET = "xoxb-very-secret"


def row(key: str, **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "tenant_id": "alpha",
        "idempotency_key": key,
        "receiver": "team",
        "integration": "webhook/0",
        "kind": "webhook",
        "target": "https://hooks.example/<redacted>",
        "group_key": '{}:{alertname="Down"}',
        "fingerprints": None,
        "alert_status": "firing",
        "request": {
            "url": f"https://hooks.example/{SECRET}",
            "headers": [["Authorization", f"Bearer {SECRET}"]],
        },
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": T0 + 30,
        "created_at": T0,
        "last_attempt_at": None,
        "sent_at": None,
        "last_status_code": None,
        "last_error": None,
        "latency_ms": None,
    }
    return {**values, **over}


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime.settings, runtime=runtime)
    if not any(getattr(r, "path", "") == "/api/v1/notifications" for r in app.routes):
        app.include_router(notifications.router, prefix="/api/v1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tw.test") as c:
        yield c


@pytest.fixture
async def ids(runtime: Runtime, two_tenants: Any) -> dict[str, int]:
    repo = SqlNotificationRepo(runtime.engine)
    await repo.enqueue_many(
        [
            row(
                "sent",
                status="sent",
                attempts=2,
                last_attempt_at=T0 + 5,
                sent_at=T0 + 5,
                last_status_code=200,
                latency_ms=12.34567,
                fingerprints=["1d4f2f7a8e0c9b35", "8a0b8c4d2e1f3a57"],
            ),
            row("slack", kind="slack", receiver="chat", integration="slack/0"),
            row(
                "dead",
                status="dead",
                attempts=8,
                last_status_code=500,
                last_error="gave up after 8 attempts; last: HTTP 500",
            ),
            row("bravo", tenant_id="bravo"),
            row("platform", tenant_id=None),
        ]
    )
    return {r.idempotency_key: r.id for r in await repo.list(before_id=None, limit=10)}


async def test_the_log_shows_delivery_state_and_never_the_request(
    api: httpx.AsyncClient, make_key: KeyMaker, ids: dict[str, int]
) -> None:
    admin = bearer(await make_key(Scope.ADMIN))
    answer = await api.get(f"/api/v1/notifications/{ids['sent']}", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "id": ids["sent"],
        "tenant_id": "alpha",
        "receiver": "team",
        "integration": "webhook/0",
        "kind": "webhook",
        "target": "https://hooks.example/<redacted>",
        "group_key": '{}:{alertname="Down"}',
        "fingerprints": ["1d4f2f7a8e0c9b35", "8a0b8c4d2e1f3a57"],
        "alert_status": "firing",
        "status": "sent",
        "superseded_by": None,
        "attempts": 2,
        "created_at": "2026-01-01T00:00:00Z",
        "last_attempt_at": "2026-01-01T00:00:05Z",
        "sent_at": "2026-01-01T00:00:05Z",
        "next_attempt_at": None,
        "last_status_code": 200,
        "last_error": None,
        "latency_ms": 12.346,
    }
    everything = await api.get("/api/v1/notifications?limit=100", headers=admin)
    assert SECRET not in everything.text and '"request"' not in everything.text
    pending = (await api.get(f"/api/v1/notifications/{ids['slack']}", headers=admin)).json()
    assert pending["next_attempt_at"] == "2026-01-01T00:00:30Z"
    assert pending["fingerprints"] is None  # enqueued without them: unknown, not "none"


async def test_the_log_filters_and_pages_newest_first(
    api: httpx.AsyncClient, make_key: KeyMaker, ids: dict[str, int]
) -> None:
    admin = bearer(await make_key(Scope.READ))

    async def keys(query: str) -> list[str]:
        answer = await api.get(f"/api/v1/notifications?{query}", headers=admin)
        assert answer.status_code == 200, answer.text
        by_id = {v: k for k, v in ids.items()}
        return [by_id[item["id"]] for item in answer.json()["items"]]

    assert await keys("") == ["platform", "bravo", "dead", "slack", "sent"]
    assert await keys("status=dead") == ["dead"]
    assert await keys("receiver=chat") == ["slack"]
    assert await keys("kind=slack") == ["slack"]
    assert await keys("tenant=bravo") == ["bravo"]
    assert await keys("failing=true") == ["dead"]
    first = (await api.get("/api/v1/notifications?limit=2", headers=admin)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = await keys(f"limit=2&cursor={first['next_cursor']}")
    assert second == ["dead", "slack"]
    counts = await api.get("/api/v1/notifications/counts", headers=admin)
    assert counts.json() == {"pending": 3, "sending": 0, "sent": 1, "dead": 1, "superseded": 0}


async def test_a_tenant_key_sees_only_its_tenant(
    api: httpx.AsyncClient, make_key: KeyMaker, ids: dict[str, int]
) -> None:
    bravo = bearer(await make_key(Scope.ADMIN, tenant="bravo"))
    items = (await api.get("/api/v1/notifications", headers=bravo)).json()["items"]
    assert [i["id"] for i in items] == [ids["bravo"]]
    for key in ("sent", "platform"):
        answer = await api.get(f"/api/v1/notifications/{ids[key]}", headers=bravo)
        assert answer.status_code == 404, key
    assert (await api.get("/api/v1/notifications?tenant=alpha", headers=bravo)).status_code == 404
    retry = await api.post(f"/api/v1/notifications/{ids['dead']}/retry", headers=bravo)
    assert retry.status_code == 404
    counts = (await api.get("/api/v1/notifications/counts", headers=bravo)).json()
    assert counts == {"pending": 1, "sending": 0, "sent": 0, "dead": 0, "superseded": 0}


async def test_an_admin_puts_a_dead_notification_back_in_the_queue(
    api: httpx.AsyncClient, make_key: KeyMaker, ids: dict[str, int]
) -> None:
    admin = bearer(await make_key(Scope.ADMIN))
    writer = bearer(await make_key(Scope.WRITE))
    url = f"/api/v1/notifications/{ids['dead']}/retry"
    assert (await api.post(url, headers=writer)).status_code == 403
    answer = await api.post(url, headers=admin)
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert (out["status"], out["attempts"]) == ("pending", 0)
    assert out["next_attempt_at"] is not None
    again = await api.post(url, headers=admin)
    assert again.status_code == 409 and "only dead notifications" in again.json()["detail"]
    sent = await api.post(f"/api/v1/notifications/{ids['sent']}/retry", headers=admin)
    assert sent.status_code == 409 and "is sent, not dead" in sent.json()["detail"]
    assert (await api.post("/api/v1/notifications/999999/retry", headers=admin)).status_code == 404


async def test_a_superseded_notification_is_listed_with_the_newer_one(
    runtime: Runtime, api: httpx.AsyncClient, make_key: KeyMaker, two_tenants: Any
) -> None:
    repo = SqlNotificationRepo(runtime.engine)
    key = order_key("team", "webhook/0", '{}:{alertname="Down"}')
    await repo.enqueue_many([row("firing", attempts=1, order_key=key, role="state")])
    resolved = row("resolved", alert_status="resolved", order_key=key, role="state")
    await repo.enqueue_many([resolved])
    admin = bearer(await make_key(Scope.ADMIN))
    listed = await api.get("/api/v1/notifications?status=superseded", headers=admin)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    newer = (await api.get("/api/v1/notifications?status=pending", headers=admin)).json()
    assert (item["alert_status"], item["next_attempt_at"]) == ("firing", None)
    assert item["superseded_by"] == newer["items"][0]["id"]
    assert newer["items"][0]["superseded_by"] is None
    counts = (await api.get("/api/v1/notifications/counts", headers=admin)).json()
    assert (counts["superseded"], counts["pending"]) == (1, 1)
    failing = await api.get("/api/v1/notifications?failing=true", headers=admin)
    assert failing.json()["items"] == []  # replaced, not failing


async def test_a_dead_state_that_a_newer_one_replaced_is_not_retried(
    runtime: Runtime, api: httpx.AsyncClient, make_key: KeyMaker, two_tenants: Any
) -> None:
    repo = SqlNotificationRepo(runtime.engine)
    key = order_key("team", "webhook/0", '{}:{alertname="Down"}')
    dead = row("firing", status="dead", attempts=9, last_error="gave up", order_key=key)
    sent = row("resolved", alert_status="resolved", status="sent", sent_at=T0, order_key=key)
    await repo.enqueue_many([{**dead, "role": "state"}])
    await repo.enqueue_many([{**sent, "role": "state"}])
    ids = {r.idempotency_key: r.id for r in await repo.list(before_id=None, limit=10)}
    admin = bearer(await make_key(Scope.ADMIN))
    answer = await api.post(f"/api/v1/notifications/{ids['firing']}/retry", headers=admin)
    assert answer.status_code == 409
    assert f"replaced by the newer notification {ids['resolved']}" in answer.json()["detail"]
    assert (await repo.get(ids["firing"])).status == "dead"  # type: ignore[union-attr]


async def test_putting_a_notification_back_is_audited_once(
    api: httpx.AsyncClient, make_key: KeyMaker, ids: dict[str, int]
) -> None:
    admin = bearer(await make_key(Scope.ADMIN))
    url = f"/api/v1/notifications/{ids['dead']}/retry"
    answer = await api.post(url, headers={**admin, "X-Request-Id": "retry-1"})
    assert answer.status_code == 200, answer.text
    assert (await api.post(url, headers=admin)).status_code == 409  # not audited: no change
    audit = await api.get("/api/v1/audit?object_type=notification", headers=admin)
    [entry] = audit.json()["items"]
    assert entry["action"] == "notification.retry"
    assert entry["object_id"] == str(ids["dead"])
    assert entry["tenant_id"] == "alpha"
    assert entry["actor"].startswith("apikey:")
    assert entry["request_id"] == "retry-1"
    before, after = entry["before"], entry["after"]
    assert (before["status"], before["attempts"]) == ("dead", 8)
    assert before["last_error"] == "gave up after 8 attempts; last: HTTP 500"
    assert (after["status"], after["attempts"]) == ("pending", 0)
    assert SECRET not in audit.text
    bravo = bearer(await make_key(Scope.ADMIN, tenant="bravo"))
    theirs = await api.get("/api/v1/audit?object_type=notification", headers=bravo)
    assert theirs.json()["items"] == []  # alpha's retry is not bravo's history


@pytest.mark.parametrize(
    "query",
    ["status=lost", "cursor=nonsense", "limit=0", "kind=Web%20Hook", "tenant=Not_A_Tenant"],
)
async def test_bad_queries_are_422(
    api: httpx.AsyncClient, make_key: KeyMaker, ids: dict[str, int], query: str
) -> None:
    admin = bearer(await make_key(Scope.READ))
    answer = await api.get(f"/api/v1/notifications?{query}", headers=admin)
    assert answer.status_code == 422, answer.text


async def test_the_log_needs_a_key(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/v1/notifications")).status_code == 401
