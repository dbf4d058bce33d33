from __future__ import annotations

import httpx
import pytest

from tenantwatch.domain.apikeys import Scope
from tests.conftest import KeyMaker
from tests.support import bearer


@pytest.fixture
async def admin(make_key: KeyMaker) -> dict[str, str]:
    return bearer(await make_key(Scope.ADMIN))


async def test_create_read_update_delete_a_tenant(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {
        "id": "acme",
        "name": "Acme",
        "tier": "professional",
        "timezone": "Europe/Berlin",
        "labels": {"region": "eu"},
        "sla_overrides": {"response_time_ms": 600},
    }
    r = await client.post("/api/v1/tenants", json=body, headers=admin)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["sla"] == {
        "availability_percentage": "99.5",
        "response_time_ms": 600,
        "error_rate_percentage": "1.5",
        "recovery_time_minutes": 15,
    }
    assert created["managed_by"] == "api" and created["status"] == "active"

    r = await client.patch("/api/v1/tenants/acme", json={"tier": "enterprise"}, headers=admin)
    assert r.status_code == 200 and r.json()["tier"] == "enterprise"
    assert r.json()["sla"]["availability_percentage"] == "99.9"
    assert r.json()["sla"]["response_time_ms"] == 600  # the override stays

    got = await client.get("/api/v1/tenants/acme", headers=admin)
    assert got.json()["tier"] == "enterprise"
    assert (await client.delete("/api/v1/tenants/acme", headers=admin)).status_code == 204
    assert (await client.get("/api/v1/tenants/acme", headers=admin)).status_code == 404

    audit = (await client.get("/api/v1/audit?object_type=tenant", headers=admin)).json()["items"]
    assert [e["action"] for e in audit] == ["tenant.delete", "tenant.update", "tenant.create"]
    assert (
        audit[1]["before"]["tier"] == "professional" and audit[1]["after"]["tier"] == "enterprise"
    )
    assert all(e["actor"].startswith("apikey:k_") for e in audit)


async def test_duplicate_create_is_409(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = {"id": "acme", "name": "Acme", "tier": "basic"}
    assert (await client.post("/api/v1/tenants", json=body, headers=admin)).status_code == 201
    r = await client.post("/api/v1/tenants", json=body, headers=admin)
    assert r.status_code == 409 and "already exists" in r.json()["detail"]


async def test_malformed_json_is_422_and_says_so(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post(
        "/api/v1/tenants",
        content=b'{"id": "acme", "name": ',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert "not valid JSON" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "acme", "name": "A", "tier": 5}, "tier"),
        ({"id": "ACME", "name": "A", "tier": "basic"}, "id"),
        ({"id": "acme", "tier": "basic"}, "name"),
        ({"id": "acme", "name": "A", "tier": "basic", "labels": {"a": 1}}, "labels"),
        ({"id": "acme", "name": "A", "tier": "basic", "colour": "red"}, "colour"),
        ({"id": "acme", "name": "A", "tier": "gold"}, "tier"),
        ({"id": "acme", "name": "A", "tier": "basic", "timezone": "Nowhere/City"}, "timezone"),
        (
            {"id": "acme", "name": "A", "tier": "basic", "sla_overrides": {"response_time_ms": -1}},
            "sla_overrides",
        ),
    ],
)
async def test_a_wrong_field_is_422_naming_it(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, object], field: str
) -> None:
    r = await client.post("/api/v1/tenants", json=body, headers=admin)
    assert r.status_code == 422, r.text
    locs = [err["loc"] for err in r.json()["detail"]]
    assert any(field in loc for loc in locs), locs
    assert (await client.get("/api/v1/tenants/acme", headers=admin)).status_code == 404


async def test_lists_are_paged_with_a_cursor(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for i in range(7):
        body = {"id": f"t{i}", "name": f"T{i}", "tier": "basic"}
        assert (await client.post("/api/v1/tenants", json=body, headers=admin)).status_code == 201
    seen: list[str] = []
    url = "/api/v1/tenants?limit=3"
    while True:
        page = (await client.get(url, headers=admin)).json()
        seen += [t["id"] for t in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/tenants?limit=3&cursor={page['next_cursor']}"
    assert seen == [f"t{i}" for i in range(7)]
    audit = (await client.get("/api/v1/audit?limit=2", headers=admin)).json()
    assert len(audit["items"]) == 2 and audit["next_cursor"]
    rest = await client.get(f"/api/v1/audit?limit=100&cursor={audit['next_cursor']}", headers=admin)
    ids = [e["id"] for e in audit["items"] + rest.json()["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "query", ["cursor=%%%", "cursor=abc", "limit=0", "limit=100000", "limit=x"]
)
async def test_bad_paging_parameters_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], query: str
) -> None:
    r = await client.get(f"/api/v1/tenants?{query}", headers=admin)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][0] == "query"


async def test_tiers_lists_the_seed_defaults(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    tiers = {
        t["name"]: t for t in (await client.get("/api/v1/tiers", headers=admin)).json()["items"]
    }
    assert set(tiers) == {"basic", "professional", "enterprise"}
    assert tiers["basic"]["sla"]["availability_percentage"] == "99.0"
    assert tiers["enterprise"]["sla"]["error_rate_percentage"] == "0.5"
    assert tiers["professional"]["sla"]["response_time_ms"] == 750


async def test_an_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nope")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
