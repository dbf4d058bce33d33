"""The demo's simulated SaaS app: seed 000's metric families per tenant, load, faults, health."""

from __future__ import annotations

import asyncio
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from examples.demo.saas_app.app import Simulator, build_app
from examples.demo.saas_app.exposition import Totals
from examples.demo.saas_app.faults import (
    INCIDENT_SLOT_SECONDS,
    KINDS,
    MAJOR_INCIDENT_SECONDS,
    MINOR_INCIDENT_SECONDS,
    SLOT_SECONDS,
    Fault,
    FaultRequestError,
    Kind,
    fault_request,
    scheduled_fault,
    scheduled_faults,
)
from examples.demo.saas_app.simulation import Tick, pods, tenant_state, tick
from examples.demo.saas_app.tenants import (
    ConfigError,
    TenantSpec,
    load_config,
    parse_config,
    parse_tenant_args,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "examples/demo/tenantwatch.yml"
DEMO_TENANTS = ("acme-corp", "globex", "initech", "umbrella", "hooli-edu", "piedpiper")
PEAK = 1_768_507_200  # 2026-01-15 15:00 in New York: acme-corp's busiest hour
POD = {"namespace", "pod", "container", "tenant"}

# Seed 000's MetricsService (names as the parser reports them, without _total), plus what
# its alert rules select: container metrics of pods named ai-shifu-*.
SEED_FAMILIES = {
    "ai_shifu_requests": ("counter", {"method", "endpoint", "status", "tenant"}),
    "ai_shifu_request_duration_seconds": ("histogram", {"method", "endpoint", "tenant"}),
    "ai_shifu_active_sessions": ("gauge", {"tenant"}),
    "ai_shifu_interactions": ("counter", {"tenant", "shifu_type", "interaction_type"}),
    "ai_shifu_llm_requests": ("counter", {"provider", "model", "tenant", "status"}),
    "ai_shifu_llm_tokens": ("counter", {"provider", "model", "tenant", "token_type"}),
    "ai_shifu_tenant_token_limit": ("gauge", {"tenant"}),
    "ai_shifu_db_connections": ("gauge", {"tenant", "pool"}),
    "ai_shifu_db_query_duration_seconds": ("histogram", {"tenant", "operation"}),
    "ai_shifu_errors": ("counter", {"tenant", "service", "error_type"}),
    "ai_shifu_cache_hits": ("counter", {"tenant", "cache_type"}),
    "ai_shifu_cache_misses": ("counter", {"tenant", "cache_type"}),
    "container_cpu_usage_seconds": ("counter", POD),
    "container_memory_working_set_bytes": ("gauge", POD),
    "container_spec_memory_limit_bytes": ("gauge", POD),
}
SEED_BUCKETS = {
    "ai_shifu_request_duration_seconds": [
        "0.1",
        "0.25",
        "0.5",
        "1.0",
        "2.5",
        "5.0",
        "10.0",
        "+Inf",
    ],
    "ai_shifu_db_query_duration_seconds": [
        "0.01",
        "0.05",
        "0.1",
        "0.25",
        "0.5",
        "1.0",
        "2.5",
        "+Inf",
    ],
}


# --- helpers -------------------------------------------------------------------------------


def demo_tenants() -> tuple[TenantSpec, ...]:
    return load_config(DEMO_CONFIG)


def quantile(q: float, bounds: Sequence[float], counts: Sequence[int]) -> float:
    """histogram_quantile on one classic histogram (non-cumulative counts, last is +Inf)."""
    cumulative = np.cumsum(counts)
    if cumulative[-1] == 0:
        return math.nan
    rank = q * cumulative[-1]
    i = int(np.searchsorted(cumulative, rank))
    if i == len(bounds):
        return bounds[-1]
    low, below = (0.0, 0) if i == 0 else (bounds[i - 1], cumulative[i - 1])
    return float(low + (bounds[i] - low) * (rank - below) / counts[i])


def run(
    tenants: Iterable[TenantSpec], start: int, seconds: int, faults: Sequence[Fault] = ()
) -> list[Tick]:
    tenants = tuple(tenants)
    return [tick(tenants, 1, t, faults) for t in range(start, start + seconds)]


def add_up(ticks: Iterable[Tick]) -> Totals:
    totals = Totals()
    for one in ticks:
        totals.add(one)
    return totals


def samples(text: str) -> dict[str, tuple[str, list[Sample]]]:
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def value(families: dict[str, tuple[str, list[Sample]]], name: str, **labels: str) -> float:
    family = name.removesuffix("_total")
    return sum(
        s.value
        for s in families[family][1]
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


class Server:
    def __init__(self, sim: Simulator, url: str, session: aiohttp.ClientSession) -> None:
        self.sim, self.url, self.http = sim, url, session

    async def scrape(self) -> dict[str, tuple[str, list[Sample]]]:
        async with self.http.get(f"{self.url}/metrics") as response:
            assert response.status == 200, await response.text()
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            return samples(await response.text())


async def start(sim: Simulator) -> AsyncIterator[Server]:
    runner = web.AppRunner(build_app(sim))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        yield Server(sim, f"http://127.0.0.1:{port}", session)
    await runner.cleanup()


def shifted_clock(to: float) -> float:
    """Return the offset that makes time.time() + offset start at `to`."""
    return to - time.time()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """The app on loopback for the demo tenants, at acme-corp's peak hour, no random faults."""
    offset = shifted_clock(PEAK)
    sim = Simulator(demo_tenants(), 1, random_faults=False, clock=lambda: time.time() + offset)
    async for s in start(sim):
        yield s


# --- the metrics endpoint --------------------------------------------------------------------


async def test_metrics_have_every_seed_family_and_label_for_every_tenant(server: Server) -> None:
    families = await server.scrape()

    for name, (kind, labels) in SEED_FAMILIES.items():
        assert name in families, f"{name} is missing"
        found_kind, found = families[name]
        assert found_kind == kind, name
        sample_labels = {s.name: set(s.labels) - {"le"} for s in found}
        assert all(keys == labels for keys in sample_labels.values()), (name, sample_labels)
        assert {s.labels["tenant"] for s in found} == set(DEMO_TENANTS), name


async def test_histograms_use_the_seed_buckets(server: Server) -> None:
    families = await server.scrape()

    for name, bounds in SEED_BUCKETS.items():
        series: dict[tuple[tuple[str, str], ...], list[str]] = {}
        for s in families[name][1]:
            if s.name == f"{name}_bucket":
                key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                series.setdefault(key, []).append(s.labels["le"])
        assert series
        assert all(found == bounds for found in series.values()), name


async def test_the_seed_rules_selectors_find_series(server: Server) -> None:
    families = await server.scrape()

    for tenant in DEMO_TENANTS:
        requests = families["ai_shifu_requests"][1]
        assert {s.labels["status"] for s in requests if s.labels["tenant"] == tenant} == {
            "success",
            "error",
        }
        unauthorized = [
            s
            for s in families["ai_shifu_errors"][1]
            if s.labels["tenant"] == tenant and s.labels["error_type"] == "Unauthorized"
        ]
        assert len(unauthorized) == 1
        # HighLLMTokenUsage matches tokens one-to-one on(tenant) with the limit.
        tokens = [s for s in families["ai_shifu_llm_tokens"][1] if s.labels["tenant"] == tenant]
        assert len(tokens) == 1
        assert value(families, "ai_shifu_tenant_token_limit", tenant=tenant) > 0
    for s in families["container_cpu_usage_seconds"][1]:
        assert re.fullmatch("ai-shifu-.*", s.labels["pod"])


async def test_counters_increase_over_time(server: Server) -> None:
    before = await server.scrape()
    await asyncio.sleep(1.3)
    after = await server.scrape()

    for name, (kind, _) in SEED_FAMILIES.items():
        if kind == "gauge":
            continue
        old = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in before[name][1]}
        for s in after[name][1]:
            assert s.value >= old[(s.name, tuple(sorted(s.labels.items())))], (name, s)
    assert value(after, "ai_shifu_requests_total") > value(before, "ai_shifu_requests_total")
    for tenant in DEMO_TENANTS:
        cpu = "container_cpu_usage_seconds_total"
        assert value(after, cpu, tenant=tenant) > value(before, cpu, tenant=tenant)
    for tenant in ("acme-corp", "globex", "initech", "hooli-edu"):  # daytime; umbrella sleeps
        assert value(after, "ai_shifu_active_sessions", tenant=tenant) > 0, tenant
    assert value(after, "ai_shifu_active_sessions", tenant="piedpiper") == 0


async def test_openmetrics_is_served_when_asked_for(server: Server) -> None:
    accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
    async with server.http.get(f"{server.url}/metrics", headers=accept) as response:
        body = await response.text()
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert body.endswith("# EOF\n")
    assert "ai_shifu_requests_total{" in body


# --- faults and health -----------------------------------------------------------------------


async def _get_json(server: Server, path: str) -> tuple[int, Any]:
    async with server.http.get(f"{server.url}{path}") as response:
        return response.status, await response.json()


async def _force(server: Server, query: str) -> tuple[int, Any]:
    async with server.http.post(f"{server.url}/admin/fault?{query}") as response:
        return response.status, await response.json()


async def test_a_forced_error_fault_raises_the_error_rate_and_degrades_health(
    server: Server,
) -> None:
    errors = {"status": "error"}
    families = await server.scrape()
    assert value(families, "ai_shifu_requests_total", tenant="acme-corp", **errors) == 0
    assert (await _get_json(server, "/t/acme-corp/health"))[0] == 200

    status, fault = await _force(server, "tenant=acme-corp&kind=errors&duration=2m&severity=1")
    assert status == 201
    assert fault["kind"] == "errors" and fault["tenant"] == "acme-corp"
    deadline = time.monotonic() + 5
    while value(families, "ai_shifu_requests_total", tenant="acme-corp", **errors) == 0:
        assert time.monotonic() < deadline, "no failed requests after forcing the fault"
        await asyncio.sleep(0.25)
        families = await server.scrape()

    assert value(families, "ai_shifu_errors_total", tenant="acme-corp", service="api") > 0
    assert value(families, "ai_shifu_requests_total", tenant="globex", **errors) == 0
    status, body = await _get_json(server, "/t/acme-corp/health")
    assert (status, body["status"]) == (200, "degraded")  # only an outage fails it
    assert (await _force(server, "tenant=acme-corp&kind=outage&duration=1m"))[0] == 201
    status, body = await _get_json(server, "/t/acme-corp/health")
    assert (status, body["status"]) == (503, "down")
    assert (await _get_json(server, "/health?tenant=acme-corp"))[0] == 503
    assert (await _get_json(server, "/t/globex/health"))[0] == 200
    assert (await _get_json(server, "/health"))[0] == 200

    async with server.http.delete(f"{server.url}/admin/fault?tenant=acme-corp") as response:
        assert (await response.json()) == {"cleared": 2}
    assert (await _get_json(server, "/t/acme-corp/health"))[0] == 200


async def test_a_latency_fault_slows_health_answers_but_keeps_them_up(server: Server) -> None:
    assert (await _force(server, "tenant=initech&kind=latency&severity=0"))[0] == 201

    started = time.monotonic()
    status, body = await _get_json(server, "/t/initech/health")

    assert (status, body["status"]) == (200, "degraded")
    assert time.monotonic() - started >= 0.25


async def test_the_down_fault_fails_the_scrape_until_cleared(server: Server) -> None:
    assert (await _force(server, "kind=down&duration=1h"))[0] == 201

    async with server.http.get(f"{server.url}/metrics") as response:
        assert response.status == 503
    assert (await _get_json(server, "/health"))[0] == 503
    assert (await _get_json(server, "/t/globex/health"))[0] == 503

    async with server.http.delete(f"{server.url}/admin/fault") as response:
        assert response.status == 200
    await server.scrape()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "tenant=acme-corp&kind=meltdown",
            "kind 'meltdown' is not a fault kind; use one of errors",
        ),
        ("tenant=nobody&kind=errors", "tenant 'nobody' is unknown; use one of acme-corp"),
        ("kind=errors", "kind errors needs tenant="),
        ("tenant=acme-corp&kind=db&duration=soon", "duration 'soon' must be 1s to 24h"),
        ("tenant=acme-corp&kind=db&duration=2d", "duration '2d' must be 1s to 24h"),
        ("tenant=acme-corp&kind=db&severity=11", "severity '11' must be a number from 0 to 1"),
    ],
)
async def test_a_bad_fault_request_is_refused_with_the_reason(
    server: Server, query: str, message: str
) -> None:
    status, body = await _force(server, query)

    assert status == 400
    assert message in str(body["error"])
    assert server.sim.forced == []


