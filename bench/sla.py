"""SLA engine benchmark: a monthly report for every tenant, and one tenant's over the API.

`--tenants` tenants (default 1,000) over the three built-in tiers (basic, professional,
enterprise) and five timezones (UTC, Europe/Berlin, America/New_York, Asia/Tokyo,
Australia/Sydney), each with one or two http checks. Every check has a
`tenantwatch_check_up{tenant,check,kind="http"}` and a `tenantwatch_check_duration_seconds`
sample every 60 s (at second 17 of the minute) from 31 October 2026 00:00 UTC (before
November begins in any of the zones) to a fixed now, 2026-12-07T12:00Z: the last full
month and the current month to date. Outages are random (a seeded Poisson number per check,
lognormal lengths of a few minutes to hours): the same arguments give the same samples.

The samples go into a real MetricStore on disk with `append_series`, cut into blocks by
`housekeep()` every few days, so the month is read from compressed blocks as in
production. The `up` samples from 31 October to 2 December also go to an OpenMetrics file
that `promtool` turns into Prometheus blocks.

1. Platform report: the runtime's SLA service (`build_runtime` -> `build_sla`: SQLite
   tenants, the store read in a worker thread, the embedded query backend) with its clock
   at the fixed now; `platform_report(SYSTEM, "monthly", date(2026, 11, 15))`, every
   tenant's November in its own timezone. First run and median of `--runs`; goal < 10 s.
2. Single-tenant API: `tenantwatch`'s app under uvicorn on loopback (roles: api, so the SLA
   target writer runs too; the benchmark waits for its first month-to-date measure), then
   `GET /api/v1/monitoring/sla/{tenant}?period=monthly&date=2026-11-15` for `--calls`
   tenants one after another on a keep-alive connection: median and p95; goal < 200 ms.
3. Baseline: Debian's Prometheus on the same `up` samples evaluating the bare availability
   ratio every SLO tool computes, `avg by (tenant) (avg_over_time(tenantwatch_check_up[30d]))`
   at 1 December 00:00 UTC (its evalTotalTime, median of `--runs`; the round trip is shown
   too). The ratio is tenantwatch's whole report over that query. Prometheus also answers
   one query per tenant over that tenant's own month (timed as a loop over HTTP).
4. Agreement: tenantwatch's availability per tenant against Prometheus over the same
   window. tenantwatch's is time-weighted (each sample holds until the next one) and a
   tenant is down while any of its checks is; so it is compared with
   `avg_over_time(min by (tenant) (tenantwatch_check_up)[<month>:1m])` (one query per
   timezone). With one sample a minute and no gaps the two differ by at most one sample's
   share of the month at its edges (100/43,200 ~ 0.0023 percentage points) plus
   tenantwatch's rounding down to 0.0001; the tolerance is 0.05 points. The bare sample
   average per tenant (the mean of its checks' averages) is shown too: for tenants with two
   checks it differs by definition (overlapping vs separate outages).

Without Prometheus the benchmark says so and prints tenantwatch's figures against the goals.

    .venv/bin/python -m bench.sla                 # 1,000 tenants: 163 M samples; ~8 min, ~6 GB of temp files
    .venv/bin/python -m bench.sla --quick         # 100 tenants, November only; ~1 min
    .venv/bin/python -m bench.sla --tenants 300 --workdir /tmp/sla   # keep the files
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Console

from bench.common import BenchError, HttpClient, create_blocks, median, prom_query_body

MIN_MS = 60_000
DAY_MS = 86_400_000
OFFSET_MS = 17_000  # samples at second 17 of each minute: never on a window boundary
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
REPORT_DAY = date(2026, 11, 15)
DATA_START = datetime(2026, 10, 31, tzinfo=UTC)  # before 1 November in every zone below
PROM_END = datetime(2026, 12, 2, tzinfo=UTC)  # after 1 December in every zone below
PROM_QUERY_AT = datetime(2026, 12, 1, tzinfo=UTC)
TIERS = ("basic", "professional", "enterprise")
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
CHECKS = ("api", "web")
WINDOW_DAYS = 4  # samples generated (and cut into blocks) this many days at a time
RETENTION_MS = 3650 * DAY_MS
GOAL_REPORT_S = 10.0
GOAL_API_MS = 200.0
TOLERANCE_PP = 0.05  # percentage points
PLATFORM_QUERY = "avg by (tenant) (avg_over_time(tenantwatch_check_up[30d]))"

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# -- the data ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TenantSpec:
    id: str
    tier: str
    zone: str
    checks: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    """`tenants` tenants sampled every minute from start_ms to end_ms (ms, UTC)."""

    tenants: int = 1000
    start_ms: int = ms(DATA_START)
    end_ms: int = ms(NOW)
    seed: int = 11
    outages: float = 3.0  # mean outages per check over the whole span

    def tenant(self, i: int) -> TenantSpec:
        rng = np.random.default_rng([self.seed, 1, i])
        n = 1 + int(rng.random() < 0.5)
        return TenantSpec(
            f"tenant-{i + 1:04d}", TIERS[i % len(TIERS)], ZONES[i % len(ZONES)], CHECKS[:n]
        )

    def all_tenants(self) -> list[TenantSpec]:
        return [self.tenant(i) for i in range(self.tenants)]

    def series_count(self) -> int:
        return sum(len(t.checks) for t in self.all_tenants())

    def samples_per_series(self) -> int:
        return len(grid(self.start_ms, self.end_ms))

    def down_windows(self, i: int, check: int) -> list[tuple[int, int]]:
        """A check's outages: [start, end) in ms, sorted and merged."""
        rng = np.random.default_rng([self.seed, 2, i, check])
        k = int(rng.poisson(self.outages))
        starts = rng.integers(self.start_ms, self.end_ms, k)
        lengths = np.clip(rng.lognormal(math.log(20 * MIN_MS), 1.2, k), MIN_MS, 8 * 3_600_000)
        out: list[tuple[int, int]] = []
        for s, n in sorted(zip(starts.tolist(), lengths.tolist(), strict=True)):
            e = s + int(n)
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], e))
            else:
                out.append((s, e))
        return out


