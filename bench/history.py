"""Long-history benchmark (issue 15): bytes on disk, 30-day queries, restart and memory, beside Prometheus.

`--series` series (default 10,000, with a `tenant` label over 20 tenants) are sampled every
15 s for `--days` days (default 30), with scrape-like timestamps (one per target, 15 s
apart plus a few ms of jitter): counters (`bench_requests_total`), decimal gauges
(`bench_latency_seconds`) and integer gauges (`bench_inflight`). The data is generated
window by window and group by group in numpy, so the benchmark's own memory stays bounded;
each group goes at once to tenantwatch's store (`append_series`, one call per series and
window) and to an OpenMetrics file of that window, which promtool turns into Prometheus
blocks, then deletes.

1. Bytes per sample on disk: the store's directory (and its blocks, when it lists them)
   against Prometheus' blocks (chunks, index, meta), for the same samples.
2. Queries per tenant: `avg_over_time`, `rate` and `increase` over `[<days>d]`, and a
   range query over the whole span at 1 h step; tenantwatch's Engine in process (in the
   child below) against Prometheus' own evalTotalTime. Results are compared.
3. Restart to ready: from starting a process that opens the store to its first query's
   answer, against Prometheus' start to `/-/ready` (and to its first answer).
4. Memory (`--memory`): resident memory of that process after the queries, with 1 day
   and with `--days` days of history stored, per active series.

The store's new calls (`append_series`, `housekeep`, `blocks_info`) are used when the store
has them; until then small adapters stand in (the head's bulk merge, a checkpoint), which
keep the whole history in memory: use `--quick` (500 series x 3 days) until they land.

    .venv/bin/python -m bench.history [--series 10000 --days 30] [--memory]
    .venv/bin/python -m bench.history --quick --memory
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from bench.common import (
    REL_TOLERANCE,
    BenchError,
    Comparison,
    HttpClient,
    close_enough,
    compare,
    create_blocks,
    median,
    prom_points,
    prom_query_body,
    require_prometheus,
    rss_bytes,
)
from tenantwatch import jsonio
from tenantwatch.types import Labels

STEP_MS = 15_000
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
TENANTS = 20
SERIES_PER_TARGET = 25
KINDS = ("bench_inflight", "bench_latency_seconds", "bench_requests_total")  # file order
ROUTES = ("/api/lessons", "/api/chat", "/api/login", "/api/search", "/api/progress")
QUERY_OFFSET_MS = 500  # queries at 500 ms past a 15 s grid point: no sample on a boundary
GROUP_SAMPLES = 4_000_000  # samples generated at once
OM_FILE_BYTES = 2 << 30  # an OpenMetrics window file stays under this
BYTES_PER_LINE = 100  # about, for sizing windows
RETENTION_MS = 3650 * DAY_MS
GOAL_BYTES_RATIO = 0.8
GOAL_QUERY_RATIO = 2.0
GOAL_READY_S = 10.0
GOAL_MEMORY_SPREAD = 0.10
ROLLUPS = ((HOUR_MS, 30 * DAY_MS), (60_000, DAY_MS))  # metrics/rollup.py's RULES

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


# -- the data ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """What to generate: `series` series over `days` days ending at end_ms (a whole day)."""

    series: int
    days: int
    end_ms: int
    tenants: int = TENANTS
    seed: int = 15

    @property
    def start_ms(self) -> int:
        return self.end_ms - self.days * DAY_MS

    @property
    def steps_per_day(self) -> int:
        return DAY_MS // STEP_MS

    @property
    def samples(self) -> int:
        return self.series * self.days * self.steps_per_day

    @property
    def query_ms(self) -> int:
        """Evaluation time of the instant queries, just after the last samples."""
        return self.end_ms + QUERY_OFFSET_MS

    def kind(self, i: int) -> int:
        return i % len(KINDS)

    def target(self, i: int) -> int:
        return i // SERIES_PER_TARGET

    def tenant(self, i: int) -> str:
        return f"tenant-{self.target(i) % self.tenants + 1:02d}"

    def labels(self, i: int) -> Labels:
        t = self.target(i)
        pairs = {
            "__name__": KINDS[self.kind(i)],
            "instance": f"10.1.{t // 250}.{t % 250}:9100",
            "job": "bench",
            "tenant": self.tenant(i),
        }
        if self.kind(i) != 0:
            pairs["route"] = ROUTES[(i // len(KINDS)) % len(ROUTES)]
        pairs["shard"] = str(i)  # keeps every series distinct whatever the counts
        return tuple(sorted(pairs.items()))

    def order(self) -> list[int]:
        """Series indices in file order: by metric name (OpenMetrics keeps families together)."""
        return sorted(range(self.series), key=lambda i: (KINDS[self.kind(i)], i))


def default_end_ms(now_ms: int) -> int:
    """The last whole day (UTC) before now."""
    return (now_ms // DAY_MS) * DAY_MS


def scrape_times(spec: Spec, target: int, day: int) -> Ints:
    """One target's scrape timestamps over day `day` (0 = the first): a fixed offset in the
    15 s interval (1-14 s, so never at QUERY_OFFSET_MS), plus |N(0, 3 ms)| of jitter."""
    rng = np.random.default_rng([spec.seed, 1, target, day])
    offset = 1000 + int(np.random.default_rng([spec.seed, 2, target]).integers(0, 13_000))
    n = spec.steps_per_day
    jitter = np.rint(np.abs(rng.normal(0.0, 3.0, n))).astype(np.int64)
    start = spec.start_ms + day * DAY_MS
    return start + offset + np.arange(n, dtype=np.int64) * STEP_MS + jitter


class Generator:
    """Values per series, day after day; the state between days is a few floats a series."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        rng = np.random.default_rng([spec.seed, 3])
        n = spec.series
        self.kind = np.array([spec.kind(i) for i in range(n)])
        self.rate = rng.uniform(0.2, 40.0, n) * STEP_MS / 1000  # counters: per step
        self.level = rng.uniform(0.02, 1.5, n)  # latency gauges: their mean
        self.last = np.where(
            self.kind == 2,
            rng.integers(100_000, 10_000_000, n).astype(np.float64),
            np.where(self.kind == 1, self.level, rng.integers(0, 200, n).astype(np.float64)),
        )

    def day(self, rows: Sequence[int], day: int) -> Floats:
        """Values of series `rows` over day `day` (days must be asked for in order)."""
        idx = np.asarray(rows)
        n = self.spec.steps_per_day
        rng = np.random.default_rng([self.spec.seed, 4, day, int(idx[0])])
        kind = self.kind[idx][:, None]
        last = self.last[idx][:, None]
        steps = np.arange(1, n + 1)[None, :]
        counter = last + np.cumsum(rng.poisson(self.rate[idx][:, None], (len(idx), n)), axis=1)
        level = self.level[idx][:, None]
        phase = 2 * math.pi * (day * n + steps) / n  # a daily cycle
        latency = np.round(
            level * (1 + 0.3 * np.sin(phase)) * rng.lognormal(0.0, 0.15, (len(idx), n)), 4
        )
        walk = np.clip(last + np.cumsum(rng.integers(-2, 3, (len(idx), n)), axis=1), 0, 400)
        out: Floats = np.where(kind == 2, counter, np.where(kind == 1, latency, walk)).astype(
            np.float64
        )
        self.last[idx] = out[:, -1]
        return out


