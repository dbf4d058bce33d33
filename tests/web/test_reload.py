"""Reloading tenantwatch.yml while serving, as Prometheus does: POST or PUT /-/reload with a
platform admin key, or SIGHUP. Scrape jobs and rule files change; unchanged targets keep
scraping; an invalid file keeps the running config."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from tenantwatch.configuration import load_config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.promql.model import Matcher, is_stale
from tenantwatch.runtime.hangup import reload_on_hangup
from tenantwatch.runtime.root import ALL_ROLES, Runtime, build_runtime
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.support import bearer

HEAD = "tenants:\n  - {id: acme, name: Acme, tier: basic}\n"


def job(name: str, address: str) -> str:
    return (
        f"  - job_name: {name}\n"
        "    scrape_interval: 200ms\n"
        "    scrape_timeout: 150ms\n"
        f"    static_configs: [{{targets: ['{address}'], labels: {{tenant: acme}}}}]\n"
    )


class Served:
    def __init__(self, rt: Runtime, client: httpx.AsyncClient, file: Path, admin: str) -> None:
        self.rt, self.client, self.file, self.admin = rt, client, file, admin
        self.addresses: list[str] = []

    def write(self, text: str) -> None:
        self.file.write_text(HEAD + text)

    def jobs(self) -> set[tuple[str, str]]:
        return {(loop.target.job, loop.target.address) for loop in self.rt.metrics.scrapes.loops()}

    def samples(self, job: str) -> int:
        found = self.rt.metrics.store.select(
            [Matcher.of("__name__", "=", "app_up"), Matcher.of("job", "=", job)], 0, 2**62
        )
        return sum(len(s.vals) for s in found)

    async def reload(self, method: str = "POST", key: str | None = None) -> httpx.Response:
        return await self.client.request(method, "/-/reload", headers=bearer(key or self.admin))


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text="app_up 1\n")

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
    file = tmp_path / "tenantwatch.yml"
    file.write_text(HEAD + "scrape_configs:\n" + job("app", addresses[0]))
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}",
        data_dir=tmp_path / "var",
        config=file,
    )
    rt = build_runtime(settings, load_config(file, {}), env={})
    app = create_app(settings, rt, roles=ALL_ROLES)
    try:
        async with app.router.lifespan_context(app):
            issued = await rt.api_keys.issue(SYSTEM, name="root", scopes=[Scope.ADMIN])
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://tw") as client:
                s = Served(rt, client, file, issued.secret)
                s.addresses = addresses
                yield s
    finally:
        for runner in runners:
            await runner.cleanup()


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_a_reload_adds_a_job_and_the_unchanged_target_keeps_scraping(
    served: Served, method: str
) -> None:
    a, b = served.addresses
    await asyncio.sleep(0.5)
    [loop] = served.rt.metrics.scrapes.loops()
    before = served.samples("app")
    assert before >= 1
    served.write("scrape_configs:\n" + job("app", a) + job("more", b))
    r = await served.reload(method)
    assert (r.status_code, r.text) == (200, "")
    assert served.jobs() == {("app", a), ("more", b)}
    assert loop in served.rt.metrics.scrapes.loops()  # the same loop, cache and schedule
    await asyncio.sleep(0.5)
    assert served.samples("app") > before
    assert served.samples("more") >= 1


async def test_a_removed_job_stops_and_its_series_go_stale(served: Served) -> None:
    _, b = served.addresses
    await asyncio.sleep(0.3)
    served.write("scrape_configs:\n" + job("other", b))
    assert (await served.reload()).status_code == 200
    assert served.jobs() == {("other", b)}
    [up] = served.rt.metrics.store.select(
        [Matcher.of("__name__", "=", "up"), Matcher.of("job", "=", "app")], 0, 2**62
    )
    assert is_stale(float(up.vals[-1]))


async def test_an_invalid_file_keeps_the_running_config_and_answers_500_with_file_line(
    served: Served,
) -> None:
    a, b = served.addresses
    served.write(
        "scrape_configs:\n"
        + job("app", a)
        + job("more", b)
        + "    relabel_configs:\n      - action: hashmod\n        target_label: x\n"
    )
    r = await served.reload()
    assert r.status_code == 500
    assert r.json()["detail"] == (
        f"failed to reload config: {served.file}:13: job 'more': relabel_configs[0]: relabel "
        "configuration for hashmod requires non-zero modulus"
    )
    assert served.jobs() == {("app", a)}
    info = (
        await served.client.get("/api/v1/status/runtimeinfo", headers=bearer(served.admin))
    ).json()
    assert info["data"]["reloadConfigSuccess"] is False
    served.write("scrape_configs:\n" + job("app", a))
    assert (await served.reload()).status_code == 200
    info = (
        await served.client.get("/api/v1/status/runtimeinfo", headers=bearer(served.admin))
    ).json()
    assert info["data"]["reloadConfigSuccess"] is True


async def test_a_reload_reads_the_rule_files_again(served: Served, tmp_path: Path) -> None:
    a, _ = served.addresses
    (tmp_path / "rules.yml").write_text(
        "groups:\n  - name: reloaded\n    rules:\n      - record: app:up\n        expr: app_up\n"
    )
    served.write("rule_files: [rules.yml]\nscrape_configs:\n" + job("app", a))
    assert (await served.reload()).status_code == 200
    names = [status.managed.group.name for status in served.rt.rules.status.values()]
    assert "reloaded" in names


async def test_reloading_needs_a_platform_admin_key(served: Served) -> None:
    r = await served.client.post("/-/reload")
    assert r.status_code == 401
    reader = await served.rt.api_keys.issue(SYSTEM, name="r", scopes=[Scope.READ])
    assert (await served.reload(key=reader.secret)).status_code == 403
    await served.client.post(
        "/api/v1/tenants",
        json={"id": "globex", "name": "Globex", "tier": "basic"},
        headers=bearer(served.admin),
    )
    bound = await served.rt.api_keys.issue(SYSTEM, name="t", scopes=[Scope.ADMIN], tenant_id="acme")
    r = await served.reload(key=bound.secret)
    assert r.status_code == 403
    assert "not bound to a tenant" in r.json()["detail"]
    assert (await served.client.get("/-/reload", headers=bearer(served.admin))).status_code == 405


async def test_sighup_reloads_the_config(served: Served) -> None:
    a, b = served.addresses
    unhook = reload_on_hangup(served.rt)
    try:
        served.write("scrape_configs:\n" + job("app", a) + job("more", b))
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if ("more", b) in served.jobs():
                break
        assert served.jobs() == {("app", a), ("more", b)}
        # an invalid file on SIGHUP is logged and changes nothing
        served.write("scrape_configs: [")
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if not served.rt.last_reload_ok:
                break
        assert not served.rt.last_reload_ok
        assert served.jobs() == {("app", a), ("more", b)}
    finally:
        unhook()
