"""The app's lifespan runs the metric side: store, scrapes and pushes start and stop with it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from tenantwatch.configuration import parse_config
from tenantwatch.domain.apikeys import Scope
from tenantwatch.metrics.store import MetricStore
from tenantwatch.metrics.store_recovery import StoreInUse
from tenantwatch.promql.model import Matcher
from tenantwatch.runtime.root import ALL_ROLES, build_runtime
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.support import bearer


async def exporter() -> tuple[web.AppRunner, str]:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text='app_requests_total{path="/"} 12\n')

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"127.0.0.1:{port}"


async def test_the_lifespan_scrapes_configured_targets_and_closes_the_store(
    tmp_path: Path,
) -> None:
    runner, address = await exporter()
    config = parse_config(
        "tenants:\n  - {id: acme, name: Acme, tier: enterprise}\n"
        "scrape_configs:\n"
        "  - job_name: app\n"
        "    scrape_interval: 200ms\n"
        "    scrape_timeout: 150ms\n"
        "    static_configs:\n"
        f"      - targets: ['{address}']\n"
        "        labels: {tenant: acme}\n",
        "tw.yml",
        {},
    )
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}", data_dir=tmp_path / "var"
    )
    app = create_app(settings, build_runtime(settings, config), roles=ALL_ROLES)
    rt = app.state.runtime
    try:
        async with app.router.lifespan_context(app):
            assert rt.metrics.running
            # the server holds the store: nobody else may open it
            with pytest.raises(StoreInUse):
                MetricStore(tmp_path / "var" / "metrics").open()
            await asyncio.sleep(0.7)
            found = rt.metrics.store.select(
                [Matcher.of("__name__", "=", "app_requests_total")], 0, 2**62
            )
            assert [dict(s.labels)["tenant"] for s in found] == ["acme"]
            assert len(found[0].vals) >= 2
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://tw") as client:
                r = await client.get("/metrics")
                assert "tenantwatch_metric_store_active_series" in r.text
                assert 'tenantwatch_scrape_targets{health="up",job="app"} 1.0' in r.text
                assert 'tenantwatch_scrape_failures_total{job="app"} 0.0' in r.text
        assert not rt.metrics.running
    finally:
        await runner.cleanup()
    # closed and unlocked: it opens again, with what was scraped
    store = MetricStore(tmp_path / "var" / "metrics")
    store.open()
    try:
        assert store.select([Matcher.of("__name__", "=", "up")], 0, 2**62)
    finally:
        store.close()


async def test_pushes_reach_the_store_of_a_running_app(tmp_path: Path) -> None:
    from tenantwatch.domain.apikeys import SYSTEM

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}", data_dir=tmp_path / "var"
    )
    app = create_app(settings, build_runtime(settings), roles=ALL_ROLES)
    rt = app.state.runtime
    async with app.router.lifespan_context(app):
        issued = await rt.api_keys.issue(SYSTEM, name="pusher", scopes=[Scope.WRITE])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tw") as client:
            r = await client.put(
                "/metrics/job/nightly",
                content="last_run_seconds 42\n",
                headers=bearer(issued.secret),
            )
            assert r.status_code == 200, r.text
    # the group outlives the process: a new app finds it and keeps writing it
    app = create_app(settings, build_runtime(settings), roles=ALL_ROLES)
    async with app.router.lifespan_context(app):
        assert list(app.state.runtime.metrics.push.groups) == [(("job", "nightly"),)]
