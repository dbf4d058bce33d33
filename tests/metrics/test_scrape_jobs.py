"""Scrape jobs against real loopback targets: relabelled targets, metric_relabel_configs,
every per-scrape limit, target_limit, the tenant series cap, and target group updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest

from tenantwatch.config.model import Config
from tenantwatch.configuration import parse_config
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.admission import series_gate
from tenantwatch.metrics.limits import SeriesLimits
from tenantwatch.metrics.scrape import ScrapeLoop, ScrapeManager, ScrapeReport
from tenantwatch.metrics.scrape_metrics import ScrapeCollector
from tenantwatch.metrics.scrape_targets import ScrapeJob
from tenantwatch.metrics.store import MetricStore
from tenantwatch.metrics.target_groups import TargetGroup
from tenantwatch.promql.model import is_stale
from tests.metrics.test_scrape import Exporter, Ticking, all_labels, values

Serve = Callable[[], Awaitable[Exporter]]
BODY = (
    "# TYPE http_requests_total counter\n"
    'http_requests_total{code="200"} 10\n'
    'http_requests_total{code="500"} 2\n'
    "go_goroutines 12\n"
)


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def start() -> Exporter:
        exporter = Exporter()
        exporter.body = BODY
        app = web.Application()
        app.router.add_get("/metrics", exporter.handle)
        app.router.add_get("/probe", exporter.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        exporter.url = f"127.0.0.1:{port}"
        runners.append(runner)
        return exporter

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
def store() -> MetricStore:
    s = MetricStore(None)
    s.open()
    return s


def config(text: str) -> Config:
    return parse_config(
        "tenants:\n  - {id: acme, name: Acme, tier: basic}\n"
        "  - {id: globex, name: Globex, tier: basic}\n" + text,
        "tw.yml",
        {},
    )


def jobs(text: str) -> list[ScrapeJob]:
    c = config(text)
    return [ScrapeJob.of(j, c.metrics) for j in c.scrape_configs]


def exposed(manager: ScrapeManager) -> str:
    """The manager's own metrics, as /metrics shows them."""
    registry = CollectorRegistry()
    registry.register(ScrapeCollector(manager))
    return generate_latest(registry).decode()


async def scrape_all(manager: ScrapeManager) -> list[ScrapeReport]:
    return [await loop.scrape_once() for loop in manager.loops()]


@pytest.fixture
async def running() -> AsyncIterator[Callable[..., Awaitable[ScrapeManager]]]:
    """A started manager whose loops the test drives with scrape_once."""
    managers: list[ScrapeManager] = []

    async def start(store: MetricStore, job_list: list[ScrapeJob], **kw: object) -> ScrapeManager:
        kw.setdefault("clock", Ticking())  # each scrape at its own time
        manager = ScrapeManager(store, jobs=job_list, **kw)  # type: ignore[arg-type]
        await manager.start()
        managers.append(manager)
        return manager

    yield start
    for manager in managers:
        await manager.stop()


# the loops' own schedule is a year away: the tests drive every scrape
YEARLY = "    scrape_interval: 1y\n    scrape_timeout: 10s\n"


# -- relabel_configs -----------------------------------------------------------------------


