"""The pure core: from tenants, a seed, faults and `now`, each tenant's load and one second of metrics.

Every random draw comes from a generator seeded with (seed, tenant, now), so the same
inputs always give the same output, whatever was computed before.
"""

from __future__ import annotations

import hashlib
import math
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from . import families as f
from .faults import Fault, Health, Kind, active_faults, health
from .tenants import TenantSpec

Key = tuple[str, ...]

BASE_RPS = 2.0  # requests per second of a size-1 tenant at its daily peak
SESSIONS_PER_RPS = 6.0
TIER_SIZE = {"basic": 1.0, "professional": 3.0, "enterprise": 8.0}
TOKEN_LIMIT = {"basic": 600.0, "professional": 2000.0, "enterprise": 5000.0}  # tokens/s
TOKENS_PER_INTERACTION = 320.0
MODEL = {"basic": "gpt-4o-mini", "professional": "gpt-4o-mini", "enterprise": "gpt-4o"}
PROVIDER = "openai"
REPLICAS = {"basic": 1, "professional": 2, "enterprise": 3}
MEMORY_LIMIT = {"basic": 512 * 2**20, "professional": 2**30, "enterprise": 2 * 2**30}
POOL_SIZE = 100
MEMORY_RAMP_SECONDS = 120.0


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    share: float  # of the tenant's requests
    median: float  # seconds, when idle


ENDPOINTS = (
    Endpoint("POST", "/api/shifu/interact", 0.40, 0.30),
    Endpoint("GET", "/api/shifu/list", 0.20, 0.06),
    Endpoint("GET", "/api/study/progress", 0.20, 0.04),
    Endpoint("GET", "/api/user/profile", 0.15, 0.03),
    Endpoint("POST", "/api/user/login", 0.05, 0.12),
)
INTERACT = ENDPOINTS[0]
STATUSES = ("success", "error")
INTERACTION_MIX = {
    ("course", "chat"): 0.5,
    ("course", "quiz"): 0.2,
    ("practice", "chat"): 0.15,
    ("practice", "quiz"): 0.15,
}
ERROR_SERIES = (
    ("api", "LLMProviderError"),
    ("api", "TimeoutError"),
    ("api", "OperationalError"),
    ("auth", "Unauthorized"),
)
# How failing requests split over error types (interact also calls the LLM).
FAILURE_MIX = {
    True: {"LLMProviderError": 0.5, "TimeoutError": 0.3, "OperationalError": 0.2},
    False: {"TimeoutError": 0.6, "OperationalError": 0.4},
}
DB_OPERATIONS = {"select": (0.7, 0.010), "insert": (0.15, 0.018), "update": (0.15, 0.020)}
CACHES = {"session": 0.97, "content": 0.85, "llm": 0.30}  # hit ratios
POOLS = ("primary", "replica")
UNAUTHORIZED_PER_MINUTE = 0.15  # stray failed logins, far below UnauthorizedAccess' 10 per 5m


@dataclass(frozen=True)
class HistogramDelta:
    counts: tuple[int, ...]  # per bucket, not cumulative; the last is +Inf
    total: float


@dataclass
class Tick:
    """What happened in the second that ends at now: counter increments, observations, gauges.

    tick() fills it in through count, observe and set; nothing changes it afterwards.
    """

    now: int
    counters: dict[str, dict[Key, float]] = field(default_factory=dict)
    histograms: dict[str, dict[Key, HistogramDelta]] = field(default_factory=dict)
    gauges: dict[str, dict[Key, float]] = field(default_factory=dict)

    def count(self, family: f.Family, key: Key, value: float) -> None:
        series = self.counters.setdefault(family.name, {})
        series[key] = series.get(key, 0.0) + float(value)

    def observe(self, family: f.Family, key: Key, values: np.ndarray) -> None:
        bounds = np.asarray(family.buckets)
        counts = np.bincount(np.searchsorted(bounds, values), minlength=len(bounds) + 1)
        self.histograms.setdefault(family.name, {})[key] = HistogramDelta(
            tuple(int(c) for c in counts), float(values.sum())
        )

    def set(self, family: f.Family, key: Key, value: float) -> None:
        self.gauges.setdefault(family.name, {})[key] = float(value)


