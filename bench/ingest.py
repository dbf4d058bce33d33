"""Ingest benchmark: tenantwatch and Debian's Prometheus scrape the same 100 targets at once.

A loopback aiohttp server plays 100 targets (one port each) of 2,000 series (the seeds'
metric families, with a `tenant` label), re-rendered with new values every interval.
`tenantwatch serve` and `prometheus` scrape them every 15 s side by side. First the
targets answer with empty bodies, so each process' memory without series can be read;
then they serve their series, and after a warm-up of two intervals the benchmark reads,
over the measured window, each process' CPU seconds (/proc/<pid>/stat, its whole process
tree) and samples appended (tenantwatch_metric_store_samples_appended_total,
prometheus_tsdb_head_samples_appended_total), and at the end its RSS and active series.

    .venv/bin/python -m bench.ingest [--duration 180] [--targets 100] [--tenants-per-target 10]
    .venv/bin/python -m bench.ingest --quick     # a 45 s window
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import numpy as np
import yaml
from aiohttp import web
from rich.console import Console
from rich.table import Table

from bench.common import (
    BenchError,
    cpu_seconds,
    metric_sum,
    process_tree,
    require_prometheus,
    rss_bytes,
    start_tenantwatch,
)

GOAL_CPU_RATIO = 0.5
GOAL_BYTES_PER_SERIES = 1024
LATENCY_BUCKETS = (
    "0.005",
    "0.01",
    "0.025",
    "0.05",
    "0.1",
    "0.25",
    "0.5",
    "1.0",
    "2.5",
    "5.0",
    "10.0",
)
ENDPOINTS = (
    ("GET", "/api/v1/lessons"),
    ("GET", "/api/v1/lessons/{id}"),
    ("POST", "/api/v1/chat"),
    ("POST", "/api/v1/chat/stream"),
    ("GET", "/api/v1/courses"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/users/me"),
    ("GET", "/api/v1/progress"),
    ("POST", "/api/v1/llm/complete"),
    ("GET", "/api/v1/search"),
)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# -- the targets (pure) -------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    header: str  # `# HELP`/`# TYPE` lines before the family's first series, else ""
    prefix: str  # `name{labels} `
    counter: bool


def _family(name: str, kind: str, help_text: str) -> str:
    return f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n"


def _series(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{inner}}} " if inner else f"{name} "


def series_per_target(tenants: int) -> int:
    return 199 * tenants + 10


def target_lines(index: int, tenants: int) -> list[Line]:
    """The series of target `index`: 199 per tenant plus 10 process series (2,000 for 10)."""
    ids = [f"tenant-{(index % 20) * tenants + k + 1:03d}" for k in range(tenants)]
    out: list[Line] = []

    def family(
        name: str, kind: str, help_text: str, rows: list[tuple[str, dict[str, str]]]
    ) -> None:
        header = _family(name, kind, help_text)
        for sample, labels in rows:
            out.append(Line(header, _series(sample, labels), kind in ("counter", "histogram")))
            header = ""

    hist = "ai_shifu_request_duration_seconds"
    rows: list[tuple[str, dict[str, str]]] = []
    for t in ids:
        for method, endpoint in ENDPOINTS:
            base = {"method": method, "endpoint": endpoint, "tenant": t}
            rows += [(f"{hist}_bucket", {**base, "le": le}) for le in (*LATENCY_BUCKETS, "+Inf")]
            rows += [(f"{hist}_sum", base), (f"{hist}_count", base)]
    family(hist, "histogram", "Request latency.", rows)
    family(
        "ai_shifu_requests_total",
        "counter",
        "Requests handled.",
        [
            ("ai_shifu_requests_total", {"method": m, "endpoint": e, "status": s, "tenant": t})
            for t in ids
            for m, e in ENDPOINTS
            for s in ("success", "error", "timeout")
        ],
    )
    family(
        "ai_shifu_errors_total",
        "counter",
        "Errors by type.",
        [
            ("ai_shifu_errors_total", {"error_type": e, "tenant": t})
            for t in ids
            for e in ("Unauthorized", "Timeout", "RateLimited", "Internal")
        ],
    )
    db = "ai_shifu_db_query_duration_seconds"
    rows = []
    for t in ids:
        base = {"operation": "select", "tenant": t}
        rows += [(f"{db}_bucket", {**base, "le": le}) for le in (*LATENCY_BUCKETS, "+Inf")]
        rows += [(f"{db}_sum", base), (f"{db}_count", base)]
    family(db, "histogram", "Database query latency.", rows)
    family(
        "ai_shifu_llm_tokens_total",
        "counter",
        "LLM tokens used.",
        [
            ("ai_shifu_llm_tokens_total", {"model": m, "tenant": t})
            for t in ids
            for m in ("gpt-4o", "claude")
        ],
    )
    for name, help_text in (
        ("ai_shifu_tenant_token_limit", "Tokens per second the plan allows."),
        ("ai_shifu_db_connections", "Open database connections."),
        ("ai_shifu_active_sessions", "Active user sessions."),
    ):
        family(name, "gauge", help_text, [(name, {"tenant": t}) for t in ids])
    for name in ("ai_shifu_cache_hits_total", "ai_shifu_cache_misses_total"):
        family(
            name,
            "counter",
            "Cache lookups.",
            [(name, {"cache": c, "tenant": t}) for t in ids for c in ("session", "llm", "course")],
        )
    process = [
        ("process_cpu_seconds_total", "counter", {}),
        ("process_resident_memory_bytes", "gauge", {}),
        ("process_virtual_memory_bytes", "gauge", {}),
        ("process_open_fds", "gauge", {}),
        ("process_max_fds", "gauge", {}),
        ("process_start_time_seconds", "gauge", {}),
        ("python_info", "gauge", {"implementation": "CPython", "version": "3.11.9"}),
    ]
    for name, kind, labels in process:
        family(name, kind, "Process metric.", [(name, labels)])
    family(
        "python_gc_collections_total",
        "counter",
        "GC runs.",
        [("python_gc_collections_total", {"generation": g}) for g in ("0", "1", "2")],
    )
    return out


class TargetBody:
    """One target's exposition, re-rendered with new values once per interval."""

    def __init__(self, index: int, tenants: int) -> None:
        self.lines = target_lines(index, tenants)
        rng = np.random.default_rng(index)
        n = len(self.lines)
        self.counter = np.array([x.counter for x in self.lines])
        self.base = rng.uniform(0, 1e5, n)
        self.rate = rng.uniform(0, 50, n)
        self._epoch = -1
        self._body = b""

    def render(self, epoch: int) -> bytes:
        """The body for scrape interval number `epoch` (cached until the next one)."""
        if epoch != self._epoch:
            values = np.where(
                self.counter,
                np.floor(self.base + self.rate * epoch),
                np.round(self.base / 1000 + 10 * np.sin(epoch / 7 + self.rate), 3),
            )
            text = [
                f"{x.header}{x.prefix}{int(v) if x.counter else v}\n"
                for x, v in zip(self.lines, values.tolist(), strict=True)
            ]
            self._body = "".join(text).encode()
            self._epoch = epoch
        return self._body


