"""/api/v1/rule-groups: validated like promtool, tenant-scoped, evaluated by the manager."""

from __future__ import annotations

import httpx

from tenantwatch.domain.apikeys import Scope
from tenantwatch.runtime.root import Runtime
from tests.conftest import KeyMaker
from tests.support import bearer

GROUP = {
    "name": "Checkout latency",
    "interval": "30s",
    "rules": [
        {
            "alert": "CheckoutSlow",
            "expr": "checkout_seconds > 1",
            "for": "5m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": "{{ $value }}"},
        },
        {"record": "tenant:checkout_seconds:max", "expr": "max(checkout_seconds)"},
    ],
}


async def test_a_tenant_creates_reads_and_deletes_its_group(
    runtime: Runtime,
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    two_tenants: tuple[str, str],
) -> None:
    alpha = bearer(await make_key(Scope.WRITE, tenant="alpha"))
    bravo = bearer(await make_key(Scope.WRITE, tenant="bravo"))
    created = await client.post("/api/v1/rule-groups", json={"group": GROUP}, headers=alpha)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["tenant_id"] == "alpha" and body["interval_seconds"] == 30
    assert [r["type"] for r in body["rules"]] == ["alerting", "recording"]
    assert body["rules"][0]["for_seconds"] == 300
    gid = body["id"]
    assert runtime.rules is not None
    managed = [s.managed for s in runtime.rules.status.values() if s.managed.tenant == "alpha"]
    assert [m.group.name for m in managed] == ["Checkout latency"]
    assert (await client.get(f"/api/v1/rule-groups/{gid}", headers=bravo)).status_code == 404
    listed = (await client.get("/api/v1/rule-groups", headers=bravo)).json()
    assert listed["items"] == []
    assert (await client.delete(f"/api/v1/rule-groups/{gid}", headers=bravo)).status_code == 404
    assert (await client.delete(f"/api/v1/rule-groups/{gid}", headers=alpha)).status_code == 204
    assert not [s for s in runtime.rules.status.values() if s.managed.tenant == "alpha"]


async def test_a_bad_group_is_a_422_that_says_what_is_wrong(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    alpha = bearer(await make_key(Scope.WRITE, tenant="alpha"))
    bad = {"name": "x", "rules": [{"alert": "A", "expr": "rate(x[5m]"}]}
    answer = await client.post("/api/v1/rule-groups", json={"group": bad}, headers=alpha)
    assert answer.status_code == 422
    assert "unclosed left parenthesis" in answer.json()["detail"][0]["msg"]


async def test_a_shared_group_needs_an_admin_key(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    writer = bearer(await make_key(Scope.WRITE))
    answer = await client.post("/api/v1/rule-groups", json={"group": GROUP}, headers=writer)
    assert answer.status_code == 403
    admin = bearer(await make_key(Scope.ADMIN))
    answer = await client.post("/api/v1/rule-groups", json={"group": GROUP}, headers=admin)
    assert answer.status_code == 201 and answer.json()["tenant_id"] is None
