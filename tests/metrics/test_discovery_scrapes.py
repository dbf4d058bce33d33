"""Discovered targets are scraped: Kubernetes pods (seed 000's relabelling) and file_sd,
end to end through build_metrics, against a stand-in Kubernetes API and loopback targets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from tenantwatch import jsonio
from tenantwatch.configuration import parse_config
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.wiring import MetricsRuntime, build_metrics
from tenantwatch.promql.model import Matcher
from tests.metrics.discovery.k8s_standin import TOKEN, KubeStandin, pod, running_standin


async def target(body: str) -> tuple[web.AppRunner, int]:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


@pytest.fixture
async def targets() -> AsyncIterator[list[int]]:
    runners = []
    ports = []
    for tenant in ("acme", "globex", "initech"):
        runner, port = await target(f'ai_shifu_requests_total{{tenant="{tenant}"}} 7\n')
        runners.append(runner)
        ports.append(port)
    yield ports
    for runner in runners:
        await runner.cleanup()


def config_text(standin: KubeStandin, token_file: Path, sd_file: Path) -> str:
    # seed 000's ai-shifu-api job, pointed at the stand-in, and a file_sd job
    return f"""
metrics:
  scrape_interval: 200ms
  scrape_timeout: 100ms
scrape_configs:
  - job_name: ai-shifu-api
    kubernetes_sd_configs:
      - role: pod
        api_server: {standin.url}
        bearer_token_file: {token_file}
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_label_app]
        action: keep
        regex: ai-shifu-api
      - source_labels: [__meta_kubernetes_pod_label_tenant]
        target_label: tenant_bid
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: ([^:]+)(?::\\d+)?;(\\d+)
        replacement: $1:$2
        target_label: __address__
  - job_name: from-file
    file_sd_configs:
      - files: [{sd_file.name}]
"""


def shifu(name: str, tenant: str, port: int) -> dict[str, object]:
    return pod(
        name,
        namespace="ai-shifu",
        ip="127.0.0.1",
        labels={"app": "ai-shifu-api", "tenant": tenant},
        annotations={"prometheus.io/port": str(port)},
    )


async def eventually(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


def scraped(metrics: MetricsRuntime, **labels: str) -> bool:
    matchers = [Matcher.of("__name__", "=", "ai_shifu_requests_total")]
    matchers += [Matcher.of(k, "=", v) for k, v in labels.items()]
    return bool(metrics.store.select(matchers, 0, 2**62))


def addresses(metrics: MetricsRuntime, job: str) -> set[str]:
    return {t.address for t in metrics.scrapes.targets if t.job == job}


async def test_discovered_pods_and_files_are_scraped_and_follow_changes(
    tmp_path: Path, targets: list[int]
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    sd_file = tmp_path / "targets.json"
    sd_file.write_text(
        jsonio.dumps([{"targets": [f"127.0.0.1:{targets[2]}"], "labels": {"team": "ops"}}])
    )
    async with running_standin() as standin:
        standin.add("pods", shifu("api-a", "acme", targets[0]))
        standin.add("pods", pod("web", namespace="ai-shifu", ip="127.0.0.1", labels={"app": "web"}))
        config = parse_config(config_text(standin, token_file, sd_file), "tw.yml", {})
        metrics = build_metrics(tmp_path / "data", config, TierCatalog(), config_dir=tmp_path)
        assert metrics.discovery is not None
        metrics.discovery.debounce = 0.05
        await metrics.start()
        try:
            await eventually(lambda: scraped(metrics, tenant_bid="acme", tenant="acme"), "pod a")
            assert addresses(metrics, "ai-shifu-api") == {f"127.0.0.1:{targets[0]}"}  # web kept out
            await eventually(lambda: scraped(metrics, team="ops", tenant="initech"), "file")

            standin.add("pods", shifu("api-b", "globex", targets[1]))
            await eventually(lambda: scraped(metrics, tenant_bid="globex"), "pod b")
            standin.delete("pods", "ai-shifu/api-a")
            await eventually(
                lambda: addresses(metrics, "ai-shifu-api") == {f"127.0.0.1:{targets[1]}"},
                "pod a gone",
            )
            sd_file.write_text(jsonio.dumps([{"targets": [], "labels": {}}]))
            await eventually(lambda: not addresses(metrics, "from-file"), "file emptied")
        finally:
            await metrics.stop()
