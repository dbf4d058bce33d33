"""Query benchmark: the seed rules' expressions over ~100,000 series, tenantwatch beside Prometheus.

One OpenMetrics file (bench/openmetrics_gen.py) is loaded into tenantwatch's store (with
its own parser) and, with promtool, into Debian's Prometheus. Each query then runs as an
instant query at the same time in both: in-process through tenantwatch's Engine, and
through Prometheus' /api/v1/query with `stats=all`, whose evalTotalTime is the engine's
own time (the HTTP round trip of `vector(1)` is reported as the HTTP overhead). Results
are compared series by series. Loading is not timed.

    .venv/bin/python -m bench.query [--tenants 188 --endpoints 30 --minutes 15 --runs 7]
    .venv/bin/python -m bench.query --quick        # ~21,000 series, 3 runs
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from bench.common import (
    BenchError,
    Comparison,
    HttpClient,
    compare,
    create_blocks,
    geomean,
    load_openmetrics,
    median,
    prom_points,
    prom_query_body,
    require_prometheus,
    tw_points,
)
from bench.openmetrics_gen import Scale, Summary, default_end_ms, generate, query_time
from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import QueryResult

# the seeds' rule files, copied from ../shared/fixtures/seed-rules/ into the repository
SEED_RULES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "seed-rules"
EXTRA_QUERIES = (
    (
        "p95 by tenant",
        "histogram_quantile(0.95, sum by (le, tenant)(rate(ai_shifu_request_duration_seconds_bucket[5m])))",
    ),
)
GOAL_RATIO = 2.0


def seed_queries(rules_dir: Path) -> list[tuple[str, str]]:
    """(file/rule name, expr) for every rule of the rule files in rules_dir, skipping
    files named *.invalid.yml. Raises BenchError when a file is unreadable."""
    out = []
    for path in sorted(rules_dir.glob("*.yml")):
        if path.name.endswith(".invalid.yml"):
            continue
        try:
            doc = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise BenchError(f"{path}: cannot read the rule file: {exc}") from None
        stem = path.name.removesuffix(".rules.yml").removesuffix(".yml")
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                name = rule.get("alert") or rule.get("record") or "?"
                out.append((f"{stem}/{name}", " ".join(str(rule["expr"]).split())))
    return out


@dataclass
class Row:
    name: str
    query: str
    series: int = 0
    tenantwatch_ms: float = 0.0
    prometheus_ms: float = 0.0
    prometheus_http_ms: float = 0.0
    comparison: Comparison = field(default_factory=Comparison)
    error: str = ""

    @property
    def ratio(self) -> float:
        return self.tenantwatch_ms / self.prometheus_ms if self.prometheus_ms > 0 else float("nan")


@dataclass
class Report:
    data: Summary
    tenantwatch_load_s: float
    prometheus_load_s: float
    http_overhead_ms: float
    rows: list[Row]

    @property
    def geomean_ratio(self) -> float:
        return geomean(r.ratio for r in self.rows if not r.error)

    @property
    def geomean_http_ratio(self) -> float:
        """tenantwatch's engine against Prometheus' whole HTTP round trip."""
        return geomean(r.tenantwatch_ms / r.prometheus_http_ms for r in self.rows if not r.error)


def time_tenantwatch(engine: Engine, query: str, t_ms: int, runs: int) -> tuple[float, QueryResult]:
    """Median milliseconds of `runs` instant queries after one warm-up, and the last result."""
    result = engine.instant(query, t_ms)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = engine.instant(query, t_ms)
        times.append((time.perf_counter() - started) * 1000)
    return median(times), result


def time_prometheus(
    client: HttpClient, query: str, t_ms: int, runs: int
) -> tuple[float, float, dict[str, object]]:
    """Median engine milliseconds (stats evalTotalTime), median HTTP milliseconds, last data."""
    params = {"query": query, "time": f"{t_ms / 1000:.3f}", "stats": "all"}
    status, body = client.get("/api/v1/query", params)
    engine_ms, http_ms = [], []
    for _ in range(runs):
        started = time.perf_counter()
        status, body = client.get("/api/v1/query", params)
        http_ms.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise BenchError(f"prometheus answered HTTP {status}: {body[:300]!r}")
        data = prom_query_body(body)
        engine_ms.append(float(data["stats"]["timings"]["evalTotalTime"]) * 1000)
    return median(engine_ms), median(http_ms), prom_query_body(body)


def run(
    scale: Scale,
    *,
    runs: int,
    workdir: Path,
    rules_dir: Path = SEED_RULES,
    end_ms: int | None = None,
    say: Console | None = None,
) -> Report:
    """Generate, load both sides, time every query and compare results."""
    from tests.prometheus_server import start_prometheus

    require_prometheus()
    console = say or Console(stderr=True, log_path=False)
    queries = [*seed_queries(rules_dir), *EXTRA_QUERIES]
    end = end_ms if end_ms is not None else default_end_ms(int(time.time() * 1000))
    t_query = query_time(end)
    om_file = workdir / "bench.om"
    console.log(f"writing {om_file} ...")
    data = generate(om_file, scale, end)
    console.log(
        f"{data.series:,} series, {data.samples:,} samples, {data.bytes / 2**20:,.0f} MiB; "
        f"queries at {t_query} ms"
    )

    store = MetricStore(None)
    store.open()
    started = time.perf_counter()
    loaded = load_openmetrics(om_file, store.head)
    tw_load = time.perf_counter() - started
    console.log(f"tenantwatch loaded {loaded.series:,} series in {tw_load:.1f} s")
    if loaded.series != data.series:
        raise BenchError(f"tenantwatch holds {loaded.series} series, the file has {data.series}")
    gc.collect()

    started = time.perf_counter()
    create_blocks(om_file, workdir / "prometheus-data")
    prom_load = time.perf_counter() - started
    console.log(f"promtool created blocks in {prom_load:.1f} s")

    engine = Engine(store)
    rows: list[Row] = []
    server = start_prometheus(
        workdir / "prometheus",
        data_dir=workdir / "prometheus-data",
        flags=["--storage.tsdb.retention.time=3650d"],
    )
    client = HttpClient(server.url)
    try:
        _, overhead_ms, _ = time_prometheus(client, "vector(1)", t_query, max(runs, 5))
        for name, query in queries:
            row = Row(name, query)
            rows.append(row)
            try:
                row.prometheus_ms, row.prometheus_http_ms, prom_data = time_prometheus(
                    client, query, t_query, runs
                )
                row.tenantwatch_ms, result = time_tenantwatch(engine, query, t_query, runs)
            except Exception as exc:  # one failing query must not end the run
                row.error = f"{type(exc).__name__}: {exc}"
                continue
            tw = tw_points(result)
            row.series = len(tw)
            row.comparison = compare(tw, prom_points(prom_data))
            console.log(
                f"{name}: tenantwatch {row.tenantwatch_ms:.1f} ms, prometheus {row.prometheus_ms:.1f} ms"
            )
    finally:
        client.close()
        server.stop()
    return Report(data, tw_load, prom_load, overhead_ms, rows)


def print_report(report: Report, console: Console) -> None:
    table = Table(title=f"Instant queries over {report.data.series:,} series")
    table.add_column("query")
    table.add_column("series", justify="right")
    table.add_column("tenantwatch ms", justify="right")
    table.add_column("prometheus ms", justify="right")
    table.add_column("prom HTTP ms", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("results")
    for r in report.rows:
        if r.error:
            table.add_row(r.name, "", "", "", "", "", f"[red]{r.error}[/red]")
            continue
        colour = "green" if r.ratio <= GOAL_RATIO else "red"
        same = "[green]same[/green]" if r.comparison.ok else "[red]DIFFER[/red]"
        table.add_row(
            r.name,
            str(r.series),
            f"{r.tenantwatch_ms:.2f}",
            f"{r.prometheus_ms:.2f}",
            f"{r.prometheus_http_ms:.2f}",
            f"[{colour}]{r.ratio:.2f}x[/{colour}]",
            same,
        )
    console.print(table)
    console.print(
        "tenantwatch ms: in-process Engine.instant; prometheus ms: its engine's evalTotalTime "
        f"(stats=all); prom HTTP ms: whole /api/v1/query round trip (vector(1) takes "
        f"{report.http_overhead_ms:.2f} ms). Medians."
    )
    for r in report.rows:
        if not r.error and not r.comparison.ok:
            console.print(f"[yellow]{r.name}[/yellow]: {r.comparison.describe()}")
    differ = sum(1 for r in report.rows if r.error or not r.comparison.ok)
    ratio = report.geomean_ratio
    verdict = "[green]met[/green]" if ratio <= GOAL_RATIO else "[red]not met[/red]"
    console.print(
        f"results: {len(report.rows) - differ} of {len(report.rows)} queries agree with Prometheus"
    )
    timed = [r for r in report.rows if not r.error]
    if timed:
        worst = max(timed, key=lambda r: r.ratio)
        console.print(f"slowest against Prometheus: {worst.name} at {worst.ratio:.2f}x")
    console.print(
        f"geometric-mean ratio tenantwatch/prometheus (engine time): {ratio:.2f}x "
        f"(against Prometheus' whole HTTP round trip: {report.geomean_http_ratio:.2f}x); "
        f"goal <= {GOAL_RATIO:g}x: {verdict}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=Scale.tenants)
    parser.add_argument("--endpoints", type=int, default=Scale.endpoints)
    parser.add_argument("--minutes", type=int, default=Scale.minutes)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per query (median)")
    parser.add_argument("--quick", action="store_true", help="40 tenants (~21,000 series), 3 runs")
    parser.add_argument("--workdir", type=Path, help="keep the file and data here")
    parser.add_argument("--rules", type=Path, default=SEED_RULES, help="seed rule directory")
    args = parser.parse_args(argv)
    tenants, runs = (40, 3) if args.quick else (args.tenants, args.runs)
    console = Console(width=max(Console().width, 150), log_path=False)
    try:
        scale = Scale(tenants, args.endpoints, args.minutes)
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            report = run(scale, runs=runs, workdir=args.workdir, rules_dir=args.rules, say=console)
        else:
            with tempfile.TemporaryDirectory(prefix="tenantwatch-bench-query-") as tmp:
                report = run(scale, runs=runs, workdir=Path(tmp), rules_dir=args.rules, say=console)
    except (BenchError, ValueError) as exc:
        console.print(f"[red]bench.query: {exc}[/red]")
        return 2
    print_report(report, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
