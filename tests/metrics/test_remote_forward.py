"""RemoteWriteForwarder: batching, retries and drops on loopback, and a real Prometheus."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import structlog
from aiohttp import web

from tenantwatch.metrics.remote import BasicAuth, RemoteBackend
from tenantwatch.metrics.remote_forward import (
    Outcome,
    RemoteWriteForwarder,
    backoff_delay,
    build_write_request,
    classify,
    retry_after_seconds,
)
from tenantwatch.metrics.remote_write import decode_write_request
from tenantwatch.promql.model import Matcher, MatrixResult, PromQLError, VectorResult
from tenantwatch.types import Labels
from tests.prometheus_server import PrometheusServer, prometheus
from tests.support import free_port

ACME = [Matcher.of("tenant", "=", "acme")]


def series(name: str, **labels: str) -> Labels:
    return tuple(sorted({"__name__": name, **labels}.items()))


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def run_until(
    forwarder: RemoteWriteForwarder, check: Callable[[], bool], seconds: float = 10.0
) -> None:
    """Run the forwarder until check() holds, then stop it and wait for it to return."""
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.run(stop))
    try:
        await until(check, seconds)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


# ---------------------------------------------------------------- pure parts


def test_samples_are_grouped_per_series_in_time_order() -> None:
    a, b = series("x", tenant="a"), series("x", tenant="b")

    request = build_write_request([(a, 2000, 2.0), (b, 1000, 9.0), (a, 1000, 1.0)])

    assert [(ts.labels, ts.samples) for ts in request] == [
        (a, ((1000, 1.0), (2000, 2.0))),
        (b, ((1000, 9.0),)),
    ]


def test_statuses_are_sent_retried_or_rejected() -> None:
    assert [classify(s) for s in (200, 204, 429, 500, 503, 400, 401, 404, 413)] == [
        Outcome.SENT,
        Outcome.SENT,
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.REJECT,
        Outcome.REJECT,
        Outcome.REJECT,
        Outcome.REJECT,
    ]


def test_backoff_doubles_up_to_the_cap_and_honours_retry_after() -> None:
    assert [backoff_delay(n, 0.1, 1.0) for n in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.8, 1.0]
    assert backoff_delay(1, 0.1, 1.0, retry_after=3.0) == 3.0
    assert backoff_delay(1, 0.1, 1.0, retry_after=999.0) == 10.0
    assert retry_after_seconds("7", now=0) == 7.0
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:30 GMT", now=10.0) == 20.0
    assert retry_after_seconds("soon", now=0) is None
    assert retry_after_seconds(None, now=0) is None


def test_batch_larger_than_the_queue_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        RemoteWriteForwarder("http://127.0.0.1:1/api/v1/write", batch_size=10, max_queue=5)


# ---------------------------------------------------------------- against a loopback server


class WriteRecorder:
    """A loopback remote-write endpoint answering the scripted statuses, then 204."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.headers: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        self.bodies.append(await request.read())
        status = self.statuses.pop(0) if self.statuses else 204
        return web.Response(status=status, text="out of order sample" if status == 400 else "")


@pytest.fixture
async def endpoint() -> AsyncIterator[WriteRecorder]:
    rec = WriteRecorder()
    app = web.Application()
    app.router.add_post("/api/v1/write", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rec.url = f"http://127.0.0.1:{port}/api/v1/write"
    yield rec
    await runner.cleanup()


async def test_server_errors_are_retried_until_the_batch_is_accepted(
    endpoint: WriteRecorder,
) -> None:
    endpoint.statuses = [503, 500, 429]
    forwarder = RemoteWriteForwarder(
        endpoint.url,
        BasicAuth("u", "p"),
        batch_size=3,
        flush_interval=0.05,
        min_backoff=0.01,
    )
    forwarder.enqueue_many((series("x", tenant="a"), 1000 * i, float(i)) for i in range(3))

    await run_until(forwarder, lambda: forwarder.stats.sent == 3)

    assert (forwarder.stats.retries, forwarder.stats.failed) == (3, 0)
    assert len(endpoint.bodies) == 4
    assert len(set(endpoint.bodies)) == 1  # the same batch each time
    [written] = decode_write_request(endpoint.bodies[-1])
    assert written.labels == series("x", tenant="a")
    assert written.samples == ((0, 0.0), (1000, 1.0), (2000, 2.0))
    sent = endpoint.headers[-1]
    assert sent["Content-Encoding"] == "snappy"
    assert sent["Content-Type"] == "application/x-protobuf"
    assert sent["X-Prometheus-Remote-Write-Version"] == "0.1.0"
    assert sent["Authorization"] == "Basic dTpw"


async def test_client_errors_drop_the_batch_with_a_logged_reason(endpoint: WriteRecorder) -> None:
    endpoint.statuses = [400]
    forwarder = RemoteWriteForwarder(endpoint.url, batch_size=2, flush_interval=0.05)
    forwarder.enqueue_many((series("x"), t, 1.0) for t in (1, 2, 3))

    with structlog.testing.capture_logs() as logs:
        await run_until(forwarder, lambda: forwarder.stats.sent + forwarder.stats.failed == 3)

    assert (forwarder.stats.failed, forwarder.stats.sent, forwarder.stats.retries) == (2, 1, 0)
    [rejected] = [e for e in logs if e["event"] == "remote_write_rejected"]
    assert rejected["reason"] == "HTTP 400: out of order sample"
    assert rejected["samples"] == 2


async def test_a_trickle_is_sent_every_flush_interval(endpoint: WriteRecorder) -> None:
    forwarder = RemoteWriteForwarder(endpoint.url, batch_size=1000, flush_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.run(stop))
    try:
        for t in range(3):
            forwarder.enqueue(series("x"), t, 1.0)
            await until(lambda n=t + 1: forwarder.stats.sent == n, 2.0)
    finally:
        stop.set()
        await task

    assert len(endpoint.bodies) == 3


async def test_unreachable_remote_gives_up_within_the_shutdown_grace() -> None:
    url = f"http://user:pw-in-url@127.0.0.1:{free_port()}/api/v1/write"
    forwarder = RemoteWriteForwarder(
        url, batch_size=10, flush_interval=0.05, min_backoff=0.01, shutdown_grace=0.5
    )
    forwarder.enqueue_many((series("x"), t, 1.0) for t in range(25))
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.run(stop))
    with structlog.testing.capture_logs() as logs:
        await until(lambda: forwarder.stats.retries >= 2)
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, 10)

    assert time.monotonic() - started < 3
    assert forwarder.stats.failed == 25 and forwarder.stats.sent == 0
    assert forwarder.queued == 0
    text = repr(logs)
    assert "unreachable" in text
    assert "pw-in-url" not in text