@dataclass(frozen=True)
class TenantState:
    tenant: str
    demand: float  # 0 (idle) .. ~1.3 (peak hour, busy day)
    requests_per_second: float
    sessions: int
    faults: tuple[Fault, ...]
    health: Health | Literal["suspended"]


def _hash(*parts: object) -> int:
    return zlib.crc32("\x00".join(str(p) for p in parts).encode())


def diurnal(local_hour: float) -> float:
    """Return the share of peak load at a local hour: 1.0 at 15:00, 0.03 at 03:00."""
    x = (1.0 + math.cos(2.0 * math.pi * (local_hour - 15.0) / 24.0)) / 2.0
    return 0.03 + 0.97 * math.pow(x, 1.5)


def local_hour(timezone: str, now: float) -> float:
    t = datetime.fromtimestamp(now, ZoneInfo(timezone))
    return t.hour + t.minute / 60.0 + t.second / 3600.0


def size(tenant: TenantSpec) -> float:
    """Return how busy a tenant is relative to a basic one (tier size, +-20% per tenant)."""
    return TIER_SIZE[tenant.base] * (0.8 + 0.4 * (_hash(tenant.id) % 1000) / 999.0)


def demand(tenant: TenantSpec, seed: int, now: float) -> float:
    """Return the tenant's demand at now: its local time of day times a slow, seeded wander."""
    phase = _hash(seed, tenant.id)
    a, b = (phase % 1000) / 1000.0, (phase // 1000 % 1000) / 1000.0
    wander = (
        1.0
        + 0.15 * math.sin(2.0 * math.pi * (now / 1740.0 + a))
        + 0.08 * math.sin(2.0 * math.pi * (now / 390.0 + b))
    )
    return diurnal(local_hour(tenant.timezone, now)) * wander


def _effective_demand(
    tenant: TenantSpec, seed: int, now: float, hitting: Mapping[Kind, Fault]
) -> float:
    if tenant.suspended or Kind.OUTAGE in hitting:
        return 0.0
    return demand(tenant, seed, now)


def sessions(tenant: TenantSpec, seed: int, now: int, hitting: Mapping[Kind, Fault]) -> int:
    """Return the tenant's active sessions at now (0 when suspended or in an outage)."""
    mean = (
        SESSIONS_PER_RPS * BASE_RPS * size(tenant) * _effective_demand(tenant, seed, now, hitting)
    )
    rng = np.random.default_rng([seed, 2, _hash(tenant.id), now])
    return max(0, round(mean + rng.normal(0.0, 0.15 * math.sqrt(mean))))


def tenant_state(tenant: TenantSpec, seed: int, now: int, faults: Iterable[Fault]) -> TenantState:
    """Return the tenant's load and fault state at now."""
    hitting = active_faults(faults, now, tenant.id)
    load = _effective_demand(tenant, seed, now, hitting)
    return TenantState(
        tenant=tenant.id,
        demand=round(load, 4),
        requests_per_second=round(BASE_RPS * size(tenant) * load, 3),
        sessions=sessions(tenant, seed, now, hitting),
        faults=tuple(hitting.values()),
        health="suspended" if tenant.suspended and not hitting else health(hitting),
    )


def pods(tenant: TenantSpec) -> tuple[Key, ...]:
    """Return the label values (namespace, pod, container, tenant) of the tenant's API pods."""
    replica_set = _name_suffix(f"rs/{tenant.id}", 10)
    return tuple(
        (
            f"tenant-{tenant.id}",
            f"ai-shifu-api-{replica_set}-{_name_suffix(f'pod/{tenant.id}/{i}', 5)}",
            "api",
            tenant.id,
        )
        for i in range(REPLICAS[tenant.base])
    )


def _name_suffix(text: str, length: int) -> str:
    """Return a Kubernetes-style random-looking name suffix derived from text."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(
        alphabet[b % len(alphabet)] for b in hashlib.sha256(text.encode()).digest()[:length]
    )


def _request_median(endpoint: Endpoint, load: float, hitting: Mapping[Kind, Fault]) -> float:
    median = endpoint.median * (1.0 + 0.3 * load)
    if Kind.CPU in hitting:
        median *= 1.5
    if db := hitting.get(Kind.DB):
        median += 0.4 + 0.6 * db.severity
    if slow := hitting.get(Kind.LATENCY):
        median = median * (3.0 + 5.0 * slow.severity) + 1.5
    return median


def _requests(
    tick: Tick,
    tenant: TenantSpec,
    rng: np.random.Generator,
    load: float,
    hitting: Mapping[Kind, Fault],
) -> dict[str, int]:
    """Count one second of requests, their latencies and failures; return totals per kind."""
    rps = BASE_RPS * size(tenant) * load
    p_fail = 0.08 + 0.30 * hitting[Kind.ERRORS].severity if Kind.ERRORS in hitting else 0.0
    p_db_fail = 0.03 if Kind.DB in hitting else 0.0
    totals = {"all": 0, "get": 0, "interact": 0, "interact_ok": 0, "LLMProviderError": 0}
    failures = dict.fromkeys(("LLMProviderError", "TimeoutError", "OperationalError"), 0)
    for ep in ENDPOINTS:
        n = int(rng.poisson(rps * ep.share))
        failed = int(rng.binomial(n, p_fail))
        db_failed = int(rng.binomial(n - failed, p_db_fail))
        tick.count(f.REQUESTS, (ep.method, ep.path, "success", tenant.id), n - failed - db_failed)
        tick.count(f.REQUESTS, (ep.method, ep.path, "error", tenant.id), failed + db_failed)
        median = _request_median(ep, load, hitting)
        tick.observe(
            f.REQUEST_DURATION,
            (ep.method, ep.path, tenant.id),
            rng.lognormal(math.log(median), 0.45, n),
        )
        mix = FAILURE_MIX[ep is INTERACT]
        for error_type, count in zip(mix, rng.multinomial(failed, list(mix.values())), strict=True):
            failures[error_type] += int(count)
        failures["OperationalError"] += db_failed
        totals["all"] += n
        totals["get"] += n if ep.method == "GET" else 0
        if ep is INTERACT:
            totals["interact"] = n
            totals["interact_ok"] = n - failed - db_failed
    for service, error_type in ERROR_SERIES[:3]:
        tick.count(f.ERRORS, (tenant.id, service, error_type), failures[error_type])
    totals["LLMProviderError"] = failures["LLMProviderError"]
    return totals


def _llm(
    tick: Tick,
    tenant: TenantSpec,
    rng: np.random.Generator,
    totals: Mapping[str, int],
    hitting: Mapping[Kind, Fault],
) -> None:
    model, ok = MODEL[tenant.base], totals["interact_ok"]
    tick.count(f.LLM_REQUESTS, (PROVIDER, model, tenant.id, "success"), ok)
    tick.count(f.LLM_REQUESTS, (PROVIDER, model, tenant.id, "error"), totals["LLMProviderError"])
    for (shifu_type, interaction_type), count in zip(
        INTERACTION_MIX, rng.multinomial(ok, list(INTERACTION_MIX.values())), strict=True
    ):
        tick.count(f.INTERACTIONS, (tenant.id, shifu_type, interaction_type), int(count))
    tokens = int(rng.poisson(ok * TOKENS_PER_INTERACTION))
    if runaway := hitting.get(Kind.TOKENS):
        tokens += int(rng.poisson(TOKEN_LIMIT[tenant.base] * (10.0 + 20.0 * runaway.severity)))
    # One series per tenant: seed 000's HighLLMTokenUsage matches it one-to-one on(tenant)
    # with the limit, which Prometheus refuses when a tenant has several token series.
    tick.count(f.LLM_TOKENS, (PROVIDER, model, tenant.id, "total"), tokens)
    tick.set(f.TOKEN_LIMIT, (tenant.id,), TOKEN_LIMIT[tenant.base])


def _cache(
    tick: Tick, tenant: TenantSpec, rng: np.random.Generator, totals: Mapping[str, int]
) -> None:
    lookups = {"session": totals["all"], "content": totals["get"], "llm": totals["interact"]}
    for cache_type, ratio in CACHES.items():
        hits = int(rng.binomial(lookups[cache_type], ratio))
        tick.count(f.CACHE_HITS, (tenant.id, cache_type), hits)
        tick.count(f.CACHE_MISSES, (tenant.id, cache_type), lookups[cache_type] - hits)


def _database(
    tick: Tick,
    tenant: TenantSpec,
    rng: np.random.Generator,
    totals: Mapping[str, int],
    load: float,
    hitting: Mapping[Kind, Fault],
) -> None:
    rps = BASE_RPS * size(tenant) * load
    db = hitting.get(Kind.DB)
    queries = int(rng.poisson(totals["all"] * 2.5 + 0.3))  # + background jobs
    counts = rng.multinomial(queries, [share for share, _ in DB_OPERATIONS.values()])
    for (operation, (_, median)), n in zip(DB_OPERATIONS.items(), counts, strict=True):
        median = 0.9 + 1.2 * db.severity if db else median * (1.0 + 0.5 * load)
        tick.observe(
            f.DB_QUERY_DURATION,
            (tenant.id, operation),
            rng.lognormal(math.log(median), 0.6, int(n)),
        )
    primary = 84.0 + 16.0 * db.severity if db else 3.0 + 2.2 * rps
    replica = 2.0 + 0.8 * rps + (25.0 if db else 0.0)
    for pool, mean in zip(POOLS, (primary, replica), strict=True):
        connections = round(mean + rng.normal(0.0, 1.5))
        tick.set(f.DB_CONNECTIONS, (tenant.id, pool), min(POOL_SIZE, max(0, connections)))


def _security(
    tick: Tick, tenant: TenantSpec, rng: np.random.Generator, hitting: Mapping[Kind, Fault]
) -> None:
    per_minute = 0.0 if tenant.suspended else UNAUTHORIZED_PER_MINUTE * (1.0 + size(tenant) / 4.0)
    if attack := hitting.get(Kind.AUTH):
        per_minute += 20.0 + 40.0 * attack.severity
    tick.count(f.ERRORS, (tenant.id, *ERROR_SERIES[3]), int(rng.poisson(per_minute / 60.0)))


def _containers(
    tick: Tick,
    tenant: TenantSpec,
    rng: np.random.Generator,
    now: int,
    load: float,
    hitting: Mapping[Kind, Fault],
) -> None:
    limit = MEMORY_LIMIT[tenant.base]
    replicas = REPLICAS[tenant.base]
    rps = BASE_RPS * size(tenant) * load
    for i, key in enumerate(pods(tenant)):
        cpu = (0.03 + 0.025 * rps / replicas) * float(rng.lognormal(0.0, 0.1))
        share = 0.30 + 0.02 * i + 0.25 * min(load, 1.3) / 1.3 + float(rng.normal(0.0, 0.005))
        if i == 0 and (hot := hitting.get(Kind.CPU)):
            cpu = 0.93 + 0.06 * hot.severity
        if i == 0 and (leak := hitting.get(Kind.MEMORY)):
            ramp = min(1.0, (now - leak.start) / MEMORY_RAMP_SECONDS)
            share += (0.9 + 0.08 * leak.severity - share) * ramp
        tick.count(f.CONTAINER_CPU, key, cpu)
        tick.set(f.CONTAINER_MEMORY, key, float(round(limit * share)))
        tick.set(f.CONTAINER_MEMORY_LIMIT, key, float(limit))


def tick(tenants: Iterable[TenantSpec], seed: int, now: int, faults: Iterable[Fault]) -> Tick:
    """Return what every tenant did in the second ending at now, with the given faults."""
    faults = tuple(faults)
    result = Tick(now)
    for tenant in tenants:
        hitting = active_faults(faults, now, tenant.id)
        load = _effective_demand(tenant, seed, now, hitting)
        rng = np.random.default_rng([seed, 1, _hash(tenant.id), now])
        totals = _requests(result, tenant, rng, load, hitting)
        _llm(result, tenant, rng, totals, hitting)
        _cache(result, tenant, rng, totals)
        _database(result, tenant, rng, totals, load, hitting)
        _security(result, tenant, rng, hitting)
        _containers(result, tenant, rng, now, load, hitting)
        result.set(f.ACTIVE_SESSIONS, (tenant.id,), sessions(tenant, seed, now, hitting))
    return result