def grid(lo: int, hi: int) -> Ints:
    """Sample times in [lo, hi): second 17 of every minute."""
    first = lo - lo % MIN_MS + OFFSET_MS
    if first < lo:
        first += MIN_MS
    return np.arange(first, hi, MIN_MS, dtype=np.int64)


def up_values(ts: Ints, down: Sequence[tuple[int, int]]) -> Floats:
    vals = np.ones(len(ts))
    for s, e in down:
        vals[(ts >= s) & (ts < e)] = 0.0
    return vals


def duration_values(spec: Spec, i: int, check: int, window: int, up: Floats) -> Floats:
    rng = np.random.default_rng([spec.seed, 3, i, check, window])
    level = 0.05 + 0.3 * np.random.default_rng([spec.seed, 4, i, check]).random()
    vals = np.round(level * rng.lognormal(0.0, 0.35, len(up)), 4)
    return np.where(up > 0, vals, 10.0)  # a failed run: the probe's timeout


def windows(spec: Spec) -> Iterator[tuple[int, int, int]]:
    """(index, lo, hi) of the generation windows."""
    span = WINDOW_DAYS * DAY_MS
    for n, lo in enumerate(range(spec.start_ms, spec.end_ms, span)):
        yield n, lo, min(lo + span, spec.end_ms)


def labels(name: str, tenant: str, check: str) -> tuple[tuple[str, str], ...]:
    return (("__name__", name), ("check", check), ("kind", "http"), ("tenant", tenant))


def build_store(spec: Spec, directory: Path, console: Console | None = None) -> int:
    """Write every series into a MetricStore at directory, cut into blocks; return samples."""
    from tenantwatch.metrics.store import MetricStore

    store = MetricStore(directory, retention_ms=lambda _labels: RETENTION_MS)
    store.open()
    tenants = spec.all_tenants()
    downs = {
        (i, c): spec.down_windows(i, c) for i, t in enumerate(tenants) for c in range(len(t.checks))
    }
    written = 0
    try:
        for n, lo, hi in windows(spec):
            ts = grid(lo, hi)
            for i, t in enumerate(tenants):
                for c, check in enumerate(t.checks):
                    up = up_values(ts, downs[i, c])
                    dur = duration_values(spec, i, c, n, up)
                    store.append_series(labels("tenantwatch_check_up", t.id, check), ts, up)
                    store.append_series(
                        labels("tenantwatch_check_duration_seconds", t.id, check), ts, dur
                    )
                    written += 2 * len(ts)
            store.housekeep(hi)
            if console is not None:
                console.log(f"store: {written:,} samples written, up to {_iso(hi)}")
    finally:
        store.close()
    return written


