"""Pushgateway-compatible push and remote-write receive, through the real app and store."""

from __future__ import annotations

import base64
import gzip
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import cramjam
import httpx
import pytest

from tenantwatch.domain.apikeys import Scope
from tenantwatch.metrics.remote_write import TimeSeries, encode_write_request
from tenantwatch.metrics.store import MetricStore
from tenantwatch.metrics.wiring import MetricsRuntime
from tenantwatch.promql.model import Matcher, is_stale, labels_of
from tenantwatch.runtime.root import Runtime
from tenantwatch.types import Labels
from tests.conftest import KeyMaker
from tests.support import bearer

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the database holds nothing but tenants and keys here."""
    return f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}"


@pytest.fixture
async def metrics(runtime: Runtime) -> AsyncIterator[MetricsRuntime]:
    """The runtime's metric side, started as the app's lifespan starts it."""
    assert runtime.metrics is not None
    await runtime.metrics.start()
    try:
        yield runtime.metrics
    finally:
        await runtime.metrics.stop()


@pytest.fixture
async def writer(make_key: KeyMaker, metrics: MetricsRuntime) -> dict[str, str]:
    del metrics
    return bearer(await make_key(Scope.WRITE))


def stored(metrics: MetricsRuntime, name: str) -> dict[Labels, list[float]]:
    found = metrics.store.select([Matcher.of("__name__", "=", name)], 0, 2**62)
    return {s.labels: [float(v) for v in s.vals] for s in found}


def L(**labels: str) -> Labels:
    return labels_of(labels)


# --- push: PUT, POST, DELETE ------------------------------------------------------------


async def test_a_put_stores_the_group_with_its_grouping_labels(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    body = '# TYPE backup_bytes gauge\nbackup_bytes{disk="a"} 1024\n'
    before = time.time()
    r = await client.put("/metrics/job/backup/instance/db-1", content=body, headers=writer)
    assert r.status_code == 200, r.text
    assert stored(metrics, "backup_bytes") == {
        L(__name__="backup_bytes", disk="a", job="backup", instance="db-1"): [1024.0]
    }
    [[push_time]] = stored(metrics, "push_time_seconds").values()
    assert before - 1 <= push_time <= time.time()


async def test_post_replaces_only_same_named_metrics_and_put_replaces_all(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    await client.put("/metrics/job/j", content="a 1\nb 2\n", headers=writer)
    r = await client.post("/metrics/job/j", content="a 10\n", headers=writer)
    assert r.status_code == 200
    assert stored(metrics, "a")[L(__name__="a", job="j")][-1] == 10.0
    assert not is_stale(stored(metrics, "b")[L(__name__="b", job="j")][-1])
    r = await client.put("/metrics/job/j", content="a 20\n", headers=writer)
    assert r.status_code == 200
    assert is_stale(stored(metrics, "b")[L(__name__="b", job="j")][-1])
    group = metrics.push.groups[L(job="j")]
    assert list(group.families) == ["a"]


async def test_post_replaces_a_whole_histogram_family(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    first = (
        "# TYPE lat histogram\n"
        'lat_bucket{le="0.1"} 1\nlat_bucket{le="1"} 2\nlat_bucket{le="+Inf"} 2\n'
        "lat_sum 0.5\nlat_count 2\n"
    )
    await client.put("/metrics/job/j", content=first, headers=writer)
    second = '# TYPE lat histogram\nlat_bucket{le="+Inf"} 3\nlat_sum 0.9\nlat_count 3\n'
    await client.post("/metrics/job/j", content=second, headers=writer)
    buckets = stored(metrics, "lat_bucket")
    assert is_stale(buckets[L(__name__="lat_bucket", job="j", le="0.1")][-1])
    assert buckets[L(__name__="lat_bucket", job="j", le="+Inf")][-1] == 3.0


async def test_delete_ends_the_groups_series_with_stale_markers(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    await client.put("/metrics/job/j/zone/eu", content="a 1\n", headers=writer)
    await client.put("/metrics/job/j/zone/us", content="a 2\n", headers=writer)
    r = await client.delete("/metrics/job/j/zone/eu", headers=writer)
    assert r.status_code == 202
    a = stored(metrics, "a")
    assert is_stale(a[L(__name__="a", job="j", zone="eu")][-1])
    assert a[L(__name__="a", job="j", zone="us")] == [2.0]
    assert list(metrics.push.groups) == [L(job="j", zone="us")]
    r = await client.delete("/metrics/job/j/zone/eu", headers=writer)
    assert r.status_code == 202  # deleting what is gone is a no-op, as in the Pushgateway


async def test_base64_path_segments_are_decoded(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    path = base64.urlsafe_b64encode(b"/var/tmp").decode().rstrip("=")
    r = await client.put(
        f"/metrics/job/cleaner/path@base64/{path}", content="a 1\n", headers=writer
    )
    assert r.status_code == 200
    assert L(__name__="a", job="cleaner", path="/var/tmp") in stored(metrics, "a")


async def test_a_gzipped_push_is_unpacked(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    r = await client.put(
        "/metrics/job/j",
        content=gzip.compress(b"a 5\n"),
        headers={**writer, "Content-Encoding": "gzip"},
    )
    assert r.status_code == 200
    assert stored(metrics, "a") == {L(__name__="a", job="j"): [5.0]}


async def test_pushed_values_are_written_again_so_they_stay_current(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    await client.put("/metrics/job/j", content="a 5\n", headers=writer)
    assert metrics.push.refresh() == 3
    assert stored(metrics, "a") == {L(__name__="a", job="j"): [5.0, 5.0]}


async def test_a_push_is_durable_when_answered(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime, tmp_path: Path
) -> None:
    r = await client.put("/metrics/job/j", content="a 5\n", headers=writer)
    assert r.status_code == 200
    directory = metrics.store.directory
    assert directory is not None
    shutil.copytree(directory, tmp_path / "crash-copy", ignore=shutil.ignore_patterns("LOCK"))
    recovered = MetricStore(tmp_path / "crash-copy")
    recovered.open()
    try:
        found = recovered.select([Matcher.of("__name__", "=", "a")], 0, 2**62)
        assert [s.labels for s in found] == [L(__name__="a", job="j")]
    finally:
        recovered.close()


# --- push: refused input ----------------------------------------------------------------


async def test_a_malformed_push_names_the_line_and_stores_nothing(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    r = await client.put("/metrics/job/j", content="a 1\nb 2\nc{x=1} 3\n", headers=writer)
    assert r.status_code == 400
    assert r.json()["detail"].startswith("line 3: ")
    assert stored(metrics, "a") == {}
    assert metrics.push.groups == {}


async def test_a_push_with_timestamps_is_refused_naming_the_line(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    r = await client.put(
        "/metrics/job/j", content="# HELP a x\na 1\nb 2 1700000000000\n", headers=writer
    )
    assert r.status_code == 400
    assert r.json()["detail"].startswith("line 3: pushed metrics must not carry timestamps")
    assert stored(metrics, "a") == {}


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/metrics/job", "invalid push path: the job name is missing"),
        ("/metrics/job/j/zone", "invalid push path: label 'zone' has no value"),
        ("/metrics/job/j/__x/1", "invalid push path: invalid label name '__x'"),
    ],
)
async def test_a_bad_push_path_is_a_400(
    client: httpx.AsyncClient, writer: dict[str, str], path: str, detail: str
) -> None:
    r = await client.put(path, content="a 1\n", headers=writer)
    assert r.status_code == 400
    assert r.json()["detail"].startswith(detail)


async def test_a_body_that_is_not_utf8_is_a_400(
    client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    r = await client.put("/metrics/job/j", content=b"a 1\n\xff\n", headers=writer)
    assert r.status_code == 400
    assert "UTF-8" in r.json()["detail"]


async def test_bad_gzip_is_a_400(client: httpx.AsyncClient, writer: dict[str, str]) -> None:
    r = await client.put(
        "/metrics/job/j", content=b"not gzip", headers={**writer, "Content-Encoding": "gzip"}
    )
    assert r.status_code == 400
    assert "gzip" in r.json()["detail"]


async def test_pushing_needs_a_key_with_the_write_scope(
    client: httpx.AsyncClient, make_key: KeyMaker, metrics: MetricsRuntime
) -> None:
    assert (await client.put("/metrics/job/j", content="a 1\n")).status_code == 401
    reader = bearer(await make_key(Scope.READ))
    assert (await client.put("/metrics/job/j", content="a 1\n", headers=reader)).status_code == 403
    assert (await client.delete("/metrics/job/j", headers=reader)).status_code == 403
    assert stored(metrics, "a") == {}


async def test_the_self_metrics_route_still_answers_get(
    client: httpx.AsyncClient, metrics: MetricsRuntime
) -> None:
    del metrics
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert "tenantwatch_build_info" in r.text


async def test_without_a_started_store_a_push_is_a_503(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = bearer(await make_key(Scope.WRITE))
    r = await client.put("/metrics/job/j", content="a 1\n", headers=key)
    assert r.status_code == 503


# --- push: tenants ----------------------------------------------------------------------


async def test_a_tenant_key_pushes_into_its_own_tenant(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    two_tenants: tuple[str, str],
    metrics: MetricsRuntime,
) -> None:
    alpha, bravo = two_tenants
    key_a = bearer(await make_key(Scope.WRITE, tenant=alpha))
    key_b = bearer(await make_key(Scope.WRITE, tenant=bravo))
    assert (
        await client.put("/metrics/job/batch", content="a 1\n", headers=key_a)
    ).status_code == 200
    assert (
        await client.put("/metrics/job/batch", content="a 2\n", headers=key_b)
    ).status_code == 200
    # same job, two tenants: two groups, neither replaced the other
    assert stored(metrics, "a") == {
        L(__name__="a", job="batch", tenant="alpha"): [1.0],
        L(__name__="a", job="batch", tenant="bravo"): [2.0],
    }
    assert (await client.delete("/metrics/job/batch", headers=key_b)).status_code == 202
    assert stored(metrics, "a")[L(__name__="a", job="batch", tenant="alpha")] == [1.0]


async def test_a_tenant_key_cannot_push_another_tenants_series(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    two_tenants: tuple[str, str],
    metrics: MetricsRuntime,
) -> None:
    alpha, bravo = two_tenants
    key_a = bearer(await make_key(Scope.WRITE, tenant=alpha))
    r = await client.put(
        "/metrics/job/batch", content=f'a 1\nb{{tenant="{bravo}"}} 2\n', headers=key_a
    )
    assert r.status_code == 403
    assert "may only write series of tenant 'alpha'" in r.json()["detail"]
    r = await client.put(f"/metrics/job/batch/tenant/{bravo}", content="a 1\n", headers=key_a)
    assert r.status_code == 403
    r = await client.delete(f"/metrics/job/batch/tenant/{bravo}", headers=key_a)
    assert r.status_code == 403
    assert stored(metrics, "a") == {}
    assert metrics.push.groups == {}


# --- remote write -----------------------------------------------------------------------


def write_body(*series: TimeSeries) -> bytes:
    return encode_write_request(list(series))


async def test_remote_write_stores_every_sample_and_answers_204(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    now = int(time.time() * 1000)
    body = write_body(
        TimeSeries(L(__name__="rw_a", job="prom"), ((now - 30_000, 1.0), (now - 15_000, 2.0))),
        TimeSeries(L(__name__="rw_b", job="prom", tenant="alpha"), ((now, 3.0),)),
    )
    r = await client.post("/api/v1/write", content=body, headers={**writer, **RW_HEADERS})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert stored(metrics, "rw_a") == {L(__name__="rw_a", job="prom"): [1.0, 2.0]}
    assert stored(metrics, "rw_b") == {L(__name__="rw_b", job="prom", tenant="alpha"): [3.0]}


async def test_remote_write_is_durable_when_answered(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime, tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    body = write_body(TimeSeries(L(__name__="rw", job="prom"), ((now, 1.0),)))
    r = await client.post("/api/v1/write", content=body, headers={**writer, **RW_HEADERS})
    assert r.status_code == 204
    assert metrics.store.directory is not None
    shutil.copytree(
        metrics.store.directory, tmp_path / "crash-copy", ignore=shutil.ignore_patterns("LOCK")
    )
    recovered = MetricStore(tmp_path / "crash-copy")
    recovered.open()
    try:
        [series] = recovered.select([Matcher.of("__name__", "=", "rw")], 0, 2**62)
        assert list(series.vals) == [1.0]
    finally:
        recovered.close()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"definitely not snappy",
        bytes(cramjam.snappy.compress_raw(b"\x0a\x05garbage-protobuf")),
    ],
)
async def test_a_malformed_remote_write_is_a_400_and_stores_nothing(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime, body: bytes
) -> None:
    r = await client.post("/api/v1/write", content=body, headers={**writer, **RW_HEADERS})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("malformed remote-write request: ")
    assert metrics.store.stats().active_series == 0


async def test_a_remote_write_with_one_bad_series_stores_none_of_it(
    client: httpx.AsyncClient, writer: dict[str, str], metrics: MetricsRuntime
) -> None:
    now = int(time.time() * 1000)
    body = write_body(
        TimeSeries(L(__name__="good", job="prom"), ((now, 1.0),)),
        TimeSeries((("__name__", "bad"), ("1nvalid", "x")), ((now, 2.0),)),
    )
    r = await client.post("/api/v1/write", content=body, headers={**writer, **RW_HEADERS})
    assert r.status_code == 400
    assert "1nvalid" in r.json()["detail"]
    assert stored(metrics, "good") == {}


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Content-Type": "application/json"}, "Content-Type"),
        ({"Content-Encoding": "gzip"}, "Content-Encoding"),
        (
            {"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"},
            "remote-write 1.0",
        ),
    ],
)
async def test_unsupported_remote_write_formats_are_415(
    client: httpx.AsyncClient,
    writer: dict[str, str],
    headers: dict[str, str],
    reason: str,
) -> None:
    body = write_body(TimeSeries(L(__name__="x"), ((1, 1.0),)))
    r = await client.post(
        "/api/v1/write", content=body, headers={**writer, **RW_HEADERS, **headers}
    )
    assert r.status_code == 415
    assert reason in r.json()["detail"]


async def test_remote_write_needs_the_write_scope(
    client: httpx.AsyncClient, make_key: KeyMaker, metrics: MetricsRuntime
) -> None:
    body = write_body(TimeSeries(L(__name__="x"), ((int(time.time() * 1000), 1.0),)))
    assert (await client.post("/api/v1/write", content=body, headers=RW_HEADERS)).status_code == 401
    reader = bearer(await make_key(Scope.READ))
    r = await client.post("/api/v1/write", content=body, headers={**reader, **RW_HEADERS})
    assert r.status_code == 403
    assert stored(metrics, "x") == {}


async def test_a_tenant_key_remote_writes_only_its_own_tenant(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    two_tenants: tuple[str, str],
    metrics: MetricsRuntime,
) -> None:
    alpha, bravo = two_tenants
    key_a = bearer(await make_key(Scope.WRITE, tenant=alpha))
    now = int(time.time() * 1000)
    ok = write_body(
        TimeSeries(L(__name__="x", job="p"), ((now, 1.0),)),
        TimeSeries(L(__name__="y", job="p", tenant=alpha), ((now, 2.0),)),
    )
    r = await client.post("/api/v1/write", content=ok, headers={**key_a, **RW_HEADERS})
    assert r.status_code == 204
    assert list(stored(metrics, "x")) == [L(__name__="x", job="p", tenant="alpha")]
    assert list(stored(metrics, "y")) == [L(__name__="y", job="p", tenant="alpha")]
    foreign = write_body(
        TimeSeries(L(__name__="z", job="p"), ((now, 1.0),)),
        TimeSeries(L(__name__="w", job="p", tenant=bravo), ((now, 2.0),)),
    )
    r = await client.post("/api/v1/write", content=foreign, headers={**key_a, **RW_HEADERS})
    assert r.status_code == 403
    assert stored(metrics, "z") == {} and stored(metrics, "w") == {}