async def test_health_of_an_unknown_tenant_is_404(server: Server) -> None:
    status, body = await _get_json(server, "/t/nobody/health")

    assert status == 404
    assert "tenant 'nobody' is unknown" in str(body["error"])


async def test_scheduled_faults_start_and_end_on_their_own() -> None:
    tenants = demo_tenants()
    fault = next(
        f
        for f in scheduled_faults(tenants, 1, PEAK, PEAK + 14 * 86_400)
        if KINDS[f.kind].health == "down"
    )
    offset = shifted_clock(fault.start + 0.5)
    sim = Simulator(tenants, 1, clock=lambda: time.time() + offset)
    async for server in start(sim):
        status, body = await _get_json(server, f"/t/{fault.tenant}/health")
        assert status == 503
        assert body["faults"] == [fault.as_json()]
        listed = (await _get_json(server, "/admin/faults"))[1]
        assert fault.as_json() in listed["active"]

        sim.clock = lambda: fault.end + 0.5
        status, body = await _get_json(server, f"/t/{fault.tenant}/health")
        assert status == 200, body


# --- the command line ------------------------------------------------------------------------


def test_the_module_serves_the_demo_config_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "examples.demo.saas_app", "--port", "0", "--seed", "5"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/metrics", timeout=5) as r:
            families = samples(r.read().decode())
        assert {s.labels["tenant"] for s in families["ai_shifu_requests"][1]} == set(DEMO_TENANTS)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