def write_openmetrics(spec: Spec, path: Path, lo: int, hi: int) -> int:
    """The `up` samples in [lo, hi) as OpenMetrics; return how many."""
    ts = grid(max(lo, spec.start_ms), min(hi, spec.end_ms))
    stamps = [str(t // 1000) for t in ts.tolist()]
    lines = 0
    with path.open("w", encoding="utf-8", buffering=8 << 20) as out:
        out.write("# TYPE tenantwatch_check_up gauge\n")
        for i, t in enumerate(spec.all_tenants()):
            for c, check in enumerate(t.checks):
                key = f'tenantwatch_check_up{{check="{check}",kind="http",tenant="{t.id}"}} '
                up = up_values(ts, spec.down_windows(i, c))
                text = ["1 ", "0 "]
                out.write(
                    "".join(
                        key + text[v == 0.0] + s + "\n"
                        for v, s in zip(up.tolist(), stamps, strict=True)
                    )
                )
                lines += len(stamps)
        out.write("# EOF\n")
    return lines


def _iso(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


# -- tenantwatch -------------------------------------------------------------------------
def settings_for(workdir: Path) -> Any:
    from tenantwatch.settings import Settings

    return Settings(
        database_url=f"sqlite+aiosqlite:///{workdir / 'tw.db'}",
        data_dir=workdir / "var",
        log_level="warning",
    )


def store_dir(workdir: Path) -> Path:
    return workdir / "var" / "metrics"  # metrics/wiring.py's store_directory by default


def _runtime(workdir: Path) -> Any:
    from tenantwatch.config.model import Config
    from tenantwatch.runtime.root import build_runtime

    rt = build_runtime(settings_for(workdir), Config())
    assert rt.sla is not None
    rt.sla.clock = NOW.timestamp
    return rt


async def _setup_database(spec: Spec, workdir: Path) -> str:
    """Migrate, create the tenants, issue a read key; return its secret."""
    from tenantwatch.domain.apikeys import SYSTEM, Scope
    from tenantwatch.runtime.root import prepare
    from tenantwatch.services.tenants import TenantInput

    rt = _runtime(workdir)
    try:
        await prepare(rt)
        for t in spec.all_tenants():
            await rt.tenants.create(
                SYSTEM, TenantInput(id=t.id, name=t.id.title(), tier=t.tier, timezone=t.zone)
            )
        issued = await rt.api_keys.issue(SYSTEM, name="bench", scopes=[Scope.READ])
        return str(issued.secret)
    finally:
        await rt.stop()


def setup_database(spec: Spec, workdir: Path) -> str:
    return asyncio.run(_setup_database(spec, workdir))


@dataclass
class ReportTiming:
    tenants: int
    first_s: float
    times_s: list[float]
    availability: dict[str, float | None]  # tenant -> percent

    @property
    def median_s(self) -> float:
        return median(self.times_s)


async def _time_report(workdir: Path, runs: int) -> ReportTiming:
    from tenantwatch.domain.apikeys import SYSTEM

    rt = _runtime(workdir)
    await rt.metrics.start()
    try:
        times = []
        report = None
        for _ in range(max(1, runs) + 1):
            t0 = time.perf_counter()
            report = await rt.sla.platform_report(SYSTEM, "monthly", REPORT_DAY)
            times.append(time.perf_counter() - t0)
        assert report is not None
        got = {
            t.tenant_id: None
            if t.availability_percentage is None
            else float(t.availability_percentage)
            for t in report.tenants
        }
        return ReportTiming(len(report.tenants), times[0], times[1:], got)
    finally:
        await rt.stop()


def time_report(workdir: Path, runs: int) -> ReportTiming:
    """Time the platform report over the store and database in workdir (a fresh runtime):
    the first run, then `runs` more."""
    return asyncio.run(_time_report(workdir, runs))


@dataclass
class ApiTiming:
    times_ms: list[float]
    background_measure_s: float

    @property
    def median_ms(self) -> float:
        return median(self.times_ms)

    @property
    def p95_ms(self) -> float:
        return percentile(self.times_ms, 0.95)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def time_api(spec: Spec, workdir: Path, key: str, calls: int, timeout_s: float = 600) -> ApiTiming:
    """uvicorn on loopback over a fresh runtime; GET one tenant's November, `calls` times
    (different tenants), after one warm-up call and the SLA target writer's first measure."""
    import httpx
    from tests.live_server import live_app

    from tenantwatch.runtime.root import Role
    from tenantwatch.web.app import create_app

    rt = _runtime(workdir)
    writer = rt.sla_targets
    tenants = spec.all_tenants()
    started = time.perf_counter()
    with live_app(create_app(rt.settings, rt, roles={Role.API})) as url:
        while writer is not None and len(writer.reports) < len(tenants):
            if time.perf_counter() - started > timeout_s:
                raise BenchError("the SLA target writer did not measure every tenant in time")
            time.sleep(0.1)
        background = time.perf_counter() - started
        headers = {"Authorization": f"Bearer {key}"}
        params = {"period": "monthly", "date": REPORT_DAY.isoformat()}
        times = []
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            for n in range(calls + 1):
                tenant = tenants[(n * 7) % len(tenants)].id
                t0 = time.perf_counter()
                r = client.get(f"/api/v1/monitoring/sla/{tenant}", params=params)
                elapsed = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise BenchError(f"the SLA API answered {r.status_code}: {r.text[:300]}")
                if n:
                    times.append(elapsed)
    return ApiTiming(times, background)


# -- Prometheus -------------------------------------------------------------------------
@dataclass
class PromFigures:
    platform_ms: float
    platform_round_trip_ms: float
    platform_series: int
    per_tenant_loop_s: float
    bare: dict[str, float]  # tenant -> percent, mean of its checks' sample averages
    weighted: dict[str, float]  # tenant -> percent, min over checks, 1 m subquery
    promtool_s: float
    samples: int


def _instant(client: HttpClient, expr: str, at_ms: int) -> tuple[dict[str, Any], float]:
    t0 = time.perf_counter()
    status, body = client.get(
        "/api/v1/query", {"query": expr, "time": f"{at_ms / 1000:.3f}", "stats": "all"}
    )
    elapsed = time.perf_counter() - t0
    if status != 200:
        raise BenchError(f"prometheus answered HTTP {status}: {body[:300]!r}")
    return prom_query_body(body), elapsed


def _by_tenant(data: dict[str, Any]) -> dict[str, float]:
    return {item["metric"]["tenant"]: float(item["value"][1]) * 100 for item in data["result"]}


def month_windows(spec: Spec) -> dict[str, tuple[int, int]]:
    """zone -> the report month [start, end) in ms, as tenantwatch selects it."""
    from zoneinfo import ZoneInfo

    from tenantwatch.sla import periods

    out = {}
    for zone in {t.zone for t in spec.all_tenants()}:
        p = periods.select("monthly", REPORT_DAY, NOW, ZoneInfo(zone))
        out[zone] = (ms(p.start), ms(p.end))
    return out


def run_prometheus(spec: Spec, workdir: Path, runs: int, console: Console) -> PromFigures:
    from tests.prometheus_server import start_prometheus

    om = workdir / "up.om"
    lo = ms(DATA_START)
    samples = write_openmetrics(spec, om, lo, ms(PROM_END))
    console.log(f"prometheus: {samples:,} up samples written as OpenMetrics; promtool ...")
    prom_dir = workdir / "prometheus-data"
    hours = math.ceil((ms(PROM_END) - lo) / 3_600_000)
    t0 = time.perf_counter()
    create_blocks(om, prom_dir, block_hours=hours + 48)
    promtool_s = time.perf_counter() - t0
    om.unlink()
    server = start_prometheus(
        workdir / "prometheus",
        data_dir=prom_dir,
        flags=[
            "--storage.tsdb.retention.time=3650d",
            f"--storage.tsdb.max-block-duration={hours + 48}h",
            "--query.timeout=10m",
        ],
        ready_timeout=600,
    )
    client = HttpClient(server.url, timeout=600)
    try:
        at = ms(PROM_QUERY_AT)
        evals, trips = [], []
        data: dict[str, Any] = {}
        for n in range(runs + 1):
            data, elapsed = _instant(client, PLATFORM_QUERY, at)
            if n:
                evals.append(float(data["stats"]["timings"]["evalTotalTime"]) * 1000)
                trips.append(elapsed * 1000)
        series = len(data["result"])
        months = month_windows(spec)
        bare: dict[str, float] = {}
        t0 = time.perf_counter()
        for t in spec.all_tenants():
            start, end = months[t.zone]
            expr = (
                f'avg(avg_over_time(tenantwatch_check_up{{tenant="{t.id}"}}'
                f"[{(end - start) // 1000}s]))"
            )
            got, _ = _instant(client, expr, end)
            if got["result"]:
                bare[t.id] = float(got["result"][0]["value"][1]) * 100
        loop_s = time.perf_counter() - t0
        weighted: dict[str, float] = {}
        for zone, (start, end) in sorted(months.items()):
            ids = "|".join(t.id for t in spec.all_tenants() if t.zone == zone)
            expr = (
                f'avg_over_time((min by (tenant) (tenantwatch_check_up{{tenant=~"{ids}"}}))'
                f"[{(end - start) // 1000}s:1m])"
            )
            got, _ = _instant(client, expr, end)
            weighted.update(_by_tenant(got))
    finally:
        client.close()
        server.stop()
    return PromFigures(
        median(evals), median(trips), series, loop_s, bare, weighted, promtool_s, samples
    )


# -- comparing ---------------------------------------------------------------------------
@dataclass
class Agreement:
    compared: int = 0
    max_diff_pp: float = 0.0
    worst: str = ""
    missing: list[str] = field(default_factory=list)
    over: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.over


def agree(
    tenantwatch: dict[str, float | None], other: dict[str, float], tolerance_pp: float
) -> Agreement:
    out = Agreement()
    for tenant, a in sorted(tenantwatch.items()):
        b = other.get(tenant)
        if a is None or b is None:
            out.missing.append(tenant)
            continue
        out.compared += 1
        diff = abs(a - b)
        if diff > out.max_diff_pp:
            out.max_diff_pp, out.worst = diff, tenant
        if diff > tolerance_pp:
            out.over.append((tenant, a, b))
    return out


# -- the run ----------------------------------------------------------------------------
@dataclass
class Result:
    spec: Spec
    samples: int
    build_s: float
    report: ReportTiming
    api: ApiTiming
    prom: PromFigures | None
    prom_missing: str = ""


def run(
    spec: Spec, workdir: Path, *, runs: int, calls: int, console: Console, prometheus: bool
) -> Result:
    from bench.common import require_prometheus

    missing = ""
    if prometheus:
        try:
            require_prometheus()
        except BenchError as exc:
            missing = f"Prometheus is not installed: {exc}"
            console.print(f"[yellow]{missing}; measuring tenantwatch only[/yellow]")
    else:
        missing = "Prometheus skipped (--no-prometheus)"
    console.log(
        f"{spec.tenants:,} tenants, {spec.series_count():,} checks x 2 series x "
        f"{spec.samples_per_series():,} samples ({_iso(spec.start_ms)} to {_iso(spec.end_ms)})"
    )
    t0 = time.perf_counter()
    samples = build_store(spec, store_dir(workdir), console)
    build_s = time.perf_counter() - t0
    console.log(f"store built: {samples:,} samples in {build_s:.1f} s")
    key = setup_database(spec, workdir)
    console.log(f"{spec.tenants:,} tenants in SQLite; timing the platform report ...")
    report = time_report(workdir, runs)
    console.log(
        f"platform report: first {report.first_s:.2f} s, median {report.median_s:.2f} s "
        f"over {len(report.times_s)}"
    )
    api = time_api(spec, workdir, key, calls)
    console.log(f"API: median {api.median_ms:.1f} ms, p95 {api.p95_ms:.1f} ms")
    prom = None
    if not missing:
        prom = run_prometheus(spec, workdir, runs, console)
    return Result(spec, samples, build_s, report, api, prom, missing)


def _mark(ok: bool, text: str) -> str:
    colour = "green" if ok else "red"
    return f"[{colour}]{text}[/{colour}]"


def print_result(res: Result, console: Console) -> None:
    rep, api, spec = res.report, res.api, res.spec
    console.print(
        f"[bold]{spec.tenants:,} tenants, {spec.series_count():,} http checks, "
        f"{res.samples:,} samples in the store (blocks)[/bold]"
    )
    best = rep.median_s
    console.print(
        "1. platform report, November 2026 in every tenant's zone: "
        + _mark(best < GOAL_REPORT_S, f"{best:.2f} s")
        + f" median of {len(rep.times_s)} ({rep.first_s:.2f} s the first run), "
        f"{rep.tenants / best:,.0f} tenants/s (goal < {GOAL_REPORT_S:g} s)"
    )
    console.print(
        "2. GET /api/v1/monitoring/sla/{tenant}?period=monthly&date=2026-11-15 over uvicorn: "
        f"median {_mark(api.median_ms < GOAL_API_MS, f'{api.median_ms:.1f} ms')}, "
        f"p95 {_mark(api.p95_ms < GOAL_API_MS, f'{api.p95_ms:.1f} ms')} over "
        f"{len(api.times_ms)} calls (goal < {GOAL_API_MS:g} ms); the SLA target writer's "
        f"first month-to-date measure took {api.background_measure_s:.1f} s after start"
    )
    prom = res.prom
    if prom is None:
        console.print(
            f"[yellow]3. no baseline: {res.prom_missing}; the figures above are "
            "absolute, against the goals only.[/yellow]"
        )
        return
    ratio = best * 1000 / prom.platform_ms if prom.platform_ms > 0 else math.nan
    console.print(
        f"3. Prometheus `{PLATFORM_QUERY}` over {prom.samples:,} up samples "
        f"({prom.platform_series} tenants): {prom.platform_ms:.1f} ms evalTotalTime "
        f"({prom.platform_round_trip_ms:.1f} ms round trip); tenantwatch's whole report is "
        f"[bold]{ratio:.1f}x[/bold] that. One query per tenant over its own month: "
        f"{prom.per_tenant_loop_s:.2f} s for {len(prom.bare)} tenants "
        f"(tenantwatch {best / prom.per_tenant_loop_s:.2f}x). promtool took {prom.promtool_s:.0f} s."
    )
    same = agree(rep.availability, prom.weighted, TOLERANCE_PP)
    console.print(
        "4. availability vs Prometheus' 1 m subquery of min by (tenant): "
        + _mark(
            same.ok,
            f"{same.compared} tenants, max difference {same.max_diff_pp:.4f} pp"
            + (f" ({same.worst})" if same.worst else ""),
        )
        + f" (tolerance {TOLERANCE_PP} pp)"
    )
    if not same.ok:
        console.print(f"   [red]missing: {same.missing[:5]}; over tolerance: {same.over[:5]}[/red]")
    one = {t.id for t in spec.all_tenants() if len(t.checks) == 1}
    single = agree({k: v for k, v in rep.availability.items() if k in one}, prom.bare, TOLERANCE_PP)
    both = agree({k: v for k, v in rep.availability.items() if k not in one}, prom.bare, math.inf)
    console.print(
        "   vs the bare sample average (avg_over_time per check, averaged): one-check "
        + _mark(single.ok, f"{single.compared} tenants, max {single.max_diff_pp:.4f} pp")
        + f"; two-check {both.compared} tenants, max {both.max_diff_pp:.4f} pp (by definition: "
        "tenantwatch counts a tenant down while any check is)"
    )


def quiet_logs() -> None:
    """Warnings and errors only (the store logs every block it cuts at debug)."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="timed platform reports (median)")
    parser.add_argument("--calls", type=int, default=50, help="timed API calls")
    parser.add_argument("--quick", action="store_true", help="100 tenants, November only")
    parser.add_argument("--no-prometheus", action="store_true", help="tenantwatch only")
    parser.add_argument("--workdir", type=Path, help="keep the store, database and blocks here")
    args = parser.parse_args(argv)
    quiet_logs()
    spec = Spec(args.tenants)
    if args.quick:
        spec = Spec(100, end_ms=ms(PROM_END))
    console = Console(width=max(Console().width, 150), log_path=False)
    try:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            res = run(
                spec,
                args.workdir,
                runs=args.runs,
                calls=args.calls,
                console=console,
                prometheus=not args.no_prometheus,
            )
        else:
            with tempfile.TemporaryDirectory(prefix="tenantwatch-bench-sla-") as tmp:
                res = run(
                    spec,
                    Path(tmp),
                    runs=args.runs,
                    calls=args.calls,
                    console=console,
                    prometheus=not args.no_prometheus,
                )
    except (BenchError, ValueError, RuntimeError) as exc:
        console.print(f"[red]bench.sla: {exc}[/red]")
        return 2
    print_result(res, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
