"""Ingest limits through the real app and store: series per tenant (tier, override, the
untenanted budget), label limits, remote-write's time bounds and duplicates, encodings, and
what /metrics counts. Tenants and tiers come from the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import gzip
import re
import time
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest

from tenantwatch.configuration import parse_config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.metrics.remote_write import TimeSeries, encode_write_request
from tenantwatch.metrics.wiring import MetricsRuntime
from tenantwatch.promql.model import Matcher, labels_of
from tenantwatch.runtime.root import Runtime, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.types import Labels
from tests.conftest import KeyMaker
from tests.support import bearer

CONFIG = parse_config(
    "tiers:\n"
    "  tiny: {max_series: 5, description: five series}\n"
    "tenants:\n"
    "  - {id: acme, name: Acme, tier: tiny}\n"
    "  - {id: bravo, name: Bravo, tier: tiny, limits: {max_series: 8}}\n"
    "metrics:\n"
    "  limits: {max_series: 6, label_value_length_limit: 64}\n",
    "tw.yml",
    {},
)
RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = build_runtime(settings, CONFIG)
    await prepare(rt)
    try:
        yield rt
    finally:
        await rt.stop()


@pytest.fixture
async def metrics(runtime: Runtime) -> AsyncIterator[MetricsRuntime]:
    assert runtime.metrics is not None
    await runtime.metrics.start()
    try:
        yield runtime.metrics
    finally:
        await runtime.metrics.stop()


@pytest.fixture
async def admin(make_key: KeyMaker, metrics: MetricsRuntime) -> dict[str, str]:
    del metrics
    return bearer(await make_key(Scope.WRITE))


def stored(metrics: MetricsRuntime, name: str) -> dict[Labels, list[float]]:
    found = metrics.store.select([Matcher.of("__name__", "=", name)], 0, 2**62)
    return {s.labels: [float(v) for v in s.vals] for s in found}


def lines(name: str, count: int, start: int = 0) -> str:
    return "".join(f'{name}{{i="{i}"}} 1\n' for i in range(start, start + count))


def rejected(text: str, reason: str, kind: str = "samples") -> float:
    name = (
        "tenantwatch_samples_rejected_total"
        if kind == "samples"
        else ("tenantwatch_ingest_requests_rejected_total")
    )
    found = re.search(rf'^{name}{{reason="{reason}"}} (\S+)$', text, re.MULTILINE)
    assert found, f"{name}{{reason={reason!r}}} is not on /metrics"
    return float(found.group(1))


# --- series per tenant ----------------------------------------------------------------------


async def test_a_push_over_the_tenants_series_limit_stores_nothing_of_it(
    client: httpx.AsyncClient, make_key: KeyMaker, metrics: MetricsRuntime
) -> None:
    acme = bearer(await make_key(Scope.WRITE, tenant="acme"))
    # 3 series + push_time_seconds + push_failure_time_seconds = 5: the tier's limit
    r = await client.put("/metrics/job/a", content=lines("m", 3), headers=acme)
    assert r.status_code == 200, r.text
    r = await client.put("/metrics/job/b", content=lines("n", 1), headers=acme)
    assert r.status_code == 400
    assert r.json()["detail"].startswith(
        "per-tenant series limit of 5 exceeded for tenant 'acme': it has 5 series and this "
        "request would add 3"
    )
    assert stored(metrics, "n") == {}
    assert "b" not in {dict(k).get("job") for k in metrics.push.groups}
    # what it has may still be pushed again
    r = await client.put("/metrics/job/a", content=lines("m", 3), headers=acme)
    assert r.status_code == 200
    text = (await client.get("/metrics")).text
    assert rejected(text, "series_limit") == 3.0  # the push's sample and its two own series
    assert rejected(text, "series_limit", "requests") == 1.0


async def test_a_tenants_own_limit_overrides_its_tiers(
    client: httpx.AsyncClient, make_key: KeyMaker, metrics: MetricsRuntime
) -> None:
    bravo = bearer(await make_key(Scope.WRITE, tenant="bravo"))
    r = await client.put("/metrics/job/a", content=lines("m", 6), headers=bravo)
    assert r.status_code == 200, r.text  # 8 series: over its tier's 5, within its own 8
    r = await client.post("/metrics/job/a", content=lines("m", 1, start=6), headers=bravo)
    assert r.status_code == 400
    assert "per-tenant series limit of 8 exceeded for tenant 'bravo'" in r.text


async def test_one_tenant_at_its_limit_leaves_another_unaffected(
    client: httpx.AsyncClient, make_key: KeyMaker, metrics: MetricsRuntime
) -> None:
    acme = bearer(await make_key(Scope.WRITE, tenant="acme"))
    bravo = bearer(await make_key(Scope.WRITE, tenant="bravo"))
    assert (await client.put("/metrics/job/a", content=lines("m", 3), headers=acme)).is_success
    assert (
        await client.put("/metrics/job/x", content=lines("m", 1), headers=acme)
    ).status_code == 400
    assert (await client.put("/metrics/job/a", content=lines("m", 5), headers=bravo)).is_success


async def test_series_without_a_known_tenant_share_the_default_budget(
    client: httpx.AsyncClient, admin: dict[str, str], metrics: MetricsRuntime
) -> None:
    body = encode_write_request(
        [
            TimeSeries(labels_of({"__name__": "u", "i": str(i)}), ((now_ms(), 1.0),))
            for i in range(4)
        ]
        + [TimeSeries(labels_of({"__name__": "u", "tenant": "zed", "i": "x"}), ((now_ms(), 1.0),))]
    )
    r = await client.post("/api/v1/write", content=body, headers={**admin, **RW_HEADERS})
    assert r.status_code == 204, r.text
    more = encode_write_request(
        [
            TimeSeries(labels_of({"__name__": "v", "i": str(i)}), ((now_ms(), 1.0),))
            for i in range(2)
        ]
    )
    r = await client.post("/api/v1/write", content=more, headers={**admin, **RW_HEADERS})
    assert r.status_code == 400
    assert r.json()["detail"].startswith(
        "series limit of 6 exceeded for series without a known tenant: 5 are stored and this "
        "request would add 2"
    )
    assert stored(metrics, "v") == {}


async def test_a_tenant_created_through_the_api_gets_its_tiers_limit(
    client: httpx.AsyncClient, runtime: Runtime, make_key: KeyMaker, metrics: MetricsRuntime
) -> None:
    await runtime.tenants.create(SYSTEM, TenantInput(id="carol", name="Carol", tier="tiny"))
    await metrics.refresh_retention()
    carol = bearer(await make_key(Scope.WRITE, tenant="carol"))
    r = await client.put("/metrics/job/a", content=lines("m", 4), headers=carol)
    assert r.status_code == 400
    assert "per-tenant series limit of 5 exceeded for tenant 'carol'" in r.text


# --- labels ---------------------------------------------------------------------------------


async def test_a_long_label_value_is_refused_in_prometheus_words_and_counted(
    client: httpx.AsyncClient, admin: dict[str, str], metrics: MetricsRuntime
) -> None:
    r = await client.put("/metrics/job/a", content=f'long{{path="{"p" * 65}"}} 1\n', headers=admin)
    assert r.status_code == 400
    assert r.json()["detail"] == (
        'label_value_length_limit exceeded (metric: long, label name: path, value: "'
        + "p" * 50
        + '", length: 65, limit: 64)'
    )
    body = encode_write_request(
        [TimeSeries(labels_of({"__name__": "long", "path": "p" * 65}), ((now_ms(), 1.0),))]
    )
    r = await client.post("/api/v1/write", content=body, headers={**admin, **RW_HEADERS})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("label_value_length_limit exceeded (metric: long")
    assert stored(metrics, "long") == {}
    text = (await client.get("/metrics")).text
    assert rejected(text, "label_value_length_limit", "requests") == 2.0


# --- remote-write: time bounds and duplicates -------------------------------------------------


def now_ms() -> int:
    return round(time.time() * 1000)


async def test_a_remote_write_with_a_future_sample_is_refused_whole(
    client: httpx.AsyncClient, admin: dict[str, str], metrics: MetricsRuntime
) -> None:
    t = now_ms()
    body = encode_write_request(
        [
            TimeSeries(labels_of({"__name__": "fine"}), ((t, 1.0),)),
            TimeSeries(labels_of({"__name__": "ahead"}), ((t + 3_600_000, 1.0),)),
        ]
    )
    r = await client.post("/api/v1/write", content=body, headers={**admin, **RW_HEADERS})
    assert r.status_code == 400
    assert r.json()["detail"].startswith(
        "out of bounds: timestamp is too far in the future for series ahead{}"
    )
    assert stored(metrics, "fine") == {} and stored(metrics, "ahead") == {}
    assert rejected((await client.get("/metrics")).text, "out_of_bounds") == 2.0


async def test_a_remote_write_older_than_the_retention_is_a_too_old_sample(
    client: httpx.AsyncClient, admin: dict[str, str], metrics: MetricsRuntime
) -> None:
    old = now_ms() - 16 * 86_400_000  # untenanted series keep 15 days
    body = encode_write_request([TimeSeries(labels_of({"__name__": "old"}), ((old, 1.0),))])
    r = await client.post("/api/v1/write", content=body, headers={**admin, **RW_HEADERS})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("too old sample for series old{}")


async def test_a_remote_write_may_not_change_a_stored_sample_but_may_repeat_it(
    client: httpx.AsyncClient, admin: dict[str, str], metrics: MetricsRuntime
) -> None:
    t = now_ms()
    first = encode_write_request([TimeSeries(labels_of({"__name__": "d"}), ((t, 1.0),))])
    r = await client.post("/api/v1/write", content=first, headers={**admin, **RW_HEADERS})
    assert r.status_code == 204
    # a retry of the same request (Prometheus retries on timeouts) is fine
    r = await client.post("/api/v1/write", content=first, headers={**admin, **RW_HEADERS})
    assert r.status_code == 204
    changed = encode_write_request(
        [
            TimeSeries(labels_of({"__name__": "e"}), ((t, 5.0),)),
            TimeSeries(labels_of({"__name__": "d"}), ((t, 2.0),)),
        ]
    )
    r = await client.post("/api/v1/write", content=changed, headers={**admin, **RW_HEADERS})
    assert r.status_code == 400
    assert r.json()["detail"] == (
        f"duplicate sample for timestamp {t}; overrides not allowed: existing 1, new value 2 "
        "for series d{}"
    )
    assert stored(metrics, "d") == {labels_of({"__name__": "d"}): [1.0]}
    assert stored(metrics, "e") == {}


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [("deflate", zlib.compress), ("gzip", gzip.compress), ("identity", bytes)],
)
async def test_pushes_are_unpacked_by_their_content_encoding(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    metrics: MetricsRuntime,
    encoding: str,
    pack: object,
) -> None:
    assert callable(pack)
    body = pack(b"# TYPE packed gauge\npacked 7\n")
    r = await client.put(
        "/metrics/job/p", content=body, headers={**admin, "Content-Encoding": encoding}
    )
    assert r.status_code == 200, r.text
    assert list(stored(metrics, "packed").values()) == [[7.0]]


@pytest.mark.parametrize("encoding", ["br", "zstd", "snappy"])
async def test_a_push_in_another_content_encoding_is_a_415(
    client: httpx.AsyncClient, admin: dict[str, str], metrics: MetricsRuntime, encoding: str
) -> None:
    r = await client.put(
        "/metrics/job/p", content=b"x 1\n", headers={**admin, "Content-Encoding": encoding}
    )
    assert r.status_code == 415
    assert "send gzip, deflate or no Content-Encoding" in r.text
    assert stored(metrics, "x") == {}


async def test_rejections_start_at_zero_for_every_reason(client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics")).text
    for reason in ("series_limit", "out_of_bounds", "duplicate_sample_for_timestamp"):
        assert rejected(text, reason) == 0.0


async def test_the_tiers_api_shows_each_tiers_series_limit(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    r = await client.get("/api/v1/tiers", headers=bearer(await make_key(Scope.READ)))
    limits = {t["name"]: t["max_series"] for t in r.json()["items"]}
    assert limits["tiny"] == 5
    assert limits["basic"] < limits["professional"] < limits["enterprise"]