def test_the_module_explains_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "tenantwatch.yml"
    config.write_text("tenants:\n  - id: acme\n    tier: gold\n")

    result = subprocess.run(
        [sys.executable, "-m", "examples.demo.saas_app", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )

    assert result.returncode == 2
    assert f"{config}:2: tenants[0] (acme): unknown tier 'gold'" in result.stderr
    assert "Traceback" not in result.stderr


# --- tenants ---------------------------------------------------------------------------------


def test_the_demo_config_gives_six_tenants_in_their_tiers() -> None:
    tenants = {t.id: t for t in demo_tenants()}

    assert tuple(tenants) == DEMO_TENANTS
    assert (tenants["globex"].tier, tenants["globex"].base) == ("enterprise-plus", "enterprise")
    assert tenants["hooli-edu"].base == "basic"
    assert tenants["piedpiper"].suspended
    assert tenants["umbrella"].timezone == "Asia/Singapore"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tenants: [\n  {id: a,\n", "tenantwatch.yml:3: not valid YAML"),
        ("tiers: {}\n", "needs a 'tenants:' list"),
        ("tenants:\n  - id: a\n  - id: 'has space'\n", ":3: tenants[1]: tenant id 'has space'"),
        ("tenants:\n  - id: a\n    timezone: Mars/Base\n", "unknown timezone 'Mars/Base'"),
        ("tenants:\n  - id: a\n  - id: a\n", "tenant 'a' is listed twice"),
        ("tiers:\n  gold: {}\ntenants:\n  - id: a\n", "tier 'gold' needs 'base:'"),
        ("tenants: []\n", "no tenants"),
    ],
)
def test_a_bad_config_names_where_and_what(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(text)


def test_tenants_can_be_given_as_arguments() -> None:
    tenants = parse_tenant_args(["a:enterprise", "b"])

    assert [(t.id, t.base) for t in tenants] == [("a", "enterprise"), ("b", "basic")]
    with pytest.raises(ConfigError, match="unknown tier 'gold'; use one of basic"):
        parse_tenant_args(["a:gold"])


# --- the pure simulation ---------------------------------------------------------------------


def test_the_simulation_is_deterministic_for_a_seed_and_a_time() -> None:
    tenants = demo_tenants()
    fault = Fault(Kind.ERRORS, "globex", PEAK - 10, PEAK + 10, 0.7)

    first = tick(tenants, 7, PEAK, [fault])

    assert tick(tenants, 7, PEAK, [fault]) == first
    assert tick(tenants, 8, PEAK, [fault]) != first
    assert tick(tenants, 7, PEAK + 1, [fault]) != first
    assert tenant_state(tenants[1], 7, PEAK, [fault]) == tenant_state(tenants[1], 7, PEAK, [fault])
    assert scheduled_faults(tenants, 7, PEAK, PEAK + 7200) == scheduled_faults(
        tenants, 7, PEAK, PEAK + 7200
    )
    assert scheduled_faults(tenants, 7, PEAK, PEAK + 7200) != scheduled_faults(
        tenants, 8, PEAK, PEAK + 7200
    )


def test_scheduled_faults_come_every_few_minutes_and_last_minutes() -> None:
    tenants = demo_tenants()
    day = scheduled_faults(tenants, 1, PEAK, PEAK + 86_400)

    assert 24 * 4 <= len(day) <= 24 * 14  # one every ~4-15 minutes
    assert "piedpiper" not in {f.tenant for f in day}
    assert {f.kind for f in day} == {k for k, spec in KINDS.items() if spec.weight}
    for fault in day:
        spec = KINDS[fault.kind]
        assert spec.min_seconds <= fault.end - fault.start <= spec.max_seconds
        assert fault.start // SLOT_SECONDS == (fault.end - 1) // SLOT_SECONDS
        assert 0.5 <= fault.severity <= 1.0


def test_outages_come_as_incidents_rarer_on_dearer_tiers() -> None:
    tenants = demo_tenants()
    start, end = PEAK, PEAK + 180 * 86_400
    outages = [f for f in scheduled_faults(tenants, 1, start, end) if f.kind is Kind.OUTAGE]
    down: dict[str, float] = {t.id: 0.0 for t in tenants}
    days: dict[str, set[int]] = {t.id: set() for t in tenants}
    for fault in outages:
        assert fault.tenant is not None
        length = fault.end - fault.start
        assert any(
            low <= length <= high for low, high in (MINOR_INCIDENT_SECONDS, MAJOR_INCIDENT_SECONDS)
        )
        day = int(fault.start // INCIDENT_SLOT_SECONDS)
        assert day == (fault.end - 1) // INCIDENT_SLOT_SECONDS and day not in days[fault.tenant]
        days[fault.tenant].add(day)
        down[fault.tenant] += length
    share = {tenant: seconds / (end - start) for tenant, seconds in down.items()}
    assert share["piedpiper"] == 0.0  # suspended
    assert max(share["acme-corp"], share["globex"]) < min(share["initech"], share["umbrella"])
    assert max(share["initech"], share["umbrella"]) < share["hooli-edu"] < 0.01
    assert 0 < share["acme-corp"] < 0.001  # 99.9 % on average, not every month
    # the 20-minute slots never draw an outage
    slots = range(int(start // SLOT_SECONDS), int(start // SLOT_SECONDS) + 500)
    drawn = {f.kind for s in slots if (f := scheduled_fault("acme-corp", 1, s))}
    assert Kind.OUTAGE not in drawn and Kind.ERRORS in drawn


def test_load_follows_the_tenants_day_and_tier() -> None:
    tenants = {t.id: t for t in demo_tenants()}
    peak, night = PEAK, PEAK + 12 * 3600  # 15:00 and 03:00 in New York

    acme_peak = tenant_state(tenants["acme-corp"], 1, peak, []).requests_per_second
    acme_night = tenant_state(tenants["acme-corp"], 1, night, []).requests_per_second
    hooli_peak = max(
        tenant_state(tenants["hooli-edu"], 1, peak + h * 3600, []).requests_per_second
        for h in range(24)
    )

    assert acme_peak > 10 * acme_night
    assert acme_peak > 4 * hooli_peak
    assert tenant_state(tenants["piedpiper"], 1, peak, []).requests_per_second == 0


ERROR_BOUNDS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DB_BOUNDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def _p95s(totals: Totals, name: str, bounds: Sequence[float], tenant: str) -> list[float]:
    return [
        quantile(0.95, bounds, counts)
        for key, counts in totals.buckets[name].items()
        if tenant in key and sum(counts) > 0
    ]


def _total(totals: Totals, name: str, tenant: str, label_value: str | None = None) -> float:
    """Sum a counter over the tenant's series (those with label_value, if given)."""
    return sum(
        v
        for key, v in totals.counters[name].items()
        if tenant in key and (label_value is None or label_value in key)
    )


@pytest.mark.parametrize("start", [PEAK, PEAK + 6 * 3600, PEAK + 12 * 3600])
def test_without_faults_no_seed_rule_condition_holds(start: int) -> None:
    tenants = demo_tenants()
    ticks = run(tenants, start, 300)
    totals = add_up(ticks)

    for tenant in DEMO_TENANTS:
        # HighErrorRate: the seed divides matching series, so any failed request trips it.
        assert _total(totals, "ai_shifu_requests_total", tenant, "error") == 0
        assert (
            max(_p95s(totals, "ai_shifu_request_duration_seconds", ERROR_BOUNDS, tenant), default=0)
            < 2
        )
        assert max(_p95s(totals, "ai_shifu_db_query_duration_seconds", DB_BOUNDS, tenant)) < 1
        assert _total(totals, "ai_shifu_errors_total", tenant, "Unauthorized") <= 10
        assert all(
            v <= 80
            for one in ticks
            for key, v in one.gauges["ai_shifu_db_connections"].items()
            if key[0] == tenant
        )
        limit = totals.gauges["ai_shifu_tenant_token_limit"][(tenant,)]
        assert _total(totals, "ai_shifu_llm_tokens_total", tenant) / 300 < 0.9 * limit
    for key, seconds in totals.counters["container_cpu_usage_seconds_total"].items():
        assert seconds / 300 < 0.8, key
        memory = totals.gauges["container_memory_working_set_bytes"][key]
        assert memory / totals.gauges["container_spec_memory_limit_bytes"][key] < 0.85, key


def test_each_fault_kind_trips_its_seed_rule_at_its_weakest() -> None:
    kinds = [kind for kind in Kind if kind is not Kind.DOWN]
    tenants = [TenantSpec(f"t-{k}", "enterprise", "enterprise", "America/New_York") for k in kinds]
    faults = [Fault(k, t.id, PEAK, PEAK + 300, 0.5) for k, t in zip(kinds, tenants, strict=True)]
    ticks = run(tenants, PEAK, 300, faults)
    totals = add_up(ticks)
    requests = "ai_shifu_requests_total"

    failed = _total(totals, requests, "t-errors", "error")
    assert failed / _total(totals, requests, "t-errors") > 0.05
    assert min(_p95s(totals, "ai_shifu_request_duration_seconds", ERROR_BOUNDS, "t-latency")) > 2
    assert min(_p95s(totals, "ai_shifu_db_query_duration_seconds", DB_BOUNDS, "t-db")) > 1
    assert all(one.gauges["ai_shifu_db_connections"][("t-db", "primary")] > 80 for one in ticks)
    assert _total(totals, "ai_shifu_errors_total", "t-auth", "Unauthorized") > 10
    # The shortest scheduled token fault alone lifts rate(...[1h]) above 90% of the limit.
    shortest = KINDS[Kind.TOKENS].min_seconds
    tokens = sum(
        v
        for one in ticks[:shortest]
        for key, v in one.counters["ai_shifu_llm_tokens_total"].items()
        if key[2] == "t-tokens"
    )
    assert tokens / 3600 > 0.9 * totals.gauges["ai_shifu_tenant_token_limit"][("t-tokens",)]
    assert _total(totals, requests, "t-outage") == 0
    assert totals.gauges["ai_shifu_active_sessions"][("t-outage",)] == 0
    hot = pods(tenants[kinds.index(Kind.CPU)])[0]
    assert totals.counters["container_cpu_usage_seconds_total"][hot] / 300 > 0.8
    leaking = pods(tenants[kinds.index(Kind.MEMORY)])[0]
    ratio = (
        totals.gauges["container_memory_working_set_bytes"][leaking]
        / totals.gauges["container_spec_memory_limit_bytes"][leaking]
    )
    assert ratio > 0.85


def test_fault_requests_default_their_duration_to_the_kinds_middle() -> None:
    tenants = demo_tenants()

    fault = fault_request({"tenant": "globex", "kind": "db"}, tenants, 100.0)

    spec = KINDS[Kind.DB]
    assert fault.end - fault.start == (spec.min_seconds + spec.max_seconds) // 2
    assert fault.forced and fault.severity == 0.8
    assert fault_request({"kind": "down", "tenant": "globex"}, tenants, 0).tenant is None
    with pytest.raises(FaultRequestError):
        fault_request({"kind": "db", "tenant": "globex", "duration": "0"}, tenants, 0)
    assert replace(fault, severity=1.0).severity == 1.0
