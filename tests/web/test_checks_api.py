"""/api/v1/checks, the seed 002 monitoring APIs and /ping, over HTTP, with tenant isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import Scope
from tenantwatch.runtime.root import Runtime
from tests.checks_support import http_target, loopback_config
from tests.conftest import KeyMaker
from tests.support import bearer


@pytest.fixture
def runtime_config() -> Config:
    """Checks made through the API here probe loopback targets, so loopback is allowed."""
    return loopback_config()


@pytest.fixture
async def admin(make_key: KeyMaker) -> dict[str, str]:
    return bearer(await make_key(Scope.ADMIN))


async def test_check_crud_run_and_history(
    client: httpx.AsyncClient, admin: dict[str, str], two_tenants: Any, make_key: KeyMaker
) -> None:
    async with http_target() as target:
        body = {
            "id": "alpha.api",
            "tenant": "alpha",
            "kind": "http",
            "url": target.url + "/health",
            "headers": {"Authorization": "Bearer hush"},
            "conditions": ["[STATUS] == 200", "len([BODY].items) > 1"],
        }
        created = await client.post("/api/v1/checks", json=body, headers=admin)
        assert created.status_code == 201, created.text
        out = created.json()
        assert out["state"]["status"] == "unknown" and out["managed_by"] == "api"
        assert out["settings"]["headers"]["Authorization"] == "***"
        assert "hush" not in created.text
        run = await client.post("/api/v1/checks/alpha.api/run", headers=admin)
        assert run.status_code == 200 and run.json()["ok"] is True
        assert [c["ok"] for c in run.json()["conditions"]] == [True, True]
        assert (await client.post("/api/v1/checks", json=body, headers=admin)).status_code == 409
        target.body = b'{"items": []}'
        failed = (await client.post("/api/v1/checks/alpha.api/run", headers=admin)).json()
        assert failed["ok"] is False and "len([BODY].items) (0) > 1" in failed["error"]
        results = await client.get("/api/v1/checks/alpha.api/results", headers=admin)
        assert [r["ok"] for r in results.json()["items"]] == [False, True]
        paged = await client.get("/api/v1/checks/alpha.api/results?limit=1", headers=admin)
        cursor = paged.json()["next_cursor"]
        assert cursor and len(paged.json()["items"]) == 1
        rest = await client.get(
            f"/api/v1/checks/alpha.api/results?limit=1&cursor={cursor}", headers=admin
        )
        assert [r["ok"] for r in rest.json()["items"]] == [True]
        events = (await client.get("/api/v1/checks/alpha.api/events", headers=admin)).json()
        assert [(e["old"], e["new"]) for e in events["items"]] == [("unknown", "up")]
        uptime = await client.get(
            "/api/v1/checks/alpha.api/uptime?resolution=1h&hours=2", headers=admin
        )
        buckets = uptime.json()  # one, or two across an hour boundary
        assert sum(b["runs"] for b in buckets) == 2 and sum(b["ok_runs"] for b in buckets) == 1
        # the other tenant's key sees none of it
        bravo = bearer(await make_key(Scope.WRITE, tenant="bravo"))
        for path in (
            "/api/v1/checks/alpha.api",
            "/api/v1/checks/alpha.api/results",
            "/api/v1/monitoring/health/alpha/summary",
            "/api/v1/monitoring/health-checks/alpha",
        ):
            assert (await client.get(path, headers=bravo)).status_code == 404, path
        assert (await client.get("/api/v1/checks", headers=bravo)).json()["items"] == []
        assert (await client.delete("/api/v1/checks/alpha.api", headers=bravo)).status_code == 404
        replaced = await client.put(
            "/api/v1/checks/alpha.api", json={**body, "conditions": []}, headers=admin
        )
        assert replaced.status_code == 200 and replaced.json()["conditions"] == []
        assert (await client.delete("/api/v1/checks/alpha.api", headers=admin)).status_code == 204
        assert (await client.get("/api/v1/checks/alpha.api", headers=admin)).status_code == 404


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"tenant": "alpha", "kind": "http", "url": "ftp://x"}, "url"),
        (
            {"tenant": "alpha", "kind": "http", "url": "http://x", "conditions": ["[NOPE] == 1"]},
            "unknown placeholder",
        ),
        (
            {
                "tenant": "alpha",
                "kind": "http",
                "url": "http://x",
                "conditions": ["[STATUS] === 200"],
            },
            "column 10: '===' is not an operator",
        ),
        ({"tenant": "alpha", "kind": "smtp"}, "kind"),
        ({"tenant": "alpha", "kind": "heartbeat"}, "period"),
        ({"tenant": "alpha", "kind": "tcp", "host": "h", "port": 1, "interval": "500ms"}, "1s"),
        ({"tenant": "alpha", "kind": "tcp", "host": "h\u0000", "port": 1}, "NUL"),
    ],
)
async def test_bad_checks_are_422_saying_why(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    two_tenants: Any,
    body: dict[str, Any],
    words: str,
) -> None:
    answer = await client.post("/api/v1/checks", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert words in answer.text


async def test_seed_002_monitoring_apis(
    client: httpx.AsyncClient, admin: dict[str, str], two_tenants: Any
) -> None:
    async with http_target() as target:
        for tenant in ("alpha", "bravo"):
            body = {
                "id": f"{tenant}.web",
                "tenant": tenant,
                "kind": "http",
                "url": f"{target.url}/{tenant}",
            }
            assert (await client.post("/api/v1/checks", json=body, headers=admin)).is_success
        now = await client.post(
            "/api/v1/monitoring/health-checks/alpha",
            json={"check_type": "comprehensive", "include_deep_checks": True},
            headers=admin,
        )
        assert now.status_code == 200, now.text
        result = now.json()
        assert (
            result["overall_status"] == "healthy" and result["checks"]["http_endpoint"] == "healthy"
        )
        assert result["checks"]["database"] is None and result["sla_compliant"] is True
        assert len(result["results"]) == 1
        await client.post("/api/v1/monitoring/health-checks/bravo", headers=admin)
    history = await client.get(
        "/api/v1/monitoring/health-checks/alpha?hours=24&limit=100", headers=admin
    )
    assert history.json()["count"] == 1
    assert history.json()["state_changes"][0]["new"] == "up"
    platform = (await client.get("/api/v1/monitoring/health/platform", headers=admin)).json()
    assert platform["total_tenants"] == 2 and platform["healthy_tenants"] == 2
    summary = (await client.get("/api/v1/monitoring/health/alpha/summary", headers=admin)).json()
    # one http check, up: 40 + (100 - 50 x p95) x 0.3 + 20 + 10, p95 its last duration
    p95_s = summary["checks"][0]["state"]["last_duration_ms"] / 1000
    assert summary["status"] == "healthy"
    assert summary["health_score"] == pytest.approx(100 - 15 * p95_s, abs=0.01)
    assert summary["tier"] == "enterprise" and summary["checks"][0]["id"] == "alpha.web"
    dash = (await client.get("/api/v1/monitoring/dashboard/health", headers=admin)).json()
    assert dash["platform_health"]["total_tenants"] == 2
    assert len(dash["recent_checks"]) == 2 and dash["active_alerts"] == []


async def test_every_health_answer_shows_the_score_and_its_components(
    client: httpx.AsyncClient, admin: dict[str, str], two_tenants: Any
) -> None:
    async with http_target() as target:
        for cid, conditions in (("alpha.web", []), ("alpha.broken", ["[STATUS] == 201"])):
            body = {
                "id": cid,
                "tenant": "alpha",
                "kind": "http",
                "url": f"{target.url}/{cid}",
                "conditions": conditions,
                "failure_threshold": 1,
            }
            assert (await client.post("/api/v1/checks", json=body, headers=admin)).is_success
        ran = await client.post("/api/v1/monitoring/health-checks/alpha", headers=admin)
    assert ran.status_code == 200, ran.text
    result = ran.json()
    p95_s = max(r["response_time_ms"] for r in result["results"]) / 1000  # nearest rank of 2
    # one check down of two: uptime 50 x 0.4 = 20; error rate 50 %: max(0, 100 - 500) = 0;
    # no CPU or memory figures: 100 x 0.1 = 10; response time (100 - 50 x p95) x 0.3
    expected = [
        ("uptime", 50.0, 0.4, 20.0),
        ("response_time", 100 - 50 * p95_s, 0.3, (100 - 50 * p95_s) * 0.3),
        ("error_rate", 0.0, 0.2, 0.0),
        ("resource_utilization", 100.0, 0.1, 10.0),
    ]

    def parts(answer: dict[str, Any]) -> list[tuple[str, float, float, float]]:
        return [
            (c["name"], c["score"], c["weight"], c["weighted"]) for c in answer["health_components"]
        ]

    summary = (await client.get("/api/v1/monitoring/health/alpha/summary", headers=admin)).json()
    platform = (await client.get("/api/v1/monitoring/health/platform", headers=admin)).json()
    alpha = next(t for t in platform["tenants"] if t["tenant_id"] == "alpha")
    for answer in (result, summary, alpha):
        assert answer["health_score"] == pytest.approx(30 + 0.3 * (100 - 50 * p95_s), abs=0.01)
        for got, want in zip(parts(answer), expected, strict=True):
            assert got[0] == want[0] and got[1:] == pytest.approx(want[1:], abs=0.01)
    bravo = next(t for t in platform["tenants"] if t["tenant_id"] == "bravo")
    assert (bravo["health_score"], bravo["health_components"]) == (None, [])
    assert platform["average_health_score"] == alpha["health_score"]  # bravo has no score
    assert [t["tenant_id"] for t in platform["tenants"]] == ["alpha", "bravo"]  # worst first


async def test_heartbeat_ping_urls(
    client: httpx.AsyncClient, admin: dict[str, str], two_tenants: Any, runtime: Runtime
) -> None:
    body = {
        "id": "alpha.backup",
        "tenant": "alpha",
        "kind": "heartbeat",
        "period": "1h",
        "grace": "10m",
    }
    created = (await client.post("/api/v1/checks", json=body, headers=admin)).json()
    url = created["ping_url"]
    assert url.startswith("http://") and "/ping/" in url
    path = url.split("://", 1)[1].split("/", 1)[1]
    for suffix, method in (("", "GET"), ("/start", "POST"), ("/0", "HEAD"), ("/fail", "GET")):
        answer = await client.request(method, "/" + path + suffix)
        assert answer.status_code == 200, (suffix, answer.text)
    assert (await client.get("/" + path + "/log2")).status_code == 400
    assert (await client.get("/ping/unknown-token")).text == "not found"
    run = (await client.post("/api/v1/checks/alpha.backup/run", headers=admin)).json()
    assert run["ok"] is False and "reported failure" in run["error"]
    async with runtime.ctx.uow() as uow:
        assert await uow.checks.ping_count("alpha.backup") == 4
    await runtime.check_engine.pings.close()
