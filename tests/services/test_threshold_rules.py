"""Seed 002's threshold rules through POST /api/v1/monitoring/alert-rules: its metric names
map to tenantwatch's series (and the rule fires on them), names no series carries are
refused saying what to use, and a tenant's own series work as they are."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tenantwatch.domain.apikeys import Scope
from tenantwatch.metrics.head import Head
from tenantwatch.metrics.wiring import MetricsRuntime
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import VectorResult, labels_of
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.threshold_rules import SEED_METRICS
from tests.conftest import KeyMaker
from tests.support import bearer


@pytest.fixture
def database_url(tmp_path: Any) -> str:
    """SQLite only: rule groups, tenants and keys live in the database, series in the store."""
    return f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}"


@pytest.fixture
async def metrics(runtime: Runtime) -> AsyncIterator[MetricsRuntime]:
    assert runtime.metrics is not None
    await runtime.metrics.start()
    try:
        yield runtime.metrics
    finally:
        await runtime.metrics.stop()


def _rule(tenant: str, metric: str, condition: str = "greater_than", threshold: float = 1000):
    return {
        "tenant_id": tenant,
        "metric": metric,
        "condition": condition,
        "threshold": threshold,
        "severity": "warning",
    }


async def _post(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/monitoring/alert-rules", json=body, headers=bearer(key))


async def test_the_seeds_response_time_rule_becomes_a_rule_on_http_check_durations(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: Any, metrics: MetricsRuntime
) -> None:
    admin = await make_key(Scope.ADMIN)
    made = await _post(client, admin, _rule("alpha", "response_time_ms"))
    assert made.status_code == 201, made.text
    rule = made.json()["rules"][0]
    assert rule["name"] == "response_time_ms_greater_than"
    assert rule["expr"].startswith("avg by (tenant)")
    assert 'tenantwatch_check_duration_seconds{kind="http"}' in rule["expr"]
    assert rule["labels"] == {"severity": "warning", "tenant": "alpha"}


@pytest.mark.parametrize(
    ("metric", "samples", "holds"),
    [
        ("response_time_ms", [("http", 1.5), ("http", 0.9)], True),  # mean 1200 ms
        ("response_time_ms", [("http", 0.3), ("heartbeat", 3600.0)], False),  # jobs left out
    ],
)
def test_the_mapped_response_time_is_the_mean_http_check_duration_in_ms(
    metric: str, samples: list[tuple[str, float]], holds: bool
) -> None:
    head = Head()
    now = int(time.time() * 1000)
    for i, (kind, seconds) in enumerate(samples):
        labels = {"__name__": "tenantwatch_check_duration_seconds", "tenant": "alpha"}
        head.append(labels_of({**labels, "kind": kind, "check": f"c{i}"}), now, seconds)
    result = Engine(head).instant(f"{SEED_METRICS[metric][0]} > 1000", now).value
    assert isinstance(result, VectorResult)
    assert (len(result.samples) == 1) is holds


def test_availability_and_error_rate_are_shares_of_passing_check_runs() -> None:
    head = Head()
    now = int(time.time() * 1000)
    up = labels_of({"__name__": "tenantwatch_check_up", "tenant": "alpha", "check": "a"})
    for i, v in enumerate([1, 1, 1, 0]):  # a run a minute, the last one failed
        head.append(up, now - (3 - i) * 60_000, v)
    engine = Engine(head)
    availability = engine.instant(SEED_METRICS["availability_percentage"][0], now).value
    errors = engine.instant(SEED_METRICS["error_rate_percentage"][0], now).value
    assert isinstance(availability, VectorResult) and isinstance(errors, VectorResult)
    assert [s.v for s in availability.samples] == [75.0]
    assert [s.v for s in errors.samples] == [25.0]


async def test_a_seed_name_no_series_carries_is_refused_saying_what_to_use(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: Any, metrics: MetricsRuntime
) -> None:
    admin = await make_key(Scope.ADMIN)
    refused = await _post(client, admin, _rule("alpha", "cpu_usage_percent", threshold=80))
    assert refused.status_code == 422
    assert "no series carries 'cpu_usage_percent'" in refused.text
    assert "container_cpu_usage_seconds_total" in refused.text


async def test_a_series_the_tenant_lacks_is_refused_and_one_it_has_is_taken(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: Any, metrics: MetricsRuntime
) -> None:
    admin = await make_key(Scope.ADMIN)
    missing = await _post(client, admin, _rule("alpha", "queue_depth", threshold=100))
    assert missing.status_code == 422
    assert "has no series named 'queue_depth'" in missing.text
    assert "response_time_ms" in missing.text
    now = int(time.time() * 1000)
    series = {"__name__": "queue_depth", "tenant": "bravo"}
    metrics.appender.append_many([(labels_of(series), now, 5.0)])
    theirs = await _post(client, admin, _rule("alpha", "queue_depth", threshold=100))
    assert theirs.status_code == 422  # bravo's series do not count for alpha
    ours = await _post(client, admin, _rule("bravo", "queue_depth", threshold=100))
    assert ours.status_code == 201, ours.text
    assert ours.json()["rules"][0]["expr"] == "(queue_depth) > 100"


async def test_a_tenant_key_cannot_probe_another_tenants_series(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: Any, metrics: MetricsRuntime
) -> None:
    alpha = await make_key(Scope.WRITE, tenant="alpha")
    answer = await _post(client, alpha, _rule("bravo", "up"))
    assert answer.status_code == 404


async def test_an_unknown_condition_is_a_422_naming_the_choices(
    client: httpx.AsyncClient, make_key: KeyMaker, two_tenants: Any, metrics: MetricsRuntime
) -> None:
    admin = await make_key(Scope.ADMIN)
    answer = await _post(client, admin, _rule("alpha", "response_time_ms", condition="above"))
    assert answer.status_code == 422
    assert "greater_than" in answer.text
