"""Health-check benchmark: tenantwatch's check engine against a bare aiohttp loop.

1. Engine throughput: N HTTP checks against a loopback server (run in another process,
   new connection each), scheduled, run and recorded (state, history, rollups on SQLite)
   by tenantwatch's scheduler, beside a bare `session.get` loop making the same requests
   in the same run. Figure: checks per CPU-second of this process, as a ratio.
2. Sustained load: 10,000 checks at a 60 s interval run by the scheduler for a while;
   figure: the share of one core it used.
3. Heartbeat bursts: `tenantwatch serve` takes pings from many concurrent clients;
   figures: pings per second accepted, and pings stored versus pings sent.

    python -m bench.checks [--checks 5000] [--sustain 60] [--pings 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from rich.console import Console
from tests.support import free_port

from bench.common import start_tenantwatch
from tenantwatch.adapters.probes.executor import ProbeExecutor
from tenantwatch.config.checks_model import KIND_MODELS
from tenantwatch.config.model import Config, TenantConfig
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.probe_targets import target_host
from tenantwatch.logs import configure_logging
from tenantwatch.runtime.root import build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.workers.checks import CheckScheduler

console = Console()
CONCURRENCY = 64


def _serve(port: int) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text='{"status": "ok"}', content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", ok)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def start_target() -> tuple[Any, str]:
    port = free_port()
    proc = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    proc.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            import socket

            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the loopback target did not start")


async def bare_loop(url: str, n: int) -> float:
    """CPU seconds of n GETs, new connection each, CONCURRENCY at a time."""
    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    sem = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            async with sem, session.get(f"{url}/bare/{i}") as resp:
                await resp.read()

        start = time.process_time()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.process_time() - start


def _checks(url: str, n: int, interval: str) -> list[Any]:
    model = KIND_MODELS["http"]
    return [
        model.model_validate(
            {
                "id": f"bench-{i}",
                "tenant": f"t{i % 10}",
                "kind": "http",
                "url": f"{url}/tw/{i}",
                "interval": interval,
                "timeout": "5s",
                "conditions": ["[STATUS] == 200"],
            }
        )
        for i in range(n)
    ]


async def _runtime(workdir: Path, url: str, n: int, interval: str) -> Any:
    config = Config(
        tenants=[TenantConfig(id=f"t{i}", name=f"T{i}", tier="professional") for i in range(10)],
        checks=_checks(url, n, interval),
    )
    rt = build_runtime(Settings(data_dir=workdir), config)
    await prepare(rt)
    return rt


async def _one_round(sched: CheckScheduler, done: int, slot: int) -> None:
    await sched.dispatch([(p, slot) for p in sched.plan.values()])
    while sched.runs_done < done:
        await asyncio.sleep(0.05)
        if len(sched._pending) >= 500:
            await sched.flush()
    while sched._pending:
        await sched.flush()


async def engine_rounds(
    workdir: Path, url: str, n: int, rounds: int
) -> tuple[list[float], list[float], int]:
    """CPU seconds per round of n checks: the bare loop and the scheduler (dispatch, run,
    record), alternating so both see the same machine; the scheduler's first round (every
    check's first run, unknown -> up) is a warm-up and not counted."""
    rt = await _runtime(workdir, url, n, "60s")
    sched = CheckScheduler(
        rt.checks,
        ProbeExecutor(),
        rt.ctx.tiers,
        host_of=target_host,
        concurrency=CONCURRENCY,
        per_host=CONCURRENCY,
    )
    bare: list[float] = []
    engine: list[float] = []
    try:
        await sched.refresh()
        await _one_round(sched, n, 1)
        for r in range(rounds):
            bare.append(await bare_loop(url, n))
            start = time.process_time()
            await _one_round(sched, (r + 2) * n, r + 2)
            engine.append(time.process_time() - start)
        page = await rt.checks.history(SYSTEM, tenant_id=None, limit=1)
        assert page.items, "no results were stored"
        return bare, engine, sched.runs_recorded
    finally:
        await sched.executor.close()
        await rt.stop()


