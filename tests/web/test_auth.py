"""Every protected route: 401 without a valid key, 403 without the scope, 404 across tenants."""

from __future__ import annotations

import httpx
import pytest

from tenantwatch.domain.apikeys import Scope
from tests.conftest import KeyMaker
from tests.support import bearer


async def test_no_key_is_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/tenants")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in r.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer tw_not-a-key", "Basic dXNlcjpwYXNz", "Bearer", "tw_plain", "Bearer " + "x" * 300],
)
async def test_a_wrong_key_is_401(client: httpx.AsyncClient, header: str) -> None:
    r = await client.get("/api/v1/tenants", headers={"Authorization": header})
    assert r.status_code == 401


async def test_a_revoked_key_is_401(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    admin = await make_key(Scope.ADMIN)
    reader = await make_key(Scope.READ)
    assert (await client.get("/api/v1/tenants", headers=bearer(reader))).status_code == 200
    keys = (await client.get("/api/v1/apikeys", headers=bearer(admin))).json()["items"]
    reader_id = next(k["id"] for k in keys if reader.startswith(k["prefix"]))
    r = await client.delete(f"/api/v1/apikeys/{reader_id}", headers=bearer(admin))
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert (await client.get("/api/v1/tenants", headers=bearer(reader))).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/tenants", {"id": "new", "name": "New", "tier": "basic"}),
        ("PATCH", "/api/v1/tenants/alpha", {"name": "x"}),
        ("DELETE", "/api/v1/tenants/alpha", None),
        ("GET", "/api/v1/apikeys", None),
        ("POST", "/api/v1/apikeys", {"name": "x", "scopes": ["monitoring:read"]}),
        ("GET", "/api/v1/audit", None),
    ],
)
async def test_admin_routes_are_403_for_read_and_write_keys(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    two_tenants: tuple[str, str],
    method: str,
    path: str,
    body: object,
) -> None:
    for scope in (Scope.READ, Scope.WRITE):
        key = await make_key(scope)
        r = await client.request(method, path, json=body, headers=bearer(key))
        assert r.status_code == 403, (scope, r.text)
        assert "admin" in r.json()["detail"]
    r = await client.get("/api/v1/tenants/alpha", headers=bearer(await make_key(Scope.ADMIN)))
    assert r.json()["name"] == "Alpha"  # nothing was changed by the refused calls


async def test_a_tenant_bound_key_sees_only_its_tenant(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    alpha, bravo = two_tenants
    key = await make_key(Scope.READ, tenant=alpha)
    r = await client.get("/api/v1/tenants", headers=bearer(key))
    assert [t["id"] for t in r.json()["items"]] == [alpha]
    assert (await client.get(f"/api/v1/tenants/{alpha}", headers=bearer(key))).status_code == 200
    r = await client.get(f"/api/v1/tenants/{bravo}", headers=bearer(key))
    assert r.status_code == 404
    missing = await client.get("/api/v1/tenants/does-not-exist", headers=bearer(key))
    assert r.json() == {"detail": f"tenant {bravo!r} not found"}
    assert missing.status_code == 404  # another tenant looks exactly like a missing one


async def test_a_tenant_bound_admin_key_cannot_reach_another_tenant(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    alpha, bravo = two_tenants
    root = await make_key(Scope.ADMIN)
    key = await make_key(Scope.ADMIN, tenant=alpha)
    other_key = await make_key(Scope.READ, tenant=bravo)
    h = bearer(key)
    assert (
        await client.patch(f"/api/v1/tenants/{bravo}", json={"name": "x"}, headers=h)
    ).status_code == 404
    assert (await client.delete(f"/api/v1/tenants/{bravo}", headers=h)).status_code == 404
    r = await client.post(
        "/api/v1/apikeys", json={"name": "x", "scopes": ["admin"], "tenant_id": bravo}, headers=h
    )
    assert r.status_code == 404
    listed = (await client.get("/api/v1/apikeys", headers=h)).json()["items"]
    assert {k["tenant_id"] for k in listed} == {alpha}
    other_id = next(
        k["id"]
        for k in (await client.get("/api/v1/apikeys", headers=bearer(root))).json()["items"]
        if k["tenant_id"] == bravo
    )
    assert (await client.get(f"/api/v1/apikeys/{other_id}", headers=h)).status_code == 404
    assert (await client.delete(f"/api/v1/apikeys/{other_id}", headers=h)).status_code == 404
    assert (await client.get("/api/v1/tenants", headers=bearer(other_key))).status_code == 200
    audit = (await client.get("/api/v1/audit?limit=1000", headers=h)).json()["items"]
    assert audit and {e["tenant_id"] for e in audit} == {alpha}
    r = await client.post(
        "/api/v1/tenants", json={"id": "n", "name": "N", "tier": "basic"}, headers=h
    )
    assert r.status_code == 403


async def test_keys_created_through_the_api_show_their_secret_once(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    root = bearer(await make_key(Scope.ADMIN))
    r = await client.post(
        "/api/v1/apikeys",
        json={"name": "grafana", "scopes": ["monitoring:read"], "tenant_id": two_tenants[0]},
        headers=root,
    )
    assert r.status_code == 201
    created = r.json()
    secret = created["key"]
    assert secret.startswith(created["prefix"])
    got = (await client.get(f"/api/v1/apikeys/{created['id']}", headers=root)).json()
    assert "key" not in got and secret not in r.text.replace(secret, "", 1)
    listing = await client.get("/api/v1/apikeys", headers=root)
    audit = await client.get("/api/v1/audit", headers=root)
    assert secret not in listing.text and secret not in audit.text
    mine = await client.get("/api/v1/tenants", headers=bearer(secret))
    assert [t["id"] for t in mine.json()["items"]] == [two_tenants[0]]


async def test_a_tenant_bound_admin_key_cannot_raise_its_own_tier(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    alpha, _ = two_tenants
    h = bearer(await make_key(Scope.ADMIN, tenant=alpha))
    r = await client.patch(f"/api/v1/tenants/{alpha}", json={"tier": "enterprise"}, headers=h)
    assert r.status_code == 403 and "not bound to a tenant" in r.json()["detail"]
    r = await client.patch(f"/api/v1/tenants/{alpha}", json={"name": "Alpha AG"}, headers=h)
    assert r.status_code == 200 and r.json()["name"] == "Alpha AG"
