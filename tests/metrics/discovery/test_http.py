"""http_sd against a loopback server: Prometheus' format and headers, __meta_url, and the
last groups kept when a refresh fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tenantwatch.config.discovery_model import HttpSDConfig
from tenantwatch.config.metrics_model import ScrapeConfig
from tenantwatch.metrics.discovery.http import (
    HttpProvider,
    HttpSdError,
    content_type_ok,
    parse_http_sd,
    seconds_text,
)
from tenantwatch.metrics.discovery.manager import DiscoveryManager
from tests.metrics.discovery.support import DEBOUNCE, Updates, eventually


class SdServer:
    def __init__(self) -> None:
        self.body = b"[]"
        self.status = 200
        self.content_type = "application/json"
        self.requests: list[dict[str, str]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        return web.Response(
            body=self.body, status=self.status, headers={"Content-Type": self.content_type}
        )


@pytest.fixture
async def server() -> AsyncIterator[SdServer]:
    sd = SdServer()
    app = web.Application()
    app.router.add_get("/targets", sd.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    sd.url = f"http://127.0.0.1:{port}/targets"
    yield sd
    await runner.cleanup()


@pytest.fixture
async def run() -> AsyncIterator[Any]:
    managers: list[DiscoveryManager] = []

    async def start(config: HttpSDConfig) -> Updates:
        updates = Updates()
        manager = DiscoveryManager(updates, debounce=DEBOUNCE)
        managers.append(manager)
        await manager.apply([ScrapeConfig(job_name="http", http_sd_configs=[config])])
        return updates

    yield start
    for manager in managers:
        await manager.stop()


def test_the_answer_is_read_as_prometheus_http_sd() -> None:
    body = b'[{"targets": ["a:9100"], "labels": {"env": "prod"}}, {"targets": []}]'
    first, second = parse_http_sd(body, "http://sd/x")
    assert first.source == "http://sd/x:0" and second.source == "http://sd/x:1"
    assert dict(first.labels) == {"env": "prod", "__meta_url": "http://sd/x"}
    assert first.targets == ((("__address__", "a:9100"),),)
    with pytest.raises(HttpSdError, match="nil target group item found"):
        parse_http_sd(b"[null]", "http://sd/x")
    with pytest.raises(HttpSdError, match="not JSON"):
        parse_http_sd(b"<html>", "http://sd/x")


def test_the_refresh_interval_header_is_written_as_prometheus_writes_it() -> None:
    assert [seconds_text(s) for s in (60.0, 0.05, 86400.0, 1e6)] == [
        "60",
        "0.05",
        "86400",
        "1000000",
    ]


def test_only_json_content_types_are_accepted() -> None:
    assert content_type_ok("application/json")
    assert content_type_ok('Application/JSON; charset="utf-8"')
    assert not content_type_ok("text/plain")
    assert not content_type_ok("application/json; charset=latin1")


async def test_targets_are_fetched_with_prometheus_headers_and_refreshed(
    server: SdServer, run: Any
) -> None:
    server.body = b'[{"targets": ["a:9100", "b:9100"]}]'
    config = HttpSDConfig(url=server.url, refresh_interval=0.05, bearer_token="s3cret")
    updates = await run(config)
    await eventually(lambda: updates.addresses("http") == {"a:9100", "b:9100"})
    headers = server.requests[0]
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Accept"] == "application/json"
    assert headers["X-Prometheus-Refresh-Interval-Seconds"] == "0.05"
    server.body = b'[{"targets": ["c:9100"]}]'
    await eventually(lambda: updates.addresses("http") == {"c:9100"})


async def test_a_failed_refresh_keeps_the_last_groups(server: SdServer, run: Any) -> None:
    server.body = b'[{"targets": ["a:9100"]}, {"targets": ["b:9100"]}]'
    updates = await run(HttpSDConfig(url=server.url, refresh_interval=0.05))
    await eventually(lambda: updates.addresses("http") == {"a:9100", "b:9100"})
    for status, content_type, body in [
        (500, "application/json", b"[]"),
        (200, "text/html", b"[]"),
        (200, "application/json", b"[{"),
    ]:
        server.status, server.content_type, server.body = status, content_type, body
        await _two_more_requests(server)
        assert updates.addresses("http") == {"a:9100", "b:9100"}
    server.status, server.content_type = 200, "application/json"
    server.body = b'[{"targets": ["a:9100"]}]'  # one group fewer: the second source empties
    await eventually(lambda: updates.addresses("http") == {"a:9100"})


async def test_an_answer_larger_than_the_bound_is_refused(server: SdServer, run: Any) -> None:
    server.body = b'[{"targets": ["' + b"a" * 5000 + b':1"]}]'
    provider = HttpProvider(HttpSDConfig(url=server.url), max_bytes=1000)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(HttpSdError, match="larger than 1000 bytes"):
            await provider.fetch(session)


async def _two_more_requests(server: SdServer) -> None:
    seen = len(server.requests)
    await eventually(lambda: len(server.requests) >= seen + 2)