async def sustained(workdir: Path, url: str, n: int, seconds: float) -> tuple[float, int]:
    """CPU share of one core while the scheduler runs n checks at a 60 s interval."""
    rt = await _runtime(workdir, url, n, "60s")
    stop = asyncio.Event()
    sched = CheckScheduler(
        rt.checks,
        ProbeExecutor(),
        rt.ctx.tiers,
        host_of=target_host,
        concurrency=256,
        per_host=256,
    )
    try:
        await sched.refresh()
        task = asyncio.create_task(sched.run(stop))
        await asyncio.sleep(2)  # past loading
        cpu0, wall0, runs0 = time.process_time(), time.monotonic(), sched.runs_done
        await asyncio.sleep(seconds)
        share = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        runs = sched.runs_done - runs0
        stop.set()
        await task
        return share, runs
    finally:
        await rt.stop()


CLIENTS = 512


async def _pinger(host: str, port: int, path: str, count: int) -> int:
    """Send count pings over one keep-alive connection, one at a time; return the 200s.

    A minimal HTTP/1.1 client, so the load generator costs little of the machine's CPU."""
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    ok = 0
    try:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                ok += 1
    finally:
        writer.close()
    return ok


async def ping_burst(workdir: Path, pings: int) -> tuple[float, int, int]:
    token = "bench-heartbeat-token-0001"
    # Every ping goes to one token, so its rate limit (60 at once, then 1/s) is lifted:
    # the figure is the intake's throughput, the limiter still runs on every ping.
    config = (
        "tenants:\n  - {id: acme, name: Acme, tier: basic}\n"
        "check_runner: {ping_burst: 1000000, ping_rate: 1000000}\n"
        "checks:\n"
        f"  - {{id: hb, tenant: acme, kind: heartbeat, period: 1h, grace: 1h, token: {token}}}\n"
    )
    proc, metrics_url = start_tenantwatch(workdir, config)
    base = metrics_url.rsplit("/", 1)[0]
    host, port = base.split("://", 1)[1].split(":")
    try:
        await asyncio.sleep(1.0)
        start = time.monotonic()
        answers = await asyncio.gather(
            *(_pinger(host, int(port), f"/ping/{token}", pings // CLIENTS) for _ in range(CLIENTS))
        )
        rate = sum(answers) / (time.monotonic() - start)
        ok = sum(answers)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    db = sqlite3.connect(workdir / "data" / "tenantwatch.db")
    stored = db.execute("SELECT count(*) FROM heartbeat_pings").fetchone()[0]
    db.close()
    return rate, ok, int(stored)


async def main(args: argparse.Namespace) -> int:
    configure_logging("warning", "console")  # as `serve` with TENANTWATCH_LOG_LEVEL=warning
    root = Path(tempfile.mkdtemp(prefix="tw-bench-checks-"))
    target, url = start_target()
    try:
        n = args.checks
        bare, engine, recorded = await engine_rounds(root / "engine", url, n, args.rounds)
        bare_rate, tw_rate = n / statistics.median(bare), n / statistics.median(engine)
        console.print(
            f"[bold]{n} HTTP checks, new connection each, {CONCURRENCY} at a time, "
            f"median of {args.rounds} rounds[/]"
        )
        console.print(f"  bare aiohttp loop:        {bare_rate:8.0f} checks per CPU-second")
        console.print(
            f"  tenantwatch (recorded):   {tw_rate:8.0f} checks per CPU-second "
            f"({recorded} results stored)"
        )
        ratios = ", ".join(f"{b / e:.2f}" for b, e in zip(bare, engine, strict=True))
        console.print(
            f"  ratio: [bold]{tw_rate / bare_rate:.2f}x[/] (goal >= 0.8x; rounds: {ratios})"
        )
        if args.sustain > 0:
            share, runs = await sustained(root / "sustain", url, 10_000, args.sustain)
            console.print(
                f"[bold]10,000 checks at a 60 s interval for {args.sustain:g} s[/]: "
                f"{runs} runs, [bold]{share * 100:.1f}%[/] of one core (goal <= 25%)"
            )
        if args.pings > 0:
            rate, ok, stored = await ping_burst(root / "pings", args.pings)
            console.print(
                f"[bold]heartbeat burst[/]: {args.pings // CLIENTS * CLIENTS} pings from "
                f"{CLIENTS} keep-alive clients: "
                f"[bold]{rate:.0f} pings/s[/] (goal >= 5000), {ok} answered 200, "
                f"{stored} stored"
            )
            if stored != ok:
                console.print("[red]pings were lost[/]")
                return 1
    finally:
        target.terminate()
        shutil.rmtree(root, ignore_errors=True)
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.checks", description=__doc__)
    p.add_argument("--checks", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--sustain", type=float, default=60.0, help="seconds; 0 skips")
    p.add_argument("--pings", type=int, default=20000, help="0 skips")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
