"""kill -9 during ingestion: nothing acknowledged is lost, buffered samples at most one
flush interval (plus scheduling slack on a busy machine)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.model import Matcher

FLUSH_S = 0.25
SLACK_S = 1.0  # a loaded 2-core CI box may run the flusher late
SERIES = 50

WRITER = r"""
import asyncio, sys, time
from pathlib import Path
from tenantwatch.metrics.store import MetricStore

async def main(directory, cycle, flush_s, series, push_every, checkpoint_s):
    store = MetricStore(
        Path(directory), flush_interval_s=flush_s, checkpoint_interval_s=checkpoint_s
    )
    store.open()
    stop = asyncio.Event()
    flusher = asyncio.create_task(store.run_flusher(stop))
    t0 = int(time.time() * 1000)
    refs = {}
    i = 0
    while True:
        i += 1
        t = t0 + i
        for s in range(series):
            if s in refs:
                store.append_ref(refs[s], t, float(i))
            else:
                labels = (("__name__", "scraped"), ("cycle", cycle), ("s", str(s)))
                refs[s] = store.append(labels, t, float(i))
        print(f"scraped {t} {time.time()}", flush=True)
        if i % push_every == 0:
            rows = [((("__name__", "pushed"), ("b", str(k)), ("cycle", cycle)), t, float(i))
                    for k in range(5)]
            if i % 2:
                store.append_many(rows, durable=True)
            else:
                await store.append_many_durable(rows)
            print(f"acked {t}", flush=True)
        await asyncio.sleep(0.003)

args = sys.argv[1:]
asyncio.run(main(args[0], args[1], float(args[2]), int(args[3]), int(args[4]), float(args[5])))
"""


def _run_and_kill(
    directory: Path, cycle: str, *, push_every: int, checkpoint_s: float, run_s: float
) -> tuple[list[int], list[tuple[int, float]], float]:
    """Run the writer, SIGKILL it run_s after its first samples; return the acknowledged
    timestamps, (scraped timestamp, wall time of its append) pairs and the kill time."""
    args = [directory, cycle, FLUSH_S, SERIES, push_every, checkpoint_s]
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []))
    reader.start()
    deadline = time.time() + 30
    while time.time() < deadline and not lines and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(run_s)
    alive = proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)
    killed = time.time()
    proc.wait()
    reader.join()
    assert alive, proc.stderr.read() if proc.stderr else ""
    acked = [int(x.split()[1]) for x in lines if x.startswith("acked")]
    scraped = [(int(x.split()[1]), float(x.split()[2])) for x in lines if x.startswith("scraped")]
    return acked, scraped, killed


def _present(store: MetricStore, name: str, cycle: str) -> dict[str, set[int]]:
    matchers = [Matcher.of("__name__", "=", name), Matcher.of("cycle", "=", cycle)]
    out = {}
    for data in store.select(matchers, 0, 2**62):
        key = dict(data.labels).get("s") or dict(data.labels)["b"]
        out[key] = set(data.ts.tolist())
    return out


def _check(
    store: MetricStore,
    cycle: str,
    acked: list[int],
    scraped: list[tuple[int, float]],
    killed: float,
) -> None:
    pushed = _present(store, "pushed", cycle)
    assert sorted(pushed) == ([str(k) for k in range(5)] if acked else [])
    for b, ts in pushed.items():
        missing = [t for t in acked if t not in ts]
        assert not missing, f"acknowledged samples of pushed{{b={b}}} lost: {missing[:5]}"
    series = _present(store, "scraped", cycle)
    assert len(series) == SERIES
    old_enough = [t for t, wall in scraped if wall < killed - FLUSH_S - SLACK_S]
    assert len(old_enough) > 50  # the check below is not vacuous
    for s, ts in series.items():
        missing = [t for t in old_enough if t not in ts]
        assert not missing, f"scraped{{s={s}}} lost samples older than the flush interval"


def test_kill_9_loses_nothing_acknowledged_and_at_most_a_flush_interval(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    # frequent durable pushes and checkpoints: kills land mid-fsync and mid-checkpoint
    first = _run_and_kill(directory, "1", push_every=7, checkpoint_s=0.8, run_s=2.5)
    assert len(first[0]) > 20
    # recovers, then runs on the flusher alone (one push, no checkpoint) until killed
    second = _run_and_kill(directory, "2", push_every=100_000, checkpoint_s=1e6, run_s=3.0)
    store = MetricStore(directory)
    store.open()
    try:
        _check(store, "1", *first)
        _check(store, "2", *second)
    finally:
        store.close()
