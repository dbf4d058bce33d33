"""Alerting benchmark: tenantwatch's alert manager against Debian's prometheus-alertmanager.

Both get the same Alertmanager configuration (a webhook receiver on loopback, group_by
alertname + group) in the same run:

1. Ingest: alerts per second accepted by `POST /api/v2/alerts` in batches of 256 (as
   Prometheus sends them), from 4 concurrent clients. Figure: tenantwatch / Alertmanager.
2. Latency: with 10,000 active alerts in 1,000 groups already notified, a new alert in a
   new group is POSTed; the time until the webhook receives it, less group_wait, is the
   latency. Figures: p50 and p99 for both (goal for tenantwatch: p99 < 200 ms).

    python -m bench.alerts [--alerts 20000] [--probes 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from rich.console import Console
from rich.table import Table
from tests.support import free_port

from bench.common import BenchError, start_tenantwatch

console = Console()
BATCH = 256
GROUP_WAIT_S = 1.0


def am_config(webhook_url: str) -> str:
    return f"""
route:
  receiver: hook
  group_by: [alertname, group]
  group_wait: {GROUP_WAIT_S:g}s
  group_interval: 5m
  repeat_interval: 12h
receivers:
  - name: hook
    webhook_configs:
      - url: '{webhook_url}'
        send_resolved: false