def windows(spec: Spec, file_bytes: int = OM_FILE_BYTES) -> list[tuple[int, int]]:
    """Whole days [first, end) of each OpenMetrics file (one promtool run each)."""
    per_day = spec.series * spec.steps_per_day * BYTES_PER_LINE
    span = max(1, min(spec.days, file_bytes // max(per_day, 1)))
    return [(d, min(d + span, spec.days)) for d in range(0, spec.days, span)]


def groups(order: Sequence[int], days: int, steps: int) -> Iterator[list[int]]:
    size = max(1, GROUP_SAMPLES // (days * steps))
    for at in range(0, len(order), size):
        yield list(order[at : at + size])


# -- tenantwatch's store, through its new calls when it has them ------------------------
def open_store(directory: Path) -> Any:
    from tenantwatch.metrics.store import MetricStore

    store = MetricStore(directory, retention_ms=lambda _labels: RETENTION_MS)
    store.open()
    return store


def append_series(store: Any, labels: Labels, ts: Ints, vals: Floats) -> int:
    """The store's bulk append of one series (today: a merge into the head)."""
    if hasattr(store, "append_series"):
        return int(store.append_series(labels, ts, vals))
    return int(store.head.get_or_create(labels).merge(ts, vals))


def housekeep(store: Any, now_ms: int) -> None:
    """Cut the head into blocks and compact (today: nothing until close's checkpoint)."""
    if hasattr(store, "housekeep"):
        store.housekeep(now_ms)


def blocks_summary(store: Any) -> tuple[int, int] | None:
    """(blocks, bytes) from the store's blocks_info, or None before it has one."""
    if not hasattr(store, "blocks_info"):
        return None
    found = list(store.blocks_info())
    return len(found), sum(int(b.bytes) for b in found)


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- building both sides -------------------------------------------------------------------
def _om_key(labels: Labels) -> str:
    name = dict(labels)["__name__"]
    inner = ",".join(f'{k}="{v}"' for k, v in labels if k != "__name__")
    return f"{name}{{{inner}}}"


@dataclass
class Built:
    spec: Spec
    store_dir: Path
    store_bytes: int
    store_blocks: tuple[int, int] | None
    prometheus_dir: Path | None
    prometheus_bytes: int = 0
    prometheus_chunk_bytes: int = 0
    prometheus_block_days: int = 0
    build_s: float = 0.0
    promtool_s: float = 0.0


def build(
    spec: Spec,
    workdir: Path,
    *,
    prometheus: bool,
    console: Console,
    file_bytes: int = OM_FILE_BYTES,
) -> Built:
    """Generate the data into a fresh store (and, if asked, into Prometheus blocks)."""
    store_dir = workdir / f"tenantwatch-{spec.days}d"
    prom_dir = workdir / f"prometheus-{spec.days}d" if prometheus else None
    for d in (store_dir, prom_dir):
        if d is not None and d.exists():
            shutil.rmtree(d)
    started = time.perf_counter()
    store = open_store(store_dir)
    gen = Generator(spec)
    order = spec.order()
    labels = [spec.labels(i) for i in range(spec.series)]
    keys = [_om_key(x) for x in labels] if prometheus else []
    promtool_s = 0.0
    spans = windows(spec, file_bytes)
    for first, end in spans:
        om = workdir / f"window-{first}.om"
        out = om.open("w", encoding="utf-8", buffering=8 << 20) if prometheus else None
        for rows in groups(order, end - first, spec.steps_per_day):
            days = list(range(first, end))
            vals = np.hstack([gen.day(rows, d) for d in days])
            targets = {spec.target(i) for i in rows}
            stamps = {t: np.concatenate([scrape_times(spec, t, d) for d in days]) for t in targets}
            for row, i in enumerate(rows):
                ts = stamps[spec.target(i)]
                append_series(store, labels[i], ts, vals[row])
                if out is not None:
                    key = keys[i]
                    out.write(
                        "".join(
                            f"{key} {v!r} {t // 1000}.{t % 1000:03d}\n"
                            for v, t in zip(vals[row].tolist(), ts.tolist(), strict=True)
                        )
                    )
        housekeep(store, spec.start_ms + end * DAY_MS)
        if out is not None:
            out.write("# EOF\n")
            out.close()
            assert prom_dir is not None
            t0 = time.perf_counter()
            create_blocks(om, prom_dir, timeout=24 * 3600, block_hours=(end - first) * 24)
            promtool_s += time.perf_counter() - t0
            om.unlink()
        console.log(f"{spec.days} d store: days {first}-{end} of {spec.days} written")
    housekeep(store, spec.end_ms)  # the head keeps the last ~2 h, as a running store would
    blocks = blocks_summary(store)
    store.close()
    built = Built(spec, store_dir, dir_bytes(store_dir), blocks, prom_dir)
    built.build_s = time.perf_counter() - started - promtool_s
    built.promtool_s = promtool_s
    if prom_dir is not None:
        built.prometheus_bytes = dir_bytes(prom_dir)
        built.prometheus_chunk_bytes = sum(p.stat().st_size for p in prom_dir.glob("*/chunks/*"))
        built.prometheus_block_days = spans[0][1] - spans[0][0]
    return built


# -- queries --------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    name: str
    expr: str
    window_ms: int
    range_step_ms: int = 0  # 0: instant at spec.query_ms; else a range over the whole span
    rollup: bool = False  # rate/increase: the store may answer from a 1 m or 1 h rollup

    def tolerance(self, spec: Spec) -> float:
        """Relative difference allowed against Prometheus: tenantwatch answers rate() and
        increase() over long spans from rollups, within 2 x step / window of the raw answer
        (metrics/rollup.py); everything else as bench.query does."""
        if self.rollup:
            span = self.window_ms + (spec.days * DAY_MS if self.range_step_ms else 0)
            for step, above in ROLLUPS:
                if span > above and step <= self.window_ms // 10:
                    return max(REL_TOLERANCE, 2 * step / self.window_ms)
        return REL_TOLERANCE


def queries(spec: Spec, tenant: str = "tenant-01") -> list[Query]:
    w = f"{spec.days}d"
    w_ms = spec.days * DAY_MS
    sel = f'{{tenant="{tenant}"}}'
    return [
        Query(f"avg_over_time [{w}]", f"avg_over_time(bench_latency_seconds{sel}[{w}])", w_ms),
        Query(f"rate [{w}]", f"rate(bench_requests_total{sel}[{w}])", w_ms, rollup=True),
        Query(f"increase [{w}]", f"increase(bench_requests_total{sel}[{w}])", w_ms, rollup=True),
        Query(
            f"range {w} at 1h: sum by (route) (rate [1h])",
            f"sum by (route) (rate(bench_requests_total{sel}[1h]))",
            HOUR_MS,
            HOUR_MS,
            rollup=True,
        ),
    ]


def range_bounds(spec: Spec) -> tuple[int, int]:
    """A range query's start and end: whole hours (plus QUERY_OFFSET_MS) over the span."""
    return spec.start_ms + HOUR_MS + QUERY_OFFSET_MS, spec.query_ms


Rows = dict[Labels, list[tuple[int, float]]]


def _labels(pairs: Any) -> Labels:
    return tuple((str(k), str(v)) for k, v in pairs)


# The child process: opens the store, answers, measures. Its stdout carries two lines:
# "ready <seconds since it started>" and then one JSON document.
def child_main(store_dir: Path, spec_doc: dict[str, Any], runs: int) -> int:
    started = time.perf_counter()
    from tenantwatch.promql.engine import Engine
    from tenantwatch.promql.model import MatrixResult, ScalarResult, VectorResult

    spec = Spec(int(spec_doc["series"]), int(spec_doc["days"]), int(spec_doc["end_ms"]))
    store = open_store(store_dir)
    engine = Engine(store)
    qs = queries(spec)
    start, end = range_bounds(spec)

    # what the server's query backend does after every query (metrics/backend.py)
    after_query = getattr(store, "after_query", lambda: None)

    def run(q: Query) -> Any:
        try:
            if q.range_step_ms:
                return engine.range(q.expr, start, end, q.range_step_ms)
            return engine.instant(q.expr, spec.query_ms)
        finally:
            after_query()

    first = run(qs[0])
    print(f"ready {time.perf_counter() - started:.6f}", flush=True)
    del first
    out: list[dict[str, Any]] = []
    for q in qs:
        result = run(q)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            result = run(q)
            times.append((time.perf_counter() - t0) * 1000)
        value = result.value
        if isinstance(value, VectorResult):
            points: Any = [[list(s.labels), s.v] for s in value.samples]
        elif isinstance(value, MatrixResult):
            points = [[list(s.labels), [list(p) for p in s.points]] for s in value.series]
        elif isinstance(value, ScalarResult):
            points = [[[], value.v]]
        else:
            points = []
        out.append({"name": q.name, "ms": median(times), "points": points})
    rss = rss_bytes(os.getpid())
    doc = {
        "queries": out,
        "rss": rss,
        "series": int(store.head.active) if hasattr(store, "head") else None,
        "blocks": blocks_summary(store),
    }
    print(jsonio.dumps(doc, compact=True), flush=True)
    return 0


@dataclass
class ChildReport:
    ready_s: float  # from Popen to the first answer, seen by the parent
    own_ready_s: float  # from the child's first line of Python to the first answer
    queries: list[dict[str, Any]]
    rss: int
    series: int | None


def run_child(store_dir: Path, spec: Spec, runs: int) -> ChildReport:
    doc = jsonio.dumps({"series": spec.series, "days": spec.days, "end_ms": spec.end_ms})
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.history", "--child", str(store_dir), doc, str(runs)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        while line and not line.startswith("ready "):  # a log line before the answer
            line = proc.stdout.readline()
        ready = time.perf_counter() - started
        rest = proc.stdout.read()
        proc.wait()
        err.seek(0)
        problem = err.read().decode(errors="replace")[-3000:]
    lines = rest.strip().splitlines()
    if proc.returncode != 0 or not line or not lines:
        raise BenchError(f"the store's child process failed: {problem}")
    got = jsonio.loads(lines[-1])
    return ChildReport(
        ready, float(line.split()[1]), got["queries"], int(got["rss"]), got["series"]
    )


def time_prometheus(
    client: HttpClient, q: Query, spec: Spec, runs: int
) -> tuple[float, dict[str, Any]]:
    """Median evalTotalTime (ms) over runs after one warm-up, and the last answer's data."""
    if q.range_step_ms:
        start, end = range_bounds(spec)
        path = "/api/v1/query_range"
        params = {
            "query": q.expr,
            "start": f"{start / 1000:.3f}",
            "end": f"{end / 1000:.3f}",
            "step": f"{q.range_step_ms / 1000:g}",
            "stats": "all",
        }
    else:
        path = "/api/v1/query"
        params = {"query": q.expr, "time": f"{spec.query_ms / 1000:.3f}", "stats": "all"}
    times = []
    data: dict[str, Any] = {}
    for i in range(runs + 1):
        status, body = client.get(path, params)
        if status != 200:
            raise BenchError(f"prometheus answered HTTP {status}: {body[:300]!r}")
        data = prom_query_body(body)
        if i:
            times.append(float(data["stats"]["timings"]["evalTotalTime"]) * 1000)
    return median(times), data


def compare_rows(tw: Rows, prom: Rows, rel: float) -> Comparison:
    """Range results series by series: the same timestamps and values within tolerance."""
    out = Comparison()
    for labels, points in tw.items():
        other = prom.get(labels)
        if other is None:
            out.only_tenantwatch.append(labels)
            continue
        bad = len(points) != len(other) or any(
            t1 != t2 or not close_enough(v1, v2, rel)
            for (t1, v1), (t2, v2) in zip(points, other, strict=False)
        )
        if bad:
            where = next(
                (
                    (v1, v2)
                    for (t1, v1), (t2, v2) in zip(points, other, strict=False)
                    if t1 != t2 or not close_enough(v1, v2, rel)
                ),
                (float(len(points)), float(len(other))),
            )
            out.differ.append((labels, where[0], where[1]))
        else:
            out.matched += 1
    out.only_prometheus = [k for k in prom if k not in tw]
    return out


def _tw_rows(points: Any) -> Rows:
    return {_labels(lab): [(int(t), float(v)) for t, v in pts] for lab, pts in points}


def _prom_rows(data: dict[str, Any]) -> Rows:
    from tenantwatch.promql.model import labels_of

    return {
        labels_of(item["metric"]): [(round(float(t) * 1000), float(v)) for t, v in item["values"]]
        for item in data["result"]
    }


# -- the run ----------------------------------------------------------------------------
@dataclass
class QueryRow:
    name: str
    series: int
    tenantwatch_ms: float
    prometheus_ms: float
    comparison: Comparison
    tolerance: float

    @property
    def ratio(self) -> float:
        return self.tenantwatch_ms / self.prometheus_ms if self.prometheus_ms > 0 else math.nan


@dataclass
class Report:
    built: Built
    child: ChildReport
    prometheus_ready_s: float
    prometheus_first_answer_s: float
    prometheus_rss: int
    rows: list[QueryRow]
    memory: list[tuple[int, int, int | None]] = field(default_factory=list)  # days, rss, series
    baseline_rss: int = 0


def empty_baseline(workdir: Path, spec: Spec, console: Console) -> int:
    """RSS of the child on an empty store (imports, engine, nothing stored)."""
    empty = workdir / "tenantwatch-empty"
    if empty.exists():
        shutil.rmtree(empty)
    open_store(empty).close()
    return run_child(empty, spec, 1).rss


def run(
    spec: Spec,
    *,
    runs: int,
    workdir: Path,
    memory: bool,
    console: Console,
    file_bytes: int = OM_FILE_BYTES,
) -> Report:
    from tests.prometheus_server import start_prometheus

    require_prometheus()
    console.log(
        f"{spec.series:,} series x {spec.days} days = {spec.samples:,} samples; "
        f"OpenMetrics windows of {windows(spec, file_bytes)[0][1]} day(s)"
    )
    built = build(spec, workdir, prometheus=True, console=console, file_bytes=file_bytes)
    console.log(
        f"built in {built.build_s:.1f} s (promtool {built.promtool_s:.1f} s): tenantwatch "
        f"{built.store_bytes / spec.samples:.3f} bytes/sample, prometheus "
        f"{built.prometheus_bytes / spec.samples:.3f}"
    )
    child = run_child(built.store_dir, spec, runs)
    console.log(f"tenantwatch: first answer {child.ready_s:.2f} s after the process started")
    assert built.prometheus_dir is not None
    block_h = built.prometheus_block_days * 24
    started = time.perf_counter()
    server = start_prometheus(
        workdir / "prometheus",
        data_dir=built.prometheus_dir,
        flags=[
            "--storage.tsdb.retention.time=3650d",
            # keep promtool's blocks as they are: no compaction while queries are timed
            f"--storage.tsdb.max-block-duration={block_h}h",
            "--query.timeout=10m",
        ],
        ready_timeout=600,
    )
    prom_ready = time.perf_counter() - started
    client = HttpClient(server.url, timeout=600)
    rows: list[QueryRow] = []
    try:
        qs = queries(spec)
        t0 = time.perf_counter()
        time_prometheus(client, qs[0], spec, 0)
        prom_first = prom_ready + time.perf_counter() - t0
        for q, tw in zip(qs, child.queries, strict=True):
            prom_ms, data = time_prometheus(client, q, spec, runs)
            if q.range_step_ms:
                cmp = compare_rows(_tw_rows(tw["points"]), _prom_rows(data), q.tolerance(spec))
            else:
                tw_points = {_labels(lab): float(v) for lab, v in tw["points"]}
                cmp = compare(tw_points, prom_points(data), q.tolerance(spec))
            rows.append(
                QueryRow(
                    q.name, len(tw["points"]), float(tw["ms"]), prom_ms, cmp, q.tolerance(spec)
                )
            )
            console.log(f"{q.name}: tenantwatch {tw['ms']:.1f} ms, prometheus {prom_ms:.1f} ms")
        prom_rss = rss_bytes(server.process.pid)
    finally:
        client.close()
        server.stop()
    report = Report(built, child, prom_ready, prom_first, prom_rss, rows)
    if memory:
        report.baseline_rss = empty_baseline(workdir, spec, console)
        one = Spec(spec.series, 1, spec.end_ms, spec.tenants, spec.seed)
        if spec.days != 1:
            small = build(one, workdir, prometheus=False, console=console, file_bytes=file_bytes)
            small_child = run_child(small.store_dir, one, 1)
            report.memory.append((1, small_child.rss, small_child.series))
        report.memory.append((spec.days, child.rss, child.series))
        report.memory.sort()
    return report


def print_report(report: Report, console: Console) -> None:
    b = report.built
    spec = b.spec
    ratio = b.store_bytes / b.prometheus_bytes if b.prometheus_bytes else math.nan
    colour = "green" if ratio <= GOAL_BYTES_RATIO else "red"
    console.print(
        f"[bold]{spec.series:,} series x {spec.days} days at 15 s = {spec.samples:,} samples[/bold]"
    )
    blocks = (
        f"; its {b.store_blocks[0]} blocks: {b.store_blocks[1] / spec.samples:.3f}"
        if b.store_blocks
        else "; the store lists no blocks yet (today's store: checkpoint + WAL)"
    )
    console.print(
        f"1. bytes/sample on disk: tenantwatch {b.store_bytes / spec.samples:.3f} (whole "
        f"directory{blocks}), Prometheus {b.prometheus_bytes / spec.samples:.3f} (blocks of "
        f"{b.prometheus_block_days} d from promtool; "
        f"{b.prometheus_chunk_bytes / spec.samples:.3f} in chunks): [{colour}]{ratio:.2f}x[/{colour}] "
        f"(goal <= {GOAL_BYTES_RATIO}x)"
    )
    table = Table(title=f"2. Queries per tenant over {spec.days} days")
    for col in ("query", "series", "tenantwatch ms", "prometheus ms", "ratio", "results"):
        table.add_column(col, justify="left" if col in ("query", "results") else "right")
    for r in report.rows:
        c = "green" if r.ratio <= GOAL_QUERY_RATIO else "red"
        table.add_row(
            r.name,
            str(r.series),
            f"{r.tenantwatch_ms:.1f}",
            f"{r.prometheus_ms:.1f}",
            f"[{c}]{r.ratio:.2f}x[/{c}]",
            f"[green]same[/green] (within {r.tolerance:.1e})"
            if r.comparison.ok
            else f"[red]DIFFER[/red] {r.comparison.describe()}",
        )
    console.print(table)
    console.print(
        "tenantwatch ms: Engine in the child process that opened the store; prometheus ms: "
        f"its evalTotalTime (stats=all). Medians; goal <= {GOAL_QUERY_RATIO:g}x."
    )
    ch = report.child
    c = "green" if ch.ready_s <= GOAL_READY_S else "red"
    console.print(
        f"3. restart to ready: tenantwatch [{c}]{ch.ready_s:.2f} s[/{c}] from starting the "
        f"process to its first answer ({ch.own_ready_s:.2f} s of it after the interpreter "
        f"started); Prometheus {report.prometheus_ready_s:.2f} s to /-/ready, "
        f"{report.prometheus_first_answer_s:.2f} s to its first answer; "
        f"ratio {ch.ready_s / report.prometheus_first_answer_s:.2f}x (goal < {GOAL_READY_S:g} s)"
    )
    console.print(
        f"   resident memory after the queries: tenantwatch {ch.rss / 2**20:,.0f} MiB, "
        f"Prometheus {report.prometheus_rss / 2**20:,.0f} MiB"
    )
    if report.memory:
        parts = []
        for days, rss, _series in report.memory:
            n = spec.series  # every series is active (scraped) in this model
            net = (rss - report.baseline_rss) / n
            parts.append(
                f"{days} d: {rss / 2**20:,.0f} MiB, {rss / n:,.0f} bytes per active series "
                f"({net:,.0f} net of the empty store's {report.baseline_rss / 2**20:,.0f} MiB)"
            )
        console.print("4. memory: " + "; ".join(parts))
        if len(report.memory) == 2:
            spread = report.memory[1][1] / report.memory[0][1] - 1
            c = "green" if abs(spread) <= GOAL_MEMORY_SPREAD else "red"
            console.print(
                f"   {report.memory[1][0]} d against 1 d: [{c}]{spread:+.0%}[/{c}] "
                f"(goal within {GOAL_MEMORY_SPREAD:.0%})"
            )


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--child"]:
        _, store_dir, doc, child_runs = args_list
        return child_main(Path(store_dir), jsonio.loads(doc), int(child_runs))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (median)")
    parser.add_argument("--memory", action="store_true", help="also build 1 day and compare RSS")
    parser.add_argument("--quick", action="store_true", help="500 series x 3 days, 3 runs")
    parser.add_argument("--workdir", type=Path, help="keep the stores and blocks here")
    parser.add_argument(
        "--end-ms", type=int, default=None, help="end of the data (default: last midnight UTC)"
    )
    args = parser.parse_args(args_list)
    series, days, runs = (500, 3, 3) if args.quick else (args.series, args.days, args.runs)
    end = args.end_ms if args.end_ms is not None else default_end_ms(int(time.time() * 1000))
    spec = Spec(series, days, end)
    console = Console(width=max(Console().width, 150), log_path=False)
    try:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            report = run(spec, runs=runs, workdir=args.workdir, memory=args.memory, console=console)
        else:
            with tempfile.TemporaryDirectory(prefix="tenantwatch-bench-history-") as tmp:
                report = run(
                    spec, runs=runs, workdir=Path(tmp), memory=args.memory, console=console
                )
    except (BenchError, ValueError, RuntimeError) as exc:
        console.print(f"[red]bench.history: {exc}[/red]")
        return 2
    print_report(report, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
