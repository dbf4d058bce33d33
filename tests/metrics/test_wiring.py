"""build_metrics: the embedded store and engine, or a remote server fed by remote-write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from tenantwatch.configuration import parse_config
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.backend import EmbeddedBackend
from tenantwatch.metrics.push_groups import build_families
from tenantwatch.metrics.remote import BasicAuth, RemoteBackend
from tenantwatch.metrics.remote_write import decode_write_request
from tenantwatch.metrics.wiring import ForwardingAppender, build_metrics
from tenantwatch.promql.model import Matcher, labels_of


def test_the_embedded_backend_queries_the_store_under_the_data_dir(tmp_path: Path) -> None:
    metrics = build_metrics(tmp_path, parse_config("", "tw.yml", {}), TierCatalog())
    assert isinstance(metrics.queries, EmbeddedBackend)
    assert metrics.queries.source is metrics.store
    assert metrics.store.directory == tmp_path / "metrics"
    assert metrics.appender is metrics.store
    assert metrics.forwarder is None


def test_the_store_directory_can_be_configured(tmp_path: Path) -> None:
    config = parse_config(f"metrics:\n  data_dir: {tmp_path / 'elsewhere'}\n", "tw.yml", {})
    assert build_metrics(tmp_path, config, TierCatalog()).store.directory == tmp_path / "elsewhere"


def test_retention_follows_the_configs_tenants(tmp_path: Path) -> None:
    config = parse_config("tenants:\n  - {id: acme, name: Acme, tier: enterprise}\n", "tw.yml", {})
    metrics = build_metrics(tmp_path, config, TierCatalog())
    assert metrics.store.retention_ms(labels_of({"tenant": "acme"})) == 90 * 86_400_000


def test_the_remote_backend_gets_the_configured_credentials(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("secret\n")
    config = parse_config(
        "metrics:\n  backend: remote\n  url: http://prom:9090\n"
        f"  auth:\n    basic_auth: {{username: tw, password_file: {tmp_path / 'pw'}}}\n",
        "tw.yml",
        {},
    )
    metrics = build_metrics(tmp_path, config, TierCatalog())
    assert isinstance(metrics.queries, RemoteBackend)
    assert metrics.queries.auth == BasicAuth("tw", "secret")
    assert isinstance(metrics.appender, ForwardingAppender)
    assert metrics.forwarder is not None
    assert metrics.forwarder.url == "http://prom:9090/api/v1/write"


def test_forwarding_can_be_turned_off(tmp_path: Path) -> None:
    config = parse_config(
        "metrics:\n  backend: remote\n  url: http://prom:9090\n  remote_write_forward: false\n",
        "tw.yml",
        {},
    )
    metrics = build_metrics(tmp_path, config, TierCatalog())
    assert metrics.forwarder is None
    assert metrics.appender is metrics.store


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], float]]]]:
    """A remote-write receiver on loopback that records the samples it gets."""
    got: list[tuple[dict[str, str], float]] = []

    async def write(request: web.Request) -> web.Response:
        for series in decode_write_request(await request.read()):
            got.extend((dict(series.labels), v) for _, v in series.samples)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/api/v1/write", write)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", got
    await runner.cleanup()


async def test_remote_mode_forwards_pushed_samples_by_remote_write(
    tmp_path: Path, receiver: tuple[str, list[tuple[dict[str, str], float]]]
) -> None:
    url, got = receiver
    config = parse_config(f"metrics:\n  backend: remote\n  url: {url}\n", "tw.yml", {})
    metrics = build_metrics(tmp_path, config, TierCatalog())
    await metrics.start()
    try:
        key = labels_of({"job": "batch"})
        families = build_families(key, [(labels_of({"__name__": "done"}), 1.0)], {})
        await metrics.push.push(key, families, replace_all=True)
        for _ in range(50):
            if any(labels.get("__name__") == "done" for labels, _ in got):
                break
            await asyncio.sleep(0.1)
        # the local store has them too
        local = metrics.store.select([Matcher.of("__name__", "=", "done")], 0, 2**62)
        assert [s.labels for s in local] == [labels_of({"__name__": "done", "job": "batch"})]
    finally:
        await metrics.stop()
    assert ({"__name__": "done", "job": "batch"}, 1.0) in got