"""


# -- the webhook receiver (its own process, so it never competes with the client loop) ----
def _receiver(port: int, queue: Any) -> None:
    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        now = time.time()
        for alert in body.get("alerts", []):
            queue.put((alert["labels"].get("probe", ""), now))
        return web.Response(text="ok")

    app = web.Application(client_max_size=64 << 20)
    app.router.add_post("/{tail:.*}", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _alert(i: int, groups: int, **extra: str) -> dict[str, Any]:
    return {
        "labels": {"alertname": "BenchAlert", "group": f"g{i % groups}", "id": str(i), **extra},
        "annotations": {"summary": f"alert {i}"},
    }


async def ingest(url: str, headers: dict[str, str], alerts: list[dict[str, Any]]) -> float:
    """Alerts per second for POSTing all alerts in batches of 256 from 4 clients."""
    batches = [alerts[i : i + BATCH] for i in range(0, len(alerts), BATCH)]
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            async with session.post(url, json=batch, headers=headers) as resp:
                if resp.status != 200:
                    raise BenchError(f"{url} answered {resp.status}: {await resp.text()}")

    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(4)))
        return len(alerts) / (time.perf_counter() - started)


async def latency(
    url: str, headers: dict[str, str], received: Any, probes: int, tag: str
) -> list[float]:
    """Seconds from POST to webhook arrival for new alerts in new groups, less group_wait."""
    out: list[float] = []
    async with aiohttp.ClientSession() as session:
        for n in range(probes):
            probe = f"{tag}-{n}"
            alert = {
                "labels": {"alertname": "BenchProbe", "group": probe, "probe": probe},
                "annotations": {},
            }
            sent = time.time()
            async with session.post(url, json=[alert], headers=headers) as resp:
                assert resp.status == 200, await resp.text()
            deadline = sent + GROUP_WAIT_S + 30
            while True:
                try:
                    name, at = received.get(timeout=max(0.01, deadline - time.time()))
                except Exception:
                    raise BenchError(f"{url}: probe {probe} never reached the webhook") from None
                if name == probe:
                    out.append(at - sent - GROUP_WAIT_S)
                    break
            await asyncio.sleep(0.05)
    return out


async def drain(received: Any, within_s: float, name: str) -> int:
    """Wait until the webhook has got the first flush of every group: alerts arrive, then
    nothing for 2 s (alerts that joined a group after its flush wait for group_interval).
    Return how many alerts arrived."""
    deadline = time.monotonic() + within_s
    got = 0
    while True:
        quiet = 2.0 if got else max(0.01, deadline - time.monotonic())
        try:
            received.get(timeout=quiet)
        except Exception:
            if got:
                return got
            raise BenchError(f"{name}: the webhook got nothing in {within_s:g} s") from None
        got += 1
        if time.monotonic() > deadline:
            raise BenchError(f"{name}: the webhook still gets alerts after {within_s:g} s")


def start_alertmanager(workdir: Path, config: str) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")
    if exe is None:
        raise BenchError("alertmanager is not installed; run scripts/ensure-prometheus.sh")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "am.yml").write_text(config)
    port = free_port()
    proc = subprocess.Popen(
        [
            exe,
            f"--config.file={workdir / 'am.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    _wait_ready(base + "/-/ready", proc)
    return proc, base


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{url}: the server exited")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"{url} did not become ready")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def measure(
    name: str, base: str, headers: dict[str, str], args: argparse.Namespace, received: Any
) -> dict[str, float]:
    url = base + "/api/v2/alerts"
    warm = [_alert(i, args.groups) for i in range(args.active)]
    await ingest(url, headers, warm)  # 10,000 active alerts in 1,000 groups
    await drain(received, GROUP_WAIT_S + 60, name)  # every group flushed once
    rate = await ingest(
        url, headers, [_alert(args.active + i, args.groups) for i in range(args.alerts)]
    )
    lat = await latency(url, headers, received, args.probes, name)
    return {
        "rate": rate,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000, help="alerts for the ingest rate")
    parser.add_argument("--active", type=int, default=10_000, help="active alerts during latency")
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--probes", type=int, default=40)
    args = parser.parse_args()
    results = run(args)
    report(results)


def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    ctx = multiprocessing.get_context("spawn")
    received = ctx.Queue()
    hook_port = free_port()
    hook = ctx.Process(target=_receiver, args=(hook_port, received), daemon=True)
    hook.start()
    hook_url = f"http://127.0.0.1:{hook_port}/hook"
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="tw-bench-alerts-") as tmp:
        work = Path(tmp)
        am, am_base = start_alertmanager(work / "am", am_config(hook_url))
        try:
            results["alertmanager"] = asyncio.run(measure("am", am_base, {}, args, received))
        finally:
            am.terminate()
            am.wait()
        (work / "tw").mkdir()
        (work / "tw" / "alertmanager.yml").write_text(am_config(hook_url))
        tw_config = (
            "alertmanager:\n  config_file: alertmanager.yml\n"
            "  allow_private_targets: ['127.0.0.1/32']\n"
            "rules:\n  builtin: false\n"
        )
        tw, metrics_url = start_tenantwatch(work / "tw", tw_config)
        try:
            base = metrics_url.removesuffix("/metrics")
            key_file = work / "tw" / "data" / "admin-key"
            deadline = time.monotonic() + 30
            while not key_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            headers = {"Authorization": f"Bearer {key_file.read_text().strip()}"}
            _wait_ready(base + "/health/ready", tw)
            results["tenantwatch"] = asyncio.run(measure("tw", base, headers, args, received))
        finally:
            tw.terminate()
            tw.wait()
    hook.terminate()
    return results


def report(results: dict[str, dict[str, float]]) -> None:
    am, tw = results["alertmanager"], results["tenantwatch"]
    table = Table(title="alerting: tenantwatch vs Debian's prometheus-alertmanager")
    for col in ("figure", "alertmanager", "tenantwatch", "ratio / goal"):
        table.add_column(col)
    table.add_row(
        "POST /api/v2/alerts, alerts/s (batches of 256)",
        f"{am['rate']:,.0f}",
        f"{tw['rate']:,.0f}",
        f"{tw['rate'] / am['rate']:.2f}x (goal >= 1x)",
    )
    table.add_row(
        "POST -> webhook beyond group_wait, p50 ms",
        f"{am['p50_ms']:.0f}",
        f"{tw['p50_ms']:.0f}",
        "",
    )
    table.add_row(
        "... p99 ms (10k active alerts, 1k groups)",
        f"{am['p99_ms']:.0f}",
        f"{tw['p99_ms']:.0f}",
        f"goal < 200 ms: {'met' if tw['p99_ms'] < 200 else 'NOT met'}",
    )
    console.print(table)
    console.print(json.dumps(results))


if __name__ == "__main__":
    main()
