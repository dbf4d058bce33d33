"""The same scrape config in Prometheus (Debian's 2.42) and in tenantwatch: the same targets
from relabelling (labels, URL, discovered and dropped labels), and the same series from
metric_relabel_configs, against one loopback exporter."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from tenantwatch.configuration import parse_config
from tenantwatch.metrics.scrape import ScrapeManager
from tenantwatch.metrics.scrape_targets import ScrapeJob, job_targets
from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.model import Matcher
from tests.prometheus_server import prometheus

SCRAPED = '{{instance="{}",__name__!~"up|scrape_.*"}}'
BODY = (
    "# TYPE http_requests_total counter\n"
    'http_requests_total{code="200",path="/a"} 10\n'
    'http_requests_total{code="500",path="/a"} 2\n'
    'http_requests_total{code="200",path="/b",tenant="spoofed"} 4\n'
    "go_goroutines 12\n"
    'process_info{version="1.2",pod_template_hash="abc"} 1\n'
)


def jobs(exporter: str) -> list[dict[str, Any]]:
    """Relabelling with most actions, over targets that do and do not exist."""
    return [
        {
            "job_name": "app",
            "scrape_interval": "1s",
            "scrape_timeout": "500ms",
            "params": {"module": ["a", "b"], "x": ["1"]},
            "static_configs": [
                {
                    "targets": [exporter, "10.0.0.9:9100"],
                    "labels": {"__meta_role": "Web", "__meta_tenant_bid": "acme", "zone": "z1"},
                },
                {"targets": ["10.0.0.10:9100"], "labels": {"__meta_role": "db"}},
                {"targets": ["10.0.0.11:9100"], "labels": {"__meta_role": "web"}},
            ],
            "relabel_configs": [
                {"source_labels": ["__meta_role"], "target_label": "role", "action": "lowercase"},
                {"source_labels": ["role"], "regex": "web", "action": "keep"},
                {"source_labels": ["__meta_tenant_bid"], "target_label": "tenant"},
                {"action": "labelmap", "regex": "__meta_(role)", "replacement": "orig_$1"},
                {
                    "source_labels": ["__address__"],
                    "modulus": 4,
                    "target_label": "shard",
                    "action": "hashmod",
                },
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["zone"], "regex": "(.+)", "target_label": "__tmp_zone"},
                {"source_labels": ["__tmp_zone"], "target_label": "az", "replacement": "az-$1"},
                # the exporter is kept whatever its port's shard
                {"source_labels": ["shard", "__address__"], "regex": "3;10[.].*", "action": "drop"},
            ],
            "metric_relabel_configs": [
                {"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"},
                {
                    "source_labels": ["code"],
                    "regex": "5..",
                    "target_label": "error",
                    "replacement": "yes",
                },
                {"action": "labeldrop", "regex": "pod_template_hash"},
                {
                    "source_labels": ["exported_tenant", "tenant"],
                    "separator": "/",
                    "target_label": "both",
                },
            ],
        }
    ]


@pytest.fixture
async def exporter() -> AsyncIterator[str]:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text=BODY, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await runner.cleanup()


REPORTED = (
    "up",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
)


def reported_by_prometheus(url: str, name: str) -> dict[str, float]:
    """The value of a report series at Prometheus' first scrape, by job (ours scraped
    once; on a loaded machine Prometheus may have scraped again, and scrape_series_added
    differs between a first scrape and the next)."""
    found = get(url + "/api/v1/query?" + urllib.parse.urlencode({"query": name + "[10m]"}))
    return {r["metric"]["job"]: float(r["values"][0][1]) for r in found["result"]}


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return json.load(response)["data"]


def ours(exporter: str) -> ScrapeJob:
    config = parse_config(yaml.safe_dump({"scrape_configs": jobs(exporter)}), "tw.yml", {})
    return ScrapeJob.of(config.scrape_configs[0], config.metrics)


async def test_targets_and_metric_relabelling_match_prometheus(
    tmp_path: Path, exporter: str
) -> None:
    job = ours(exporter)
    active, dropped = job_targets(job, job.static_groups)
    store = MetricStore(None)
    store.open()
    manager = ScrapeManager(store, jobs=[job])
    await manager.start()
    try:
        with prometheus(tmp_path, config={"scrape_configs": jobs(exporter)}) as server:
            deadline = time.monotonic() + 30
            while True:
                found = await asyncio.to_thread(
                    get,
                    server.url
                    + "/api/v1/series?"
                    + urllib.parse.urlencode({"match[]": SCRAPED.format(exporter)}),
                )
                if len(found) == 4 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.3)
            theirs = await asyncio.to_thread(get, server.url + "/api/v1/targets")
        for loop in manager.loops():
            if loop.target.address == exporter:
                await loop.scrape_once()
    finally:
        await manager.stop()

    def active_view(labels: dict[str, str], url: str, discovered: dict[str, str]) -> Any:
        return (sorted(labels.items()), url, sorted(discovered.items()))

    assert sorted(
        active_view(t["labels"], t["scrapeUrl"], t["discoveredLabels"])
        for t in theirs["activeTargets"]
    ) == sorted(active_view(dict(t.labels), t.url, dict(t.discovered)) for t in active)
    assert sorted(sorted(t["discoveredLabels"].items()) for t in theirs["droppedTargets"]) == (
        sorted(sorted(dict(t.discovered).items()) for t in dropped)
    )
    # the series one scrape stored, against Prometheus'
    matchers = [
        Matcher.of("__name__", "!~", "up|scrape_.*"),
        Matcher.of("instance", "=", exporter),
    ]
    stored = {s.labels for s in store.select(matchers, 0, 2**62)}
    assert stored == {tuple(sorted(series.items())) for series in found}
    assert len(stored) == 4  # go_goroutines dropped


async def test_a_scrape_over_a_limit_fails_with_prometheus_error_and_report(
    tmp_path: Path, exporter: str
) -> None:
    limits = {
        "samples": {"sample_limit": 3},
        "labels": {"label_limit": 4},
        "names": {"label_name_length_limit": 7},
        "values": {"label_value_length_limit": 12},
        "body": {"body_size_limit": "100B"},
    }
    scrape_configs = [
        {
            "job_name": name,
            "scrape_interval": "1s",
            "scrape_timeout": "500ms",
            "static_configs": [{"targets": [exporter]}],
            **limit,
        }
        for name, limit in limits.items()
    ]
    config = parse_config(yaml.safe_dump({"scrape_configs": scrape_configs}), "tw.yml", {})
    store = MetricStore(None)
    store.open()
    manager = ScrapeManager(
        store, jobs=[ScrapeJob.of(j, config.metrics) for j in config.scrape_configs]
    )
    await manager.start()
    try:
        ours = {loop.target.job: (await loop.scrape_once()).error for loop in manager.loops()}
    finally:
        await manager.stop()
    with prometheus(tmp_path, config={"scrape_configs": scrape_configs}) as server:
        deadline = time.monotonic() + 30
        while True:
            targets = await asyncio.to_thread(get, server.url + "/api/v1/targets")
            theirs = {t["scrapePool"]: t["lastError"] for t in targets["activeTargets"]}
            if (len(theirs) == len(limits) and all(theirs.values())) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
        theirs_reported = {
            name: await asyncio.to_thread(reported_by_prometheus, server.url, name)
            for name in REPORTED
        }
    assert ours == theirs
    ours_reported = {
        name: {
            dict(series.labels)["job"]: float(series.vals[-1])
            for series in store.select([Matcher.of("__name__", "=", name)], 0, 2**62)
        }
        for name in REPORTED
    }
    assert ours_reported == theirs_reported
