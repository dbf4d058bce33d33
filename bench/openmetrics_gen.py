"""Write a deterministic OpenMetrics file with the seed rules' metric families, for bench/query.

The bulk is `ai_shifu_request_duration_seconds` (a classic histogram per tenant, method and
endpoint) and `ai_shifu_requests_total`; small families give every seed rule expression
(../shared/fixtures/seed-rules/) data to work on, with a few series past each threshold.

Every series is sampled every 15 s up to `end_ms`, each with its own phase of 10-990 ms
off the 15 s grid, so no sample sits on a window boundary of a query evaluated at
`query_time(end_ms)` (Prometheus 2.42 closes windows on the left, Prometheus 3.x and
tenantwatch do not). The same arguments always give the same bytes.

    python -m bench.openmetrics_gen OUT.om [--tenants 188 --endpoints 30 --minutes 15]
"""

from __future__ import annotations

import argparse
import math
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

STEP_MS = 15_000
WEEK_MS = 7 * 24 * 3600 * 1000
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
METHODS_ENDPOINTS = (
    ("GET", "/api/v1/lessons"),
    ("GET", "/api/v1/lessons/{id}"),
    ("POST", "/api/v1/lessons"),
    ("GET", "/api/v1/courses"),
    ("GET", "/api/v1/courses/{id}"),
    ("PUT", "/api/v1/courses/{id}"),
    ("POST", "/api/v1/chat"),
    ("POST", "/api/v1/chat/stream"),
    ("GET", "/api/v1/chat/history"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("GET", "/api/v1/users/me"),
    ("PUT", "/api/v1/users/me"),
    ("GET", "/api/v1/progress"),
    ("POST", "/api/v1/progress"),
    ("GET", "/api/v1/search"),
    ("POST", "/api/v1/uploads"),
    ("GET", "/api/v1/uploads/{id}"),
    ("DELETE", "/api/v1/uploads/{id}"),
    ("GET", "/api/v1/quizzes"),
    ("POST", "/api/v1/quizzes/{id}/answers"),
    ("GET", "/api/v1/certificates"),
    ("GET", "/api/v1/billing/usage"),
    ("POST", "/api/v1/billing/checkout"),
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/feedback"),
    ("GET", "/api/v1/admin/stats"),
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/llm/complete"),
    ("POST", "/api/v1/llm/embed"),
    ("GET", "/api/v1/settings"),
    ("PUT", "/api/v1/settings"),
)


@dataclass(frozen=True)
class Scale:
    """How much data: bulk series = tenants * endpoints * 16; minutes of samples per series.

    `long_minutes` is the span of the few series read through `[1h]` ranges.
    """

    tenants: int = 188
    endpoints: int = 30
    minutes: int = 15
    long_minutes: int = 65

    def __post_init__(self) -> None:
        if not 1 <= self.endpoints <= len(METHODS_ENDPOINTS):
            raise ValueError(
                f"endpoints must be 1 to {len(METHODS_ENDPOINTS)}, not {self.endpoints}"
            )
        if self.tenants < 1:
            raise ValueError(f"tenants must be at least 1, not {self.tenants}")
        if self.minutes < 6 or self.long_minutes < self.minutes:
            raise ValueError(
                "minutes must be at least 6 (queries read 5 minutes) and long_minutes at least"
                f" minutes; got minutes={self.minutes}, long_minutes={self.long_minutes}"
            )


@dataclass
class Summary:
    """What generate() wrote."""

    series: int = 0
    samples: int = 0
    bytes: int = 0
    families: dict[str, int] = field(default_factory=dict)
    min_ms: int = 0
    max_ms: int = 0


@dataclass(frozen=True)
class Block:
    """Series of one sample name that share a time grid: values[i] belongs to labels[i]."""

    name: str
    labels: Sequence[dict[str, str]]
    values: np.ndarray  # shape (len(labels), steps)
    end_ms: int
    integer: bool = False


@dataclass(frozen=True)
class Family:
    name: str
    type: str
    help: str
    blocks: Sequence[Block]


def query_time(end_ms: int) -> int:
    """The evaluation time the benchmark uses: 10 s after the last grid point."""
    return end_ms + 10_000


def default_end_ms(now_ms: int) -> int:
    """A grid end a few minutes before now, on a whole 15 minutes (reproducible within one)."""
    quarter = 15 * 60 * 1000
    return (now_ms // quarter) * quarter - 5 * 60 * 1000


def tenant_ids(n: int) -> list[str]:
    return [f"tenant-{i:03d}" for i in range(1, n + 1)]


def _le(bound: float) -> str:
    text = repr(float(bound))
    return text if "e" in text or "." in text else f"{text}.0"


def _phase(key: str) -> int:
    return 10 + zlib.crc32(key.encode()) % 981


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    erf = np.frompyfunc(math.erf, 1, 1)
    return np.asarray(0.5 * (1.0 + erf(x / math.sqrt(2.0))), dtype=np.float64)


def _counter(rng: np.random.Generator, rate: np.ndarray, steps: int) -> np.ndarray:
    """Integer counters: a random start plus Poisson increments; rate is per series, per step."""
    inc = rng.poisson(np.repeat(rate[:, None], steps, axis=1))
    start = rng.integers(0, 10_000, size=(len(rate), 1))
    return (start + np.cumsum(inc, axis=1)).astype(np.float64)


def _histogram(
    name: str,
    groups: Sequence[dict[str, str]],
    bounds: Sequence[float],
    median: np.ndarray,
    per_step: np.ndarray,
    steps: int,
    end_ms: int,
    rng: np.random.Generator,
    *,
    sigma: float = 0.9,
) -> list[Block]:
    """Blocks of a classic histogram: log-normal observations around each group's median."""
    b = np.asarray(bounds, dtype=np.float64)
    z = (np.log(b)[None, :] - np.log(median)[:, None]) / sigma
    cdf = _normal_cdf(z)
    probs = np.diff(
        np.concatenate([np.zeros((len(groups), 1)), cdf, np.ones((len(groups), 1))], axis=1)
    )
    lam = per_step[:, None, None] * probs[:, None, :]
    inc = rng.poisson(np.broadcast_to(lam, (len(groups), steps, len(b) + 1)))
    # The process has been up for a while: counters start high, so no rate extrapolates
    # to a zero point (where Prometheus 2.42 and 3.x differ).
    inc[:, 0, :] += rng.poisson(lam[:, 0, :] * rng.uniform(200, 2000, (len(groups), 1)))
    cum = np.cumsum(np.cumsum(inc, axis=1), axis=2).astype(np.float64)
    mids = np.concatenate([b[:1] / 2, (b[1:] + b[:-1]) / 2, b[-1:] * 1.5])
    sums = np.round(np.cumsum((inc * mids).sum(axis=2), axis=1), 6)
    blocks = []
    les = [*(_le(x) for x in bounds), "+Inf"]
    for j, le in enumerate(les):
        labels = [{**g, "le": le} for g in groups]
        blocks.append(Block(f"{name}_bucket", labels, cum[:, :, j], end_ms, integer=True))
    blocks.append(Block(f"{name}_sum", groups, sums, end_ms))
    blocks.append(Block(f"{name}_count", groups, cum[:, :, -1], end_ms, integer=True))
    return blocks


def _gauge_walk(
    rng: np.random.Generator, start: np.ndarray, steps: int, scale: float, lo: float, hi: float
) -> np.ndarray:
    walk = start[:, None] + np.cumsum(rng.normal(0, scale, (len(start), steps)), axis=1)
    return np.clip(np.round(walk), lo, hi)


class _Families:
    """Collects families; every series spans `steps` grid points ending at end_ms."""

    def __init__(self, rng: np.random.Generator, steps: int, end_ms: int) -> None:
        self.rng = rng
        self.steps = steps
        self.end_ms = end_ms
        self.out: list[Family] = []

    def add(
        self,
        name: str,
        kind: str,
        labels: Sequence[dict[str, str]],
        values: np.ndarray,
        *,
        integer: bool = True,
        end_ms: int | None = None,
    ) -> None:
        """One block of series; counters are named `<family>_total`."""
        family = name.removesuffix("_total") if kind == "counter" else name
        block = Block(name, labels, values, self.end_ms if end_ms is None else end_ms, integer)
        self.out.append(Family(family, kind, f"{family.replace('_', ' ')}.", [block]))

    def histogram(
        self,
        name: str,
        groups: Sequence[dict[str, str]],
        bounds: Sequence[float],
        median: np.ndarray,
        per_step: np.ndarray,
        sigma: float = 0.9,
    ) -> None:
        blocks = _histogram(
            name, groups, bounds, median, per_step, self.steps, self.end_ms, self.rng, sigma=sigma
        )
        self.out.append(Family(name, "histogram", f"{name.replace('_', ' ')}.", blocks))

    def constant(self, rows: Sequence[float] | np.ndarray) -> np.ndarray:
        return np.repeat(np.asarray(rows, dtype=np.float64)[:, None], self.steps, 1)


def families(scale: Scale, end_ms: int, seed: int = 3) -> list[Family]:
    """Every family of the file, values included (a few hundred MB at the default scale)."""
    rng = np.random.default_rng(seed)
    steps = scale.minutes * 60_000 // STEP_MS
    f = _Families(rng, steps, end_ms)
    tenants = tenant_ids(scale.tenants)
    pairs = METHODS_ENDPOINTS[: scale.endpoints]
    groups = [{"endpoint": e, "method": m, "tenant": t} for t in tenants for m, e in pairs]
    ng = len(groups)
    median = rng.lognormal(math.log(0.12), 0.6, ng)
    median[rng.random(ng) < 0.03] = 2.5  # a few slow endpoints: p95 above the 2 s threshold
    per_step = rng.uniform(0.5, 30.0, ng)
    f.histogram("ai_shifu_request_duration_seconds", groups, LATENCY_BUCKETS, median, per_step)
    status_groups = [{**g, "status": s} for g in groups for s in ("success", "error")]
    error_share = np.where(rng.random(ng) < 0.05, 0.2, 0.01)
    rate = np.stack([per_step * (1 - error_share), per_step * error_share], axis=1).reshape(-1)
    f.add("ai_shifu_requests_total", "counter", status_groups, _counter(rng, rate, steps))
    _tenant_families(f, tenants, scale.long_minutes * 60_000 // STEP_MS)
    _platform_families(f, scale.long_minutes * 60_000 // STEP_MS)
    return merged(f.out)


def _instance(i: int) -> str:
    return f"10.0.{i % 4}.{10 + i % 7}:8000"


def _tenant_families(f: _Families, tenants: list[str], long_steps: int) -> None:
    rng, steps, nt = f.rng, f.steps, len(tenants)
    base = [
        {"instance": _instance(i), "job": "ai-shifu-api", "tenant": t}
        for i, t in enumerate(tenants)
    ]
    up = np.ones((nt, steps))
    up[::23, -8:] = 0.0  # every 23rd tenant's API is down for the last two minutes
    f.add("up", "gauge", base, up)
    tokens_rate = rng.uniform(50, 5000, nt)
    f.add("ai_shifu_llm_tokens_total", "counter", base, _counter(rng, tokens_rate, long_steps))
    limit = np.round(tokens_rate / 15 * rng.uniform(0.8, 3.0, nt))  # tokens per second
    f.add("ai_shifu_tenant_token_limit", "gauge", base, f.constant(limit))
    connections = _gauge_walk(rng, rng.uniform(10, 95, nt), steps, 3.0, 0, 100)
    f.add("ai_shifu_db_connections", "gauge", base, connections)
    ops = [{"operation": o} for o in ("select", "insert", "update")]
    db_groups = [{**b, **o} for b in base for o in ops]
    db_median = rng.lognormal(math.log(0.02), 0.8, len(db_groups))
    db_median[:: max(1, len(db_groups) // 4)] = 1.6
    f.histogram(
        "ai_shifu_db_query_duration_seconds",
        db_groups,
        LATENCY_BUCKETS,
        db_median,
        rng.uniform(1, 40, len(db_groups)),
    )
    error_types = ("Unauthorized", "Timeout", "RateLimited", "Internal")
    err_groups = [{**b, "error_type": e} for b in base for e in error_types]
    err_rate = rng.uniform(0, 1.0, len(err_groups))
    err_rate[::41] = 5.0  # a burst of unauthorized attempts for some tenants
    errors = _counter(rng, err_rate, steps)
    errors[7 % len(errors), steps // 2 :] -= errors[7 % len(errors), steps // 2 - 1]  # a reset
    f.add("ai_shifu_errors_total", "counter", err_groups, errors)
    sessions = _gauge_walk(rng, rng.uniform(0, 40, nt), steps, 2.0, 0, 500)
    sessions[::17] = 0.0
    f.add("ai_shifu_active_sessions", "gauge", base, sessions)


def _pods(prefix: str, namespace: str, n: int) -> list[dict[str, str]]:
    return [
        {"container": prefix.split("-")[0], "namespace": namespace, "pod": f"{prefix}-{i:x}7f9c"}
        for i in range(n)
    ]


def _platform_families(f: _Families, long_steps: int) -> None:
    rng, steps = f.rng, f.steps
    pods = [
        *_pods("ai-shifu-api", "ai-shifu", 8),
        *_pods("ai-shifu-worker", "ai-shifu", 4),
        *_pods("mobius-api", "mobius-production", 6),
        *_pods("postgres", "ai-shifu", 2),
    ]
    cpu_rate = rng.uniform(0.05, 0.6, len(pods)) * 15
    cpu_rate[::5] = 0.95 * 15  # busy pods above 80 %
    cpu_inc = np.abs(rng.normal(cpu_rate[:, None], 0.3, (len(pods), steps)))
    cpu = rng.uniform(100, 10_000, (len(pods), 1)) + np.cumsum(cpu_inc, axis=1)
    f.add("container_cpu_usage_seconds_total", "counter", pods, np.round(cpu, 3), integer=False)
    limits = f.constant(rng.choice([512.0, 1024.0, 2048.0], len(pods)) * 2**20)
    share = rng.uniform(0.3, 0.95, (len(pods), 1)) + rng.normal(0, 0.01, (len(pods), steps))
    f.add("container_memory_working_set_bytes", "gauge", pods, np.round(limits * share.clip(0, 1)))
    f.add("container_spec_memory_limit_bytes", "gauge", pods, limits)

    services = ("gateway", "orders", "billing", "search", "auth")
    codes = {"200": 1800.0, "201": 200.0, "404": 20.0, "500": 2.0, "503": 0.5}
    http = [
        {"instance": f"{s}:8080", "job": s, "method": m, "service": s, "status": c}
        for s in services
        for m in ("GET", "POST")
        for c in codes
    ]
    http_rate = np.array([codes[h["status"]] for h in http]) * rng.uniform(0.2, 1.2, len(http))
    f.add("http_requests_total", "counter", http, _counter(rng, http_rate, steps))
    f.histogram(
        "http_request_duration_seconds",
        [{"service": s} for s in services],
        LATENCY_BUCKETS,
        np.array([0.05, 0.2, 2.4, 0.08, 0.03]),
        np.full(len(services), 500.0),
    )
    up = np.ones((len(services), steps))
    up[1, -6:] = 0.0
    f.add("up", "gauge", [{"instance": f"{s}:8080", "job": s} for s in services], up)
    db_up = np.vstack([np.ones(steps), np.r_[np.ones(steps - 4), np.zeros(4)]])
    f.add("postgres_up", "gauge", [{"instance": "db-0:9187"}, {"instance": "db-1:9187"}], db_up)
    queues = [{"queue": q} for q in ("default", "llm", "email", "reports")]
    lengths = _gauge_walk(rng, np.array([10.0, 70.0, 2.0, 30.0]), steps, 3.0, 0, 1000)
    f.add("celery_queue_length", "gauge", queues, lengths)

    qtypes = [{"query_type": q} for q in ("search", "summarise", "classify", "forecast")]
    f.histogram(
        "mobius_query_duration_seconds",
        qtypes,
        LATENCY_BUCKETS,
        np.array([0.3, 1.0, 0.1, 2.6]),
        np.full(len(qtypes), 80.0),
    )
    queries = [{**q, "status": s} for q in qtypes for s in ("success", "error")]
    query_rate = np.array([80.0, 2.0, 50.0, 6.0, 120.0, 1.0, 30.0, 3.0])
    f.add("mobius_queries_total", "counter", queries, _counter(rng, query_rate, steps))
    names = ("salesforce", "hubspot", "zendesk", "slack", "stripe", "jira")
    health = np.ones((len(names), steps))
    health[2, -10:] = 0.0
    f.add("mobius_integration_health", "gauge", [{"integration": n} for n in names], health)
    f.histogram(
        "mobius_query_confidence_score",
        qtypes,
        CONFIDENCE_BUCKETS,
        np.array([0.85, 0.6, 0.9, 0.75]),
        np.full(len(qtypes), 80.0),
        sigma=0.2,
    )
    spend = rng.uniform(0, 1, (3, long_steps)) * np.array([[0.25], [0.2], [0.001]])
    cost = np.round(np.array([[812.5], [604.25], [1.5]]) + np.cumsum(spend, axis=1), 6)
    models = [{"model": m} for m in ("gpt-4o", "claude", "local")]
    f.add("mobius_model_cost_dollars", "unknown", models, cost, integer=False)
    restarts = np.zeros((6, steps))
    restarts[4] = np.repeat(np.arange(steps // 20 + 1), 20)[:steps]
    kube = _pods("mobius-api", "mobius-production", 6)
    f.add("kube_pod_container_status_restarts_total", "counter", kube, restarts)

    dbs = [{"datname": d, "server": "db:5432"} for d in ("mobius_production", "postgres")]
    f.add("pg_stat_database_numbackends", "gauge", dbs, f.constant([92.0, 3.0]))
    # postgres_exporter exports max_connections without `datname`, so the seed rule
    # matches nothing on real data; the label is added here so the query has work to do.
    f.add("pg_settings_max_connections", "gauge", dbs, f.constant([100.0, 100.0]))
    statements = [{"datname": "mobius_production", "queryid": str(1000 + i)} for i in range(20)]
    spent = rng.exponential(
        rng.uniform(0.1, 40, (len(statements), 1)) * 15, (len(statements), steps)
    )
    total = rng.uniform(1e4, 1e6, (len(statements), 1)) + np.cumsum(spent, axis=1)
    f.add(
        "pg_stat_statements_total_time_seconds",
        "unknown",
        statements,
        np.round(total, 6),
        integer=False,
    )
    customers = [{"plan": p} for p in ("basic", "professional", "enterprise")]
    week_ago = f.end_ms - WEEK_MS
    f.add(
        "mobius_active_customers", "gauge", customers, f.constant([400.0, 260, 60]), end_ms=week_ago
    )
    f.add("mobius_active_customers", "gauge", customers, f.constant([410.0, 220, 61]))


def merged(fams: Sequence[Family]) -> list[Family]:
    """Families with one entry per name (OpenMetrics allows each family once)."""
    by_name: dict[str, Family] = {}
    for fam in fams:
        seen = by_name.get(fam.name)
        by_name[fam.name] = (
            fam
            if seen is None
            else Family(fam.name, fam.type, fam.help, [*seen.blocks, *fam.blocks])
        )
    return list(by_name.values())


def series_key(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{labels[k]}"' for k in sorted(labels))
    return f"{name}{{{inner}}}" if inner else name


def _timestamps(
    end_ms: int, steps: int, phase: int, cache: dict[tuple[int, int, int], list[str]]
) -> list[str]:
    found = cache.get((end_ms, steps, phase))
    if found is None:
        first = end_ms - (steps - 1) * STEP_MS + phase
        found = [f"{t // 1000}.{t % 1000:03d}" for t in range(first, end_ms + phase + 1, STEP_MS)]
        cache[(end_ms, steps, phase)] = found
    return found


def _values(row: np.ndarray, integer: bool) -> list[str]:
    if integer:
        return [str(v) for v in row.astype(np.int64).tolist()]
    return [repr(v) for v in row.tolist()]


def iter_series(fams: Sequence[Family]) -> Iterator[tuple[str, str, list[str], list[str]]]:
    """(family header or "", series key, timestamp strings, value strings) in file order."""
    cache: dict[tuple[int, int, int], list[str]] = {}
    for fam in fams:
        header = f"# HELP {fam.name} {fam.help}\n# TYPE {fam.name} {fam.type}\n"
        for block in fam.blocks:
            steps = block.values.shape[1]
            for labels, row in zip(block.labels, block.values, strict=True):
                key = series_key(block.name, labels)
                stamps = _timestamps(block.end_ms, steps, _phase(key), cache)
                yield header, key, stamps, _values(row, block.integer)
                header = ""


def write(out: TextIO, fams: Sequence[Family]) -> Summary:
    """Write fams as OpenMetrics (ending in `# EOF`) and return what was written."""
    summary = Summary(min_ms=2**62, max_ms=-(2**62))
    keys: set[str] = set()
    for fam in fams:
        summary.families[fam.name] = len(
            {series_key(b.name, x) for b in fam.blocks for x in b.labels}
        )
        for block in fam.blocks:
            steps = block.values.shape[1]
            summary.min_ms = min(summary.min_ms, block.end_ms - (steps - 1) * STEP_MS)
            summary.max_ms = max(summary.max_ms, block.end_ms + 999)
    for header, key, stamps, vals in iter_series(fams):
        if header:
            summary.bytes += out.write(header)
        keys.add(key)
        text = "".join([f"{key} {v} {t}\n" for v, t in zip(vals, stamps, strict=True)])
        summary.bytes += out.write(text)
        summary.samples += len(vals)
    summary.bytes += out.write("# EOF\n")
    summary.series = len(keys)
    return summary


def generate(path: Path, scale: Scale, end_ms: int, seed: int = 3) -> Summary:
    """Write the benchmark's OpenMetrics file to path."""
    with path.open("w", encoding="utf-8", newline="\n", buffering=4 << 20) as out:
        return write(out, families(scale, end_ms, seed))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--tenants", type=int, default=Scale.tenants)
    parser.add_argument("--endpoints", type=int, default=Scale.endpoints)
    parser.add_argument("--minutes", type=int, default=Scale.minutes)
    parser.add_argument(
        "--end-ms", type=int, default=None, help="last grid point (default: now-ish)"
    )
    args = parser.parse_args(argv)
    end_ms = args.end_ms if args.end_ms is not None else default_end_ms(int(time.time() * 1000))
    scale = Scale(args.tenants, args.endpoints, args.minutes)
    started = time.perf_counter()
    summary = generate(args.out, scale, end_ms)
    print(
        f"{args.out}: {summary.series:,} series, {summary.samples:,} samples, "
        f"{summary.bytes / 2**20:,.0f} MiB in {time.perf_counter() - started:.1f} s; "
        f"query time {query_time(end_ms)}"
    )


if __name__ == "__main__":
    main()