# ---------------------------------------------------------------- against a real Prometheus


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    work: Path = tmp_path_factory.mktemp("prometheus-rw")
    config = {"global": {"scrape_interval": "15s", "evaluation_interval": "1m"}}
    with prometheus(work, config=config, remote_write_receiver=True) as running:
        yield running


BASE = (int(time.time()) // 60 - 30) * 60_000  # a minute boundary 30 minutes ago, in ms


def at(seconds: float) -> int:
    return BASE + int(seconds * 1000) + 5


async def test_forwarded_samples_can_be_queried_back(receiver: PrometheusServer) -> None:
    forwarder = RemoteWriteForwarder(
        receiver.url + "/api/v1/write", batch_size=50, flush_interval=0.05
    )
    acme, globex = series("rw_cpu", tenant="acme", host="a"), series("rw_cpu", tenant="globex")
    for i in range(41):
        forwarder.enqueue(acme, BASE + i * 15_000, float(i))
        forwarder.enqueue(globex, BASE + i * 15_000, 100.0 + i)
    forwarder.enqueue(series("rw_mem", tenant="acme"), BASE, 5.0)

    await run_until(forwarder, lambda: forwarder.stats.sent == 83)

    async with RemoteBackend(receiver.url) as remote:
        instant = await remote.instant("rw_cpu", at(300))
        ranged = await remote.range('rw_cpu{tenant="acme"}', at(60), at(120), 30_000)
        found = await remote.series([[Matcher.of("__name__", "=~", "rw_.*")]], BASE, at(600))
        names = await remote.label_names([], at(0), at(600), enforce=ACME)
        hosts = await remote.label_values("host", [], at(0), at(600))
        own = await remote.instant("rw_cpu", at(300), enforce=ACME)
        foreign = await remote.instant('rw_cpu{tenant="globex"}', at(300), enforce=ACME)
        sub = await remote.instant("max_over_time(rw_cpu[5m:])", at(300), enforce=ACME)
        with pytest.raises(PromQLError) as bad:
            await remote.instant("rate(rw_cpu[5m]", at(300))

    assert isinstance(instant.value, VectorResult)
    assert sorted(s.v for s in instant.value.samples) == [20.0, 120.0]
    assert isinstance(ranged.value, MatrixResult)
    assert ranged.value.series[0].points == ((at(60), 4.0), (at(90), 6.0), (at(120), 8.0))
    assert len(found) == 3
    assert names == ["__name__", "host", "tenant"]
    assert hosts == ["a"]
    assert isinstance(own.value, VectorResult) and [s.v for s in own.value.samples] == [20.0]
    assert foreign.value == VectorResult(())
    assert isinstance(sub.value, VectorResult) and [s.v for s in sub.value.samples] == [20.0]
    assert bad.value.kind == "bad_data"


async def test_a_full_queue_drops_the_oldest_samples(receiver: PrometheusServer) -> None:
    forwarder = RemoteWriteForwarder(
        receiver.url + "/api/v1/write", batch_size=5, max_queue=10, flush_interval=0.05
    )
    labels = series("rw_overflow", tenant="acme")
    forwarder.enqueue_many((labels, BASE + i * 1000, float(i)) for i in range(25))

    assert forwarder.stats.dropped == 15
    with structlog.testing.capture_logs() as logs:
        await run_until(forwarder, lambda: forwarder.stats.sent == 10)

    async with RemoteBackend(receiver.url) as remote:
        kept = await remote.range("rw_overflow", at(0), at(30), 1000)
    assert isinstance(kept.value, MatrixResult)
    values = {v for _, v in kept.value.series[0].points}
    assert (min(values), max(values)) == (15.0, 24.0)
    assert any(e["event"] == "remote_write_queue_full" and e["dropped"] == 15 for e in logs)