class TargetFleet:
    """`count` targets on loopback ports; bodies are empty until `serving` is set."""

    def __init__(self, count: int, tenants: int, interval_s: float) -> None:
        self.bodies = [TargetBody(i, tenants) for i in range(count)]
        self.interval_s = interval_s
        self.serving = False
        self.scrapes = 0
        self._by_port: dict[int, TargetBody] = {}
        self._runner: web.AppRunner | None = None

    @property
    def addresses(self) -> list[str]:
        return [f"127.0.0.1:{port}" for port in self._by_port]

    async def _metrics(self, request: web.Request) -> web.Response:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        body = self._by_port.get(sockname[1]) if sockname else None
        if body is None:
            raise web.HTTPNotFound()
        self.scrapes += 1
        data = body.render(int(time.time() // self.interval_s)) if self.serving else b""
        return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for body in self.bodies:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            self._by_port[sock.getsockname()[1]] = body
            await web.SockSite(self._runner, sock).start()
        for i, body in enumerate(self.bodies):  # render once now, not during the first scrape
            body.render(i)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


# -- configurations (pure) ------------------------------------------------------------------
def scrape_timeout(interval_s: float) -> str:
    return f"{min(10.0, interval_s):g}s"


def tenantwatch_config(targets: Sequence[str], interval_s: float) -> str:
    doc = {
        "metrics": {
            "scrape_interval": f"{interval_s:g}s",
            "scrape_timeout": scrape_timeout(interval_s),
        },
        "scrape_configs": [{"job_name": "bench", "static_configs": [{"targets": list(targets)}]}],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def prometheus_config(targets: Sequence[str], interval_s: float) -> dict[str, object]:
    return {
        "global": {
            "scrape_interval": f"{interval_s:g}s",
            "scrape_timeout": scrape_timeout(interval_s),
        },
        "scrape_configs": [{"job_name": "bench", "static_configs": [{"targets": list(targets)}]}],
    }


# -- processes ------------------------------------------------------------------------------
@dataclass
class Reading:
    """One look at a process: CPU seconds and RSS of its tree, and its own counters."""

    cpu_s: float
    rss: int
    samples: float
    series: float
    head_bytes: float | None = None  # the store's own account of its memory, if it gives one


@dataclass
class Scraper:
    name: str
    pid: int
    metrics_url: str
    samples_metric: str
    series_metric: str
    head_bytes_metrics: tuple[str, str] | None = None  # multiplied together

    async def read(self, session: aiohttp.ClientSession) -> Reading:
        async with session.get(self.metrics_url) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise BenchError(f"{self.name} /metrics answered HTTP {resp.status}")
        samples = metric_sum(text, self.samples_metric)
        series = metric_sum(text, self.series_metric)
        if samples is None or series is None:
            raise BenchError(
                f"{self.name} /metrics has no {self.samples_metric} or {self.series_metric}"
            )
        head_bytes = None
        if self.head_bytes_metrics:
            a, b = (metric_sum(text, name) for name in self.head_bytes_metrics)
            head_bytes = a * b if a is not None and b is not None else None
        pids = process_tree(self.pid)
        return Reading(
            sum(cpu_seconds(p) for p in pids),
            sum(rss_bytes(p) for p in pids),
            samples,
            series,
            head_bytes,
        )


# -- the run --------------------------------------------------------------------------------
@dataclass
class Side:
    name: str
    before: Reading  # targets answering with empty bodies
    start: Reading  # after the warm-up
    end: Reading

    @property
    def samples(self) -> float:
        return self.end.samples - self.start.samples

    @property
    def cpu_s(self) -> float:
        return self.end.cpu_s - self.start.cpu_s

    @property
    def samples_per_cpu_s(self) -> float:
        return self.samples / self.cpu_s if self.cpu_s > 0 else math.nan

    @property
    def bytes_per_series(self) -> float:
        return self.end.rss / self.end.series if self.end.series else math.nan

    @property
    def net_bytes_per_series(self) -> float:
        return (self.end.rss - self.before.rss) / self.end.series if self.end.series else math.nan


@dataclass
class IngestReport:
    targets: int
    series_per_target: int
    interval_s: float
    window_s: float
    tenantwatch: Side
    prometheus: Side
    server_cpu_s: float

    @property
    def expected_samples(self) -> float:
        return self.targets * self.series_per_target * self.window_s / self.interval_s

    @property
    def cpu_ratio(self) -> float:
        return self.tenantwatch.samples_per_cpu_s / self.prometheus.samples_per_cpu_s


async def run(
    *,
    targets: int,
    tenants: int,
    interval_s: float,
    duration_s: float,
    workdir: Path,
    console: Console,
) -> IngestReport:
    from tests.prometheus_server import start_prometheus

    require_prometheus()
    fleet = TargetFleet(targets, tenants, interval_s)
    await fleet.start()
    console.log(f"{targets} targets x {series_per_target(tenants):,} series on loopback")
    tw_proc, tw_url = start_tenantwatch(
        workdir / "tenantwatch", tenantwatch_config(fleet.addresses, interval_s)
    )
    prom = None
    try:
        prom = start_prometheus(
            workdir / "prometheus", config=prometheus_config(fleet.addresses, interval_s)
        )
        sides = [
            Scraper(
                "tenantwatch",
                tw_proc.pid,
                tw_url,
                "tenantwatch_metric_store_samples_appended_total",
                "tenantwatch_metric_store_active_series",
                ("tenantwatch_metric_store_bytes_per_sample", "tenantwatch_metric_store_samples"),
            ),
            Scraper(
                "prometheus",
                prom.process.pid,
                f"{prom.url}/metrics",
                "prometheus_tsdb_head_samples_appended_total",
                "prometheus_tsdb_head_series",
            ),
        ]
        async with aiohttp.ClientSession() as session:
            console.log("both running; targets answer empty bodies for one interval")
            await asyncio.sleep(interval_s + 5)
            before = [await s.read(session) for s in sides]
            fleet.serving = True
            console.log(f"targets serve their series; warming up for {2 * interval_s:g} s")
            await asyncio.sleep(2 * interval_s)
            start = [await s.read(session) for s in sides]
            server0 = cpu_seconds(os.getpid())
            t0 = time.monotonic()
            console.log(f"measuring for {duration_s:g} s")
            await asyncio.sleep(duration_s)
            end = [await s.read(session) for s in sides]
            window = time.monotonic() - t0
            server_cpu = cpu_seconds(os.getpid()) - server0
    finally:
        tw_proc.terminate()
        try:
            tw_proc.wait(20)
        except subprocess.TimeoutExpired:
            tw_proc.kill()
        if prom is not None:
            prom.stop()
        await fleet.stop()
    tw, pr = (Side(s.name, b, a, e) for s, b, a, e in zip(sides, before, start, end, strict=True))
    return IngestReport(targets, series_per_target(tenants), interval_s, window, tw, pr, server_cpu)


def print_report(r: IngestReport, console: Console) -> None:
    mib = 2**20
    table = Table(
        title=f"{r.targets} targets x {r.series_per_target:,} series every {r.interval_s:g} s, "
        f"{r.window_s:.0f} s measured"
    )
    table.add_column("")
    table.add_column("tenantwatch", justify="right")
    table.add_column("prometheus", justify="right")
    tw, pr = r.tenantwatch, r.prometheus
    for label, a, b in (
        ("samples appended", f"{tw.samples:,.0f}", f"{pr.samples:,.0f}"),
        (
            "  of those expected",
            f"{tw.samples / r.expected_samples:.0%}",
            f"{pr.samples / r.expected_samples:.0%}",
        ),
        ("CPU seconds", f"{tw.cpu_s:.2f}", f"{pr.cpu_s:.2f}"),
        ("samples per CPU-second", f"{tw.samples_per_cpu_s:,.0f}", f"{pr.samples_per_cpu_s:,.0f}"),
        ("active series", f"{tw.end.series:,.0f}", f"{pr.end.series:,.0f}"),
        ("RSS without series (MiB)", f"{tw.before.rss / mib:.0f}", f"{pr.before.rss / mib:.0f}"),
        ("RSS at the end (MiB)", f"{tw.end.rss / mib:.0f}", f"{pr.end.rss / mib:.0f}"),
        (
            "bytes per active series (RSS)",
            f"{tw.bytes_per_series:,.0f}",
            f"{pr.bytes_per_series:,.0f}",
        ),
        (
            "bytes per active series (net)",
            f"{tw.net_bytes_per_series:,.0f}",
            f"{pr.net_bytes_per_series:,.0f}",
        ),
    ):
        table.add_row(label, a, b)
    console.print(table)
    if tw.end.head_bytes is not None and tw.end.series:
        console.print(
            f"tenantwatch's store accounts for {tw.end.head_bytes / tw.end.series:,.0f} bytes per "
            "active series of that (its head: samples, series objects, index)"
        )
    console.print(
        f"the target server used {r.server_cpu_s:.1f} CPU-s "
        f"({r.server_cpu_s / r.window_s:.0%} of one core) while measuring"
    )
    ok_cpu = r.cpu_ratio >= GOAL_CPU_RATIO
    ok_mem = tw.net_bytes_per_series <= GOAL_BYTES_PER_SERIES
    console.print(
        f"samples per CPU-second, tenantwatch/prometheus: {r.cpu_ratio:.2f}x "
        f"(goal >= {GOAL_CPU_RATIO:g}x: {'[green]met[/green]' if ok_cpu else '[red]not met[/red]'})"
    )
    console.print(
        f"tenantwatch bytes per active series (net of RSS without series): "
        f"{tw.net_bytes_per_series:,.0f} (goal <= {GOAL_BYTES_PER_SERIES}: "
        f"{'[green]met[/green]' if ok_mem else '[red]not met[/red]'}; raw RSS: "
        f"{tw.bytes_per_series:,.0f})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument(
        "--tenants-per-target", type=int, default=10, help="series per target = 199 x this + 10"
    )
    parser.add_argument("--interval", type=float, default=15.0, help="scrape interval, seconds")
    parser.add_argument("--duration", type=float, default=180.0, help="measured seconds")
    parser.add_argument("--quick", action="store_true", help="measure for 45 s")
    parser.add_argument("--workdir", type=Path, help="keep data and logs here")
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 120), log_path=False)
    duration = 45.0 if args.quick else args.duration

    async def go(workdir: Path) -> IngestReport:
        return await run(
            targets=args.targets,
            tenants=args.tenants_per_target,
            interval_s=args.interval,
            duration_s=duration,
            workdir=workdir,
            console=console,
        )

    try:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            report = asyncio.run(go(args.workdir))
        else:
            with tempfile.TemporaryDirectory(prefix="tenantwatch-bench-ingest-") as tmp:
                report = asyncio.run(go(Path(tmp)))
    except BenchError as exc:
        console.print(f"[red]bench.ingest: {exc}[/red]")
        return 2
    print_report(report, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