async def test_relabelled_targets_are_scraped_with_their_new_labels_and_dropped_ones_are_kept(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    shop, admin = await serve(), await serve()
    manager = await running(
        store,
        jobs(
            "scrape_configs:\n  - job_name: app\n" + YEARLY + "    static_configs:\n"
            f"      - targets: ['{shop.url}']\n        labels: {{__meta_tenant: acme, role: shop}}\n"
            f"      - targets: ['{admin.url}']\n        labels: {{role: admin}}\n"
            "    relabel_configs:\n"
            "      - source_labels: [role]\n        regex: shop\n        action: keep\n"
            "      - source_labels: [__meta_tenant]\n        target_label: tenant\n"
            "      - source_labels: [__address__]\n        regex: '([^:]+):.*'\n"
            "        target_label: host\n"
        ),
    )
    [report] = await scrape_all(manager)
    assert report.up
    [labels, _] = sorted(all_labels(store, "http_requests_total"))
    assert dict(labels) == {
        "__name__": "http_requests_total",
        "code": "200",
        "host": "127.0.0.1",
        "instance": shop.url,
        "job": "app",
        "role": "shop",
        "tenant": "acme",
    }
    assert admin.requests == []
    [dropped] = manager.dropped()
    assert dict(dropped.discovered)["__address__"] == admin.url
    assert dict(dropped.discovered)["role"] == "admin"
    assert 'tenantwatch_scrape_targets_dropped{job="app"} 1.0' in exposed(manager)


async def test_relabelling_the_address_path_and_params_sends_the_scrape_there(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    prober = await serve()
    manager = await running(
        store,
        jobs(
            "scrape_configs:\n  - job_name: blackbox\n" + YEARLY + "    metrics_path: /probe\n"
            "    params: {module: [http_2xx]}\n"
            "    static_configs: [{targets: ['example.com:443']}]\n"
            "    relabel_configs:\n"
            "      - {source_labels: [__address__], target_label: __param_target}\n"
            "      - {source_labels: [__param_target], target_label: instance}\n"
            f"      - {{target_label: __address__, replacement: '{prober.url}'}}\n"
        ),
    )
    [report] = await scrape_all(manager)
    assert report.up
    [request] = prober.requests
    assert request.path == "/probe"
    assert dict(request.query) == {"module": "http_2xx", "target": "example.com:443"}
    assert values(store, "up", instance="example.com:443") == [1.0]


# -- metric_relabel_configs ----------------------------------------------------------------


async def test_metric_relabel_configs_drop_and_rewrite_scraped_series(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    exporter = await serve()
    manager = await running(
        store,
        jobs(
            "scrape_configs:\n  - job_name: app\n"
            + YEARLY
            + f"    static_configs: [{{targets: ['{exporter.url}'], labels: {{tenant: acme}}}}]\n"
            "    metric_relabel_configs:\n"
            "      - {source_labels: [__name__], regex: 'go_.*', action: drop}\n"
            "      - {source_labels: [tenant, code], separator: '-', target_label: key}\n"
        ),
    )
    for _ in range(2):  # the second from the scrape cache
        [report] = await scrape_all(manager)
        assert (report.scraped, report.post_relabel) == (3, 2)
    assert all_labels(store, "go_goroutines") == []
    keys = sorted(dict(labels)["key"] for labels in all_labels(store, "http_requests_total"))
    assert keys == ["acme-200", "acme-500"]
    assert values(store, "scrape_samples_scraped") == [3.0, 3.0]
    assert values(store, "scrape_samples_post_metric_relabeling") == [2.0, 2.0]
    assert values(store, "scrape_series_added") == [2.0, 0.0]


# -- limits --------------------------------------------------------------------------------

# each with what Prometheus reports for the failed scrape: samples scraped, samples kept
# after metric relabelling, series "added" (within the sample limit, though not stored)
LIMITS = [
    ("sample_limit: 2", "sample limit exceeded", (3, 3, 2)),
    (
        "label_limit: 3",
        "label_limit exceeded (metric: http_requests_total, number of labels: 4, limit: 3)",
        (1, 0, 0),  # Prometheus stops at the first series over a label limit
    ),
    (
        "label_name_length_limit: 7",
        "label_name_length_limit exceeded (metric: http_requests_total, label name: __name__, "
        "length: 8, limit: 7)",
        (1, 0, 0),
    ),
    (
        "label_value_length_limit: 18",
        "label_value_length_limit exceeded (metric: http_requests_total, label name: __name__, "
        'value: "http_requests_total", length: 19, limit: 18)',
        (1, 0, 0),
    ),
    ("body_size_limit: 64B", "body size limit exceeded", (0, 0, 0)),
]


@pytest.mark.parametrize(("limit", "message", "counts"), LIMITS)
async def test_a_scrape_over_a_limit_fails_whole_with_prometheus_message(
    serve: Serve,
    store: MetricStore,
    running: Callable[..., Awaitable[ScrapeManager]],
    limit: str,
    message: str,
    counts: tuple[int, int, int],
) -> None:
    exporter = await serve()
    manager = await running(
        store,
        jobs(
            "scrape_configs:\n  - job_name: app\n" + YEARLY + f"    {limit}\n"
            f"    static_configs: [{{targets: ['{exporter.url}']}}]\n"
        ),
    )
    [report] = await scrape_all(manager)
    assert not report.up
    assert report.error == message
    assert all_labels(store, "http_requests_total") == []
    assert all_labels(store, "go_goroutines") == []
    assert values(store, "up") == [0.0]
    reported = (
        values(store, "scrape_samples_scraped")
        + values(store, "scrape_samples_post_metric_relabeling")
        + values(store, "scrape_series_added")
    )
    assert tuple(reported) == counts


async def test_a_limit_under_metrics_is_every_job_default_and_a_job_overrides_it(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    a, b = await serve(), await serve()
    manager = await running(
        store,
        jobs(
            "metrics: {sample_limit: 2}\nscrape_configs:\n"
            "  - job_name: strict\n" + YEARLY + f"    static_configs: [{{targets: ['{a.url}']}}]\n"
            "  - job_name: roomy\n" + YEARLY + "    sample_limit: 0\n"
            f"    static_configs: [{{targets: ['{b.url}']}}]\n"
        ),
    )
    reports = {r.target.job: r for r in await scrape_all(manager)}
    assert reports["strict"].error == "sample limit exceeded"
    assert reports["roomy"].up


async def test_over_the_sample_limit_after_good_scrapes_the_series_go_stale(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    exporter = await serve()
    manager = await running(
        store,
        jobs(
            "scrape_configs:\n  - job_name: app\n" + YEARLY + "    sample_limit: 3\n"
            f"    static_configs: [{{targets: ['{exporter.url}']}}]\n"
        ),
    )
    [loop] = manager.loops()
    assert (await loop.scrape_once()).up
    exporter.body = BODY + "extra 1\n"
    failed = await loop.scrape_once()
    assert failed.error == "sample limit exceeded"
    assert (failed.scraped, failed.post_relabel) == (4, 4)
    assert is_stale(values(store, "go_goroutines")[-1])
    assert all_labels(store, "extra") == []
    assert values(store, "scrape_samples_scraped") == [3.0, 4.0]


async def test_over_target_limit_every_target_of_the_job_fails_without_being_asked(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    a, b = await serve(), await serve()
    manager = await running(
        store,
        jobs(
            "scrape_configs:\n  - job_name: app\n" + YEARLY + "    target_limit: 1\n"
            f"    static_configs: [{{targets: ['{a.url}', '{b.url}']}}]\n"
        ),
    )
    reports = await scrape_all(manager)
    assert [r.error for r in reports] == [
        "target_limit exceeded (number of targets: 2, limit: 1)"
    ] * 2
    assert a.requests == b.requests == []
    # one target fewer (discovery, or a reload): the job is within its limit again
    [job] = manager.jobs
    await manager.update_groups("app", [])
    await manager.set_jobs(
        jobs(
            "scrape_configs:\n  - job_name: app\n" + YEARLY + "    target_limit: 1\n"
            f"    static_configs: [{{targets: ['{a.url}']}}]\n"
        )
    )
    assert job.name == "app"
    [report] = await scrape_all(manager)
    assert report.up


# -- the tenant series cap -----------------------------------------------------------------


async def test_new_series_over_the_tenant_cap_are_refused_and_shown_on_the_target(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    capped, other = await serve(), await serve()
    limits = SeriesLimits(TierCatalog(), default=1000, overrides={"acme": 2})
    limits.update({"acme": "basic", "globex": "basic"})
    manager = await running(
        store,
        jobs(
            "scrape_configs:\n  - job_name: app\n" + YEARLY + "    static_configs:\n"
            f"      - targets: ['{capped.url}']\n        labels: {{tenant: acme}}\n"
            f"      - targets: ['{other.url}']\n        labels: {{tenant: globex}}\n"
        ),
        gate=series_gate(limits, store.head),
    )
    for _ in range(2):
        reports = {dict(r.target.labels)["tenant"]: r for r in await scrape_all(manager)}
        acme = reports["acme"]
        assert acme.up and acme.refused == 1
        assert acme.warning is not None
        assert acme.warning.startswith("per-tenant series limit of 2 exceeded for tenant 'acme'")
        assert reports["globex"].up and reports["globex"].refused == 0
    # acme's first two series fit; go_goroutines does not (the report series, up and
    # scrape_*, are always written, as a target's health must show)
    assert [dict(labels)["tenant"] for labels in all_labels(store, "go_goroutines")] == ["globex"]
    assert len(all_labels(store, "http_requests_total")) == 4
    assert values(store, "up", tenant="acme") == [1.0, 1.0]
    assert 'tenantwatch_scrape_series_refused_total{job="app"} 2.0' in exposed(manager)


# -- target groups from discovery ----------------------------------------------------------


async def test_group_updates_keep_unchanged_targets_loops_and_stale_removed_ones(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    static, pod_a, pod_b = await serve(), await serve(), await serve()
    manager = await running(
        store,
        jobs(
            "scrape_configs:\n  - job_name: app\n"
            + YEARLY
            + f"    static_configs: [{{targets: ['{static.url}']}}]\n"
            "    relabel_configs:\n"
            "      - {source_labels: [__meta_pod], target_label: pod}\n"
        ),
    )

    def group(*pods: tuple[str, str, str]) -> TargetGroup:
        return TargetGroup(
            "k8s/pods",
            tuple(
                (("__address__", url), ("__meta_pod", name), ("__meta_rev", rev))
                for url, name, rev in pods
            ),
        )

    await manager.update_groups("app", [group((pod_a.url, "a", "1"), (pod_b.url, "b", "1"))])
    assert len(manager.loops()) == 3
    await scrape_all(manager)
    by_url = {loop.target.address: loop for loop in manager.loops()}
    # pod a's discovered labels change but not its labels or URL; pod b is gone
    await manager.update_groups("app", [group((pod_a.url, "a", "2"))])
    after = {loop.target.address: loop for loop in manager.loops()}
    assert set(after) == {static.url, pod_a.url}
    assert after[pod_a.url] is by_url[pod_a.url]
    assert after[static.url] is by_url[static.url]
    assert dict(after[pod_a.url].target.discovered)["__meta_rev"] == "2"
    assert is_stale(values(store, "up", pod="b")[-1])
    assert values(store, "up", pod="a") == [1.0]
    # a group without targets removes its source
    await manager.update_groups("app", [TargetGroup("k8s/pods", ())])
    assert [loop.target.address for loop in manager.loops()] == [static.url]
    await manager.update_groups("gone", [group((pod_a.url, "a", "3"))])  # no such job
    assert len(manager.loops()) == 1


async def test_set_jobs_keeps_unchanged_targets_and_restarts_changed_ones_without_stale_markers(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    a, b = await serve(), await serve()
    first = (
        "scrape_configs:\n  - job_name: app\n"
        + YEARLY
        + f"    static_configs: [{{targets: ['{a.url}', '{b.url}']}}]\n"
    )
    manager = await running(store, jobs(first))
    await scrape_all(manager)
    loops = {loop.target.address: loop for loop in manager.loops()}
    # b gets a sample_limit (a new loop writing the same series); a is untouched
    await manager.set_jobs(
        jobs(
            first
            + "  - job_name: other\n"
            + YEARLY
            + f"    static_configs: [{{targets: ['{b.url}']}}]\n"
        )
    )
    await manager.set_jobs(
        jobs(
            "scrape_configs:\n  - job_name: app\n"
            + YEARLY
            + f"    static_configs: [{{targets: ['{a.url}']}}]\n"
            "  - job_name: app2\n" + YEARLY + "    sample_limit: 100\n"
            f"    static_configs: [{{targets: ['{b.url}']}}]\n"
        )
    )
    now = {(loop.target.job, loop.target.address): loop for loop in manager.loops()}
    assert now[("app", a.url)] is loops[a.url]
    assert set(now) == {("app", a.url), ("app2", b.url)}
    assert is_stale(values(store, "up", job="app", instance=b.url)[-1])
    assert not any(is_stale(v) for v in values(store, "up", job="app", instance=a.url))


async def test_a_loop_keeps_its_cache_when_its_target_is_kept(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    exporter = await serve()
    text = (
        "scrape_configs:\n  - job_name: app\n"
        + YEARLY
        + f"    static_configs: [{{targets: ['{exporter.url}']}}]\n"
    )
    manager = await running(store, jobs(text))
    [loop] = manager.loops()
    await loop.scrape_once()
    cache = loop.cache
    await manager.set_jobs(jobs(text))
    [same] = manager.loops()
    assert same is loop and same.cache is cache
    assert (await same.scrape_once()).added == 0
    await asyncio.sleep(0)
    assert isinstance(same, ScrapeLoop)


async def test_a_target_whose_interval_or_sample_limit_changes_keeps_its_scrape_cache(
    serve: Serve, store: MetricStore, running: Callable[..., Awaitable[ScrapeManager]]
) -> None:
    exporter = await serve()

    def text(extra: str) -> str:
        return (
            "scrape_configs:\n  - job_name: app\n"
            + YEARLY
            + extra
            + f"    static_configs: [{{targets: ['{exporter.url}']}}]\n"
        )

    manager = await running(store, jobs(text("")))
    [loop] = manager.loops()
    await loop.scrape_once()
    await manager.set_jobs(jobs(text("    sample_limit: 100\n")))
    [limited] = manager.loops()
    assert limited is not loop and limited.cache is loop.cache  # as Prometheus' reload
    report = await limited.scrape_once()
    assert report.up and report.added == 0
    await manager.set_jobs(jobs(text("    sample_limit: 2\n")))
    [tight] = manager.loops()
    assert (await tight.scrape_once()).error == "sample limit exceeded"
    # other metric relabelling maps the same body to other series: a cache of its own
    relabelled = "    metric_relabel_configs: [{action: labeldrop, regex: code}]\n"
    await manager.set_jobs(jobs(text(relabelled)))
    [fresh] = manager.loops()
    assert fresh.cache is not tight.cache
    assert not any(is_stale(v) for v in values(store, "up"))
