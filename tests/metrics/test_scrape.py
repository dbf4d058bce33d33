"""Scraping real HTTP servers on loopback: headers, auth, formats, failures, staleness."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tenantwatch import __version__
from tenantwatch.configuration import parse_config
from tenantwatch.metrics.http_auth import HttpAuth
from tenantwatch.metrics.scrape import ScrapeLoop, ScrapeManager
from tenantwatch.metrics.scrape_labels import ACCEPT_HEADER, target_labels
from tenantwatch.metrics.scrape_targets import ScrapeTarget, targets_from_config
from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.model import Matcher, is_stale
from tenantwatch.types import Labels

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Exporter:
    """A metrics endpoint whose body, status and delay a test changes as it goes."""

    def __init__(self) -> None:
        self.body = "up_and_running 1\n"
        self.content_type = "text/plain; version=0.0.4; charset=utf-8"
        self.status = 200
        self.delay = 0.0
        self.gzip = False
        self.requests: list[web.Request] = []
        self.url = ""
        self.released = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        if self.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.released.wait(), self.delay)
        data = self.body.encode()
        headers = {"Content-Type": self.content_type}
        if self.gzip:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=data, status=self.status, headers=headers)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[], Awaitable[Exporter]]]:
    runners: list[web.AppRunner] = []
    exporters: list[Exporter] = []

    async def start() -> Exporter:
        exporter = Exporter()
        app = web.Application()
        app.router.add_get("/metrics", exporter.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        exporter.url = f"127.0.0.1:{port}"
        runners.append(runner)
        exporters.append(exporter)
        return exporter

    yield start
    for exporter in exporters:
        exporter.released.set()
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
def store() -> MetricStore:
    s = MetricStore(None)
    s.open()
    return s


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def target(address: str, **kw: object) -> ScrapeTarget:
    options: dict[str, object] = {"interval_s": 15.0, "timeout_s": 5.0}
    options.update(kw)
    return ScrapeTarget(
        job="app",
        address=address,
        url=f"http://{address}/metrics",
        labels=target_labels("app", address, {"tenant": "acme"}),
        **options,  # type: ignore[arg-type]
    )


class Ticking:
    """A clock 15 s further on at every reading, so each scrape has its own timestamp."""

    def __init__(self) -> None:
        self.now = time.time() - 3600

    def __call__(self) -> float:
        self.now += 15
        return self.now


def points(store: MetricStore, name: str, **labels: str) -> list[tuple[int, float]]:
    matchers = [Matcher.of("__name__", "=", name)]
    matchers += [Matcher.of(k, "=", v) for k, v in labels.items()]
    found = store.select(matchers, 0, 2**62)
    assert len(found) <= 1, [s.labels for s in found]
    if not found:
        return []
    return [(int(t), float(v)) for t, v in zip(found[0].ts, found[0].vals, strict=True)]


def values(store: MetricStore, name: str, **labels: str) -> list[float]:
    return [v for _, v in points(store, name, **labels)]


def all_labels(store: MetricStore, name: str) -> list[Labels]:
    return [s.labels for s in store.select([Matcher.of("__name__", "=", name)], 0, 2**62)]


# --- one scrape -------------------------------------------------------------------------


async def test_a_scrape_stores_samples_with_target_labels_and_report_series(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    exporter.body = '# TYPE jobs_total counter\njobs_total{queue="mail"} 42\nqueue_depth 3\n'
    before = time.time()
    report = await ScrapeLoop(target(exporter.url), store, session).scrape_once()
    assert report.up and report.error is None
    assert report.scraped == 2
    [labels] = all_labels(store, "jobs_total")
    assert dict(labels) == {
        "__name__": "jobs_total",
        "queue": "mail",
        "job": "app",
        "instance": exporter.url,
        "tenant": "acme",
    }
    [(t, v)] = points(store, "jobs_total")
    assert v == 42.0
    assert before * 1000 - 1 <= t <= time.time() * 1000
    assert values(store, "up", instance=exporter.url) == [1.0]
    assert values(store, "scrape_samples_scraped") == [2.0]
    assert values(store, "scrape_samples_post_metric_relabeling") == [2.0]
    assert values(store, "scrape_series_added") == [2.0]
    [duration] = values(store, "scrape_duration_seconds")
    assert 0 < duration < 5


async def test_a_scrape_sends_prometheus_headers(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    await ScrapeLoop(target(exporter.url, timeout_s=7.5), store, session).scrape_once()
    [request] = exporter.requests
    assert request.headers["Accept"] == ACCEPT_HEADER
    assert request.headers["User-Agent"] == f"tenantwatch/{__version__}"
    assert request.headers["X-Prometheus-Scrape-Timeout-Seconds"] == "7.5"
    assert "gzip" in request.headers["Accept-Encoding"]
    assert "Authorization" not in request.headers


@pytest.mark.parametrize(
    ("auth", "header"),
    [
        (HttpAuth("Basic", username="scraper", secret="pa:ss"), "Basic c2NyYXBlcjpwYTpzcw=="),
        (HttpAuth("Bearer", secret="tok-1"), "Bearer tok-1"),
    ],
)
async def test_a_scrape_sends_credentials(
    serve: Callable[[], Awaitable[Exporter]],
    store: MetricStore,
    session: aiohttp.ClientSession,
    auth: HttpAuth,
    header: str,
) -> None:
    exporter = await serve()
    await ScrapeLoop(target(exporter.url, auth=auth), store, session).scrape_once()
    assert exporter.requests[0].headers["Authorization"] == header


async def test_a_credentials_file_is_read_at_every_scrape(
    serve: Callable[[], Awaitable[Exporter]],
    store: MetricStore,
    session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    exporter = await serve()
    token = tmp_path / "token"
    token.write_text("first\n")
    loop = ScrapeLoop(
        target(exporter.url, auth=HttpAuth("Bearer", secret_file=token)),
        store,
        session,
        clock=Ticking(),
    )
    await loop.scrape_once()
    token.write_text("second")
    await loop.scrape_once()
    assert [r.headers["Authorization"] for r in exporter.requests] == [
        "Bearer first",
        "Bearer second",
    ]


async def test_a_missing_credentials_file_fails_the_scrape_without_sending_it(
    serve: Callable[[], Awaitable[Exporter]],
    store: MetricStore,
    session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    exporter = await serve()
    auth = HttpAuth("Bearer", secret_file=tmp_path / "missing")
    report = await ScrapeLoop(target(exporter.url, auth=auth), store, session).scrape_once()
    assert not report.up
    assert report.error is not None and "cannot read credentials file" in report.error
    assert exporter.requests == []
    assert values(store, "up") == [0.0]


async def test_config_credentials_reach_the_target(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    config = parse_config(
        "tenants:\n  - {id: acme, name: Acme, tier: basic}\n"
        "scrape_configs:\n"
        "  - job_name: api\n"
        "    basic_auth: {username: u, password: p}\n"
        "    params: {module: [http_2xx]}\n"
        "    static_configs:\n"
        f"      - targets: ['{exporter.url}']\n"
        "        labels: {tenant: acme}\n",
        "tw.yml",
        {},
    )
    [tgt] = targets_from_config(config.scrape_configs, config.metrics)
    assert tgt.url == f"http://{exporter.url}/metrics?module=http_2xx"
    assert "'p'" not in repr(tgt)
    await ScrapeLoop(tgt, store, session).scrape_once()
    request = exporter.requests[0]
    assert request.headers["Authorization"] == "Basic dTpw"
    assert request.query["module"] == "http_2xx"
    assert dict(all_labels(store, "up_and_running")[0])["tenant"] == "acme"


async def test_an_openmetrics_answer_is_parsed_as_openmetrics(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    exporter.content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    exporter.body = (
        "# TYPE requests counter\n"
        'requests_total{path="/"} 5 1700000000.250 # {trace_id="abc"} 1.0\n'
        "# EOF\n"
    )
    report = await ScrapeLoop(target(exporter.url), store, session).scrape_once()
    assert report.up, report.error
    assert points(store, "requests_total") == [(1_700_000_000_250, 5.0)]


async def test_openmetrics_without_eof_fails_the_scrape(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    exporter.content_type = "application/openmetrics-text; version=1.0.0"
    exporter.body = "# TYPE a gauge\na 1\n"
    report = await ScrapeLoop(target(exporter.url), store, session).scrape_once()
    assert not report.up
    assert report.error is not None and "# EOF" in report.error
    assert values(store, "a") == []


async def test_a_gzipped_answer_is_unpacked(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    exporter.gzip = True
    exporter.body = "".join(f'g{{i="{i}"}} {i}\n' for i in range(500))
    report = await ScrapeLoop(target(exporter.url), store, session).scrape_once()
    assert report.up and report.scraped == 500


async def test_an_error_status_gives_up_0_and_the_reason(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    exporter.status = 503
    report = await ScrapeLoop(target(exporter.url), store, session).scrape_once()
    assert not report.up
    assert report.error == "server returned HTTP status 503 Service Unavailable"
    assert values(store, "up") == [0.0]
    assert values(store, "scrape_samples_scraped") == [0.0]


async def test_a_refused_connection_gives_up_0(
    store: MetricStore, session: aiohttp.ClientSession
) -> None:
    from tests.support import free_port

    report = await ScrapeLoop(target(f"127.0.0.1:{free_port()}"), store, session).scrape_once()
    assert not report.up
    assert report.error is not None and "Connect" in report.error


async def test_a_malformed_body_gives_up_0_stores_nothing_and_names_the_line(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    exporter.body = "good 1\nalso_good 2\nbad{ 3\n"
    report = await ScrapeLoop(target(exporter.url), store, session).scrape_once()
    assert not report.up
    assert report.error is not None and report.error.startswith("line 3: ")
    assert values(store, "good") == []


async def test_a_series_that_disappears_gets_a_stale_marker(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    exporter.body = 'jobs{queue="a"} 1\njobs{queue="b"} 2\n'
    loop = ScrapeLoop(target(exporter.url), store, session, clock=Ticking())
    await loop.scrape_once()
    exporter.body = 'jobs{queue="a"} 1\n'
    report = await loop.scrape_once()
    assert report.stale == 1
    b = values(store, "jobs", queue="b")
    assert b[0] == 2.0 and is_stale(b[1])
    assert not any(is_stale(v) for v in values(store, "jobs", queue="a"))


async def test_a_failed_scrape_marks_the_previous_series_stale(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore, session: aiohttp.ClientSession
) -> None:
    exporter = await serve()
    exporter.body = "a 1\nb 2\n"
    loop = ScrapeLoop(target(exporter.url), store, session, clock=Ticking())
    await loop.scrape_once()
    exporter.status = 500
    await loop.scrape_once()
    for name in ("a", "b"):
        assert is_stale(values(store, name)[-1])
    assert values(store, "up") == [1.0, 0.0]


# --- the manager: timing and target changes ---------------------------------------------


async def test_a_slow_target_times_out_without_delaying_a_fast_one(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore
) -> None:
    fast, slow = await serve(), await serve()
    slow.delay = 30.0
    manager = ScrapeManager(
        store,
        [
            target(fast.url, interval_s=0.5, timeout_s=0.4),
            target(slow.url, interval_s=0.5, timeout_s=0.4),
        ],
    )
    await manager.start()
    try:
        await asyncio.sleep(2.6)
    finally:
        await manager.stop()
    fast_up = values(store, "up", instance=fast.url)
    slow_up = values(store, "up", instance=slow.url)
    # the fast target kept its 0.5 s schedule: 4 or 5 scrapes in 2.6 s, each up
    assert len(fast_up) >= 4 and set(fast_up) == {1.0}
    assert len(slow_up) >= 3 and set(slow_up) == {0.0}
    slow_durations = values(store, "scrape_duration_seconds", instance=slow.url)
    assert all(0.35 < d < 0.9 for d in slow_durations), slow_durations
    fast_times = [t for t, _ in points(store, "up", instance=fast.url)]
    gaps = [b - a for a, b in itertools.pairwise(fast_times)]
    assert all(350 <= g <= 850 for g in gaps), gaps


async def test_scrapes_keep_their_phase_within_the_interval(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore
) -> None:
    exporter = await serve()
    tgt = target(exporter.url, interval_s=0.4, timeout_s=0.3)
    manager = ScrapeManager(store, [tgt])
    await manager.start()
    try:
        await asyncio.sleep(1.5)
    finally:
        await manager.stop()
    from tenantwatch.metrics.scrape_labels import scrape_offset

    offset_ms = scrape_offset(tgt.key, 0.4) * 1000
    for t, _ in points(store, "up"):
        phase = t % 400
        assert min(abs(phase - offset_ms), 400 - abs(phase - offset_ms)) < 120


async def test_a_removed_target_gets_stale_markers_and_a_kept_one_continues(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore
) -> None:
    kept, removed = await serve(), await serve()
    kept.body = "k 1\n"
    removed.body = "r 1\n"
    kept_target = target(kept.url, interval_s=0.3, timeout_s=0.2)
    manager = ScrapeManager(
        store, [kept_target, target(removed.url, interval_s=0.3, timeout_s=0.2)]
    )
    await manager.start()
    try:
        await asyncio.sleep(0.8)
        loop_before = manager.loops()[0]
        await manager.apply([kept_target])
        assert manager.targets == [kept_target]
        assert manager.loops()[0] is loop_before
        assert is_stale(values(store, "r")[-1])
        assert is_stale(values(store, "up", instance=removed.url)[-1])
        count = len(values(store, "k"))
        await asyncio.sleep(0.7)
        assert len(values(store, "k")) > count
    finally:
        await manager.stop()
    assert not any(is_stale(v) for v in values(store, "k"))


async def test_stopping_the_manager_writes_no_stale_markers(
    serve: Callable[[], Awaitable[Exporter]], store: MetricStore
) -> None:
    exporter = await serve()
    manager = ScrapeManager(store, [target(exporter.url, interval_s=0.3, timeout_s=0.2)])
    await manager.start()
    await asyncio.sleep(0.7)
    await manager.stop()
    assert values(store, "up_and_running")
    assert not any(is_stale(v) for v in values(store, "up_and_running"))
