"""/api/v1/targets in Prometheus' shape: active targets with their health and labels before
and after relabelling, dropped targets, filters, pages, and tenant scoping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from tenantwatch.config.model import Config
from tenantwatch.configuration import parse_config
from tenantwatch.domain.apikeys import Scope
from tenantwatch.runtime.root import Runtime
from tests.conftest import KeyMaker
from tests.support import bearer


@pytest.fixture
async def exporters() -> AsyncIterator[list[str]]:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text='app_requests_total{code="200"} 3\napp_up 1\n')

    runners, addresses = [], []
    for _ in range(2):
        app = web.Application()
        app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        addresses.append(f"127.0.0.1:{site._server.sockets[0].getsockname()[1]}")  # type: ignore[union-attr]
    yield addresses
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
def runtime_config(exporters: list[str]) -> Config:
    """The standing two tenants, alpha and bravo, declared in the config."""
    a, b = exporters
    return parse_config(
        "tenants:\n  - {id: alpha, name: Alpha, tier: enterprise}\n"
        "  - {id: bravo, name: Bravo, tier: basic}\n"
        "scrape_configs:\n"
        "  - job_name: app\n    scrape_interval: 1y\n    static_configs:\n"
        f"      - targets: ['{a}']\n        labels: {{tenant: alpha, __meta_role: web}}\n"
        f"      - targets: ['{b}']\n        labels: {{tenant: bravo, __meta_role: web}}\n"
        "      - targets: ['admin:9100']\n        labels: {__meta_role: admin}\n"
        "    relabel_configs:\n"
        "      - {source_labels: [__meta_role], regex: web, action: keep}\n"
        "  - job_name: strict\n    scrape_interval: 1y\n    sample_limit: 1\n"
        f"    static_configs: [{{targets: ['{a}'], labels: {{tenant: alpha}}}}]\n",
        "tw.yml",
        {},
    )


@pytest.fixture
async def scraped(runtime: Runtime) -> AsyncIterator[Runtime]:
    await runtime.metrics.start()
    for loop in runtime.metrics.scrapes.loops():
        await loop.scrape_once()
    yield runtime
    await runtime.metrics.stop()


async def targets(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    r = await client.get("/api/v1/targets", params=params, headers=bearer(key))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == "success"
    data: dict[str, Any] = body["data"]
    return data


async def test_targets_show_health_labels_and_dropped_targets_as_prometheus_does(
    scraped: Runtime,
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    exporters: list[str],
) -> None:
    a, _ = exporters
    data = await targets(client, await make_key(Scope.READ))
    active = {(t["scrapePool"], t["labels"]["instance"]): t for t in data["activeTargets"]}
    assert len(active) == 3
    web_a = active[("app", a)]
    assert web_a["labels"] == {"job": "app", "instance": a, "tenant": "alpha"}
    assert web_a["discoveredLabels"]["__meta_role"] == "web"
    assert web_a["discoveredLabels"]["__address__"] == a
    assert web_a["discoveredLabels"]["__scrape_interval__"] == "1y"
    assert (web_a["health"], web_a["lastError"]) == ("up", "")
    assert web_a["scrapeUrl"] == f"http://{a}/metrics"
    assert (web_a["scrapeInterval"], web_a["scrapeTimeout"]) == ("1y", "10s")
    assert web_a["lastScrapeDuration"] > 0
    strict = active[("strict", a)]
    assert (strict["health"], strict["lastError"]) == ("down", "sample limit exceeded")
    [dropped] = data["droppedTargets"]
    assert dropped["scrapePool"] == "app"
    assert dropped["discoveredLabels"]["__address__"] == "admin:9100"
    assert data["droppedTargetCounts"] == {"app": 1}


async def test_state_and_scrape_pool_filter_the_targets(
    scraped: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ)
    only_active = await targets(client, key, state="active")
    assert len(only_active["activeTargets"]) == 3 and only_active["droppedTargets"] == []
    only_dropped = await targets(client, key, state="dropped")
    assert only_dropped["activeTargets"] == [] and len(only_dropped["droppedTargets"]) == 1
    strict = await targets(client, key, scrapePool="strict")
    assert [t["scrapePool"] for t in strict["activeTargets"]] == ["strict"]
    assert strict["droppedTargets"] == []


async def test_pages_follow_the_cursor_through_active_then_dropped_targets(
    scraped: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await targets(client, key, **params)
        rows = page["activeTargets"] + page["droppedTargets"]
        assert len(rows) == 1
        seen.append(rows[0].get("scrapeUrl", "dropped") + rows[0]["scrapePool"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 4
    assert seen[-1] == "droppedapp"
    r = await client.get("/api/v1/targets?cursor=forged", headers=bearer(key))
    assert r.status_code == 422


async def test_a_tenant_key_sees_its_own_targets_and_no_dropped_ones(
    scraped: Runtime,
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    exporters: list[str],
) -> None:
    _, b = exporters
    data = await targets(client, await make_key(Scope.READ, tenant="bravo"))
    assert [t["labels"]["instance"] for t in data["activeTargets"]] == [b]
    assert data["droppedTargets"] == [] and data["droppedTargetCounts"] == {}


async def test_targets_need_a_key(scraped: Runtime, client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/targets")).status_code == 401
