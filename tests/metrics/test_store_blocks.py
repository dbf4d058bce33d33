"""The store with blocks: history leaves the head for disk and reads back the same."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tenantwatch.metrics.block_plan import BLOCK_MS, HOUR_MS
from tenantwatch.metrics.retention import TenantRetention
from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import Matcher, SeriesData
from tenantwatch.types import Labels

DAY = 24 * HOUR_MS
T0 = 1_700_000_000_000 // BLOCK_MS * BLOCK_MS
DAYS = 8
STALE = np.array([0x7FF0000000000002], dtype=np.uint64).view(np.float64)[0]


def history(series: int = 12, days: int = DAYS) -> dict[Labels, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(3)
    n = days * 5760
    out = {}
    for i in range(series):
        name = "req_total" if i % 2 else "mem_bytes"
        labels = (("__name__", name), ("i", str(i)), ("tenant", f"t{i % 3}"))
        ts = T0 + np.arange(n) * 15_000 + rng.integers(0, 40, n)
        if i % 2:
            vals = np.cumsum(rng.integers(0, 9, n)).astype(float)
            vals[n // 3 :] -= vals[n // 3]  # a counter reset
        else:
            vals = np.round(rng.normal(5e6, 1e5, n)) if i % 4 else rng.normal(size=n)
        if i == 4:
            vals[n // 2] = STALE
        out[labels] = (ts.astype(np.int64), vals)
    return out


def load(store: MetricStore, data: dict[Labels, tuple[np.ndarray, np.ndarray]], days: int) -> None:
    """Day by day, as a backfill would, with housekeeping between days."""
    for day in range(days):
        part = slice(day * 5760, (day + 1) * 5760)
        for labels, (ts, vals) in data.items():
            store.append_series(labels, ts[part], vals[part])
        store.housekeep(T0 + (day + 1) * DAY)


def same(a: list[SeriesData], b: list[SeriesData]) -> None:
    assert [x.labels for x in a] == [x.labels for x in b]
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.ts, y.ts), x.labels
        assert np.array_equal(x.vals.view(np.uint64), y.vals.view(np.uint64)), x.labels


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[MetricStore, MetricStore, Path]:
    data = history()
    directory = tmp_path_factory.mktemp("blocks") / "store"
    now = (T0 + DAYS * DAY) / 1000
    disk = MetricStore(directory, clock=lambda: now, retention_ms=lambda _: 60 * DAY)
    disk.open()
    load(disk, data, DAYS)
    memory = MetricStore(None)
    memory.open()
    for labels, (ts, vals) in data.items():
        memory.append_series(labels, ts, vals)
    return disk, memory, directory


def test_history_leaves_the_head_for_merged_blocks(
    stores: tuple[MetricStore, MetricStore, Path],
) -> None:
    disk, _, directory = stores
    blocks = disk.blocks_info()
    head_samples = sum(s.n for s in disk.head.all_series())
    assert head_samples <= 12 * 3 * 240  # at most 3 hours of 12 series at 15 s
    assert sum(b.samples for b in blocks) + head_samples == 12 * DAYS * 5760
    assert any(b.maxt - b.mint == 3 * DAY for b in blocks)  # merged up to the top level
    windows = sorted((b.mint, b.maxt) for b in blocks)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(windows))  # no overlap
    assert all(b.mint % (b.maxt - b.mint) == 0 for b in blocks)  # aligned
    on_disk = sum(f.stat().st_size for f in (directory / "blocks").rglob("*") if f.is_file())
    assert on_disk < sum(b.samples for b in blocks) * 6  # compressed (half is noise)
    assert not list((directory / "blocks").glob("*.tmp"))


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (T0 - DAY, T0 + 9 * DAY),  # everything
        (T0 + 3 * DAY - 5_000, T0 + 3 * DAY + 5 * BLOCK_MS),  # across a 3-day boundary
        (T0 + DAYS * DAY - 2 * HOUR_MS, T0 + DAYS * DAY),  # across blocks and head
        (T0 + 5 * DAY + 1, T0 + 5 * DAY + 1),  # one instant, maybe no sample
    ],
)
def test_reads_across_blocks_and_head_equal_the_in_memory_store(
    stores: tuple[MetricStore, MetricStore, Path], lo: int, hi: int
) -> None:
    disk, memory, _ = stores
    for matchers in ([], [Matcher("tenant", "=", "t1")], [Matcher("__name__", "=", "req_total")]):
        same(disk.select(matchers, lo, hi), memory.select(matchers, lo, hi))
        assert disk.series(matchers, lo, hi) == memory.series(matchers, lo, hi) or lo == hi
    packed, want = disk.select_packed([], lo, hi), memory.select_packed([], lo, hi)
    assert packed.labels == want.labels
    assert np.array_equal(packed.ts, want.ts)


def test_long_windows_read_stored_rollups_with_the_same_answers(
    stores: tuple[MetricStore, MetricStore, Path],
) -> None:
    disk, memory, _ = stores
    lo, hi = T0 + 12 * HOUR_MS, T0 + DAYS * DAY
    for step in (60_000, HOUR_MS):
        same(
            disk.select([], lo, hi, max_step_ms=step),
            memory.select([], lo, hi, max_step_ms=step),
        )
    raw = disk.select_packed([], lo, hi)
    rolled = disk.select_packed([], lo, hi, max_step_ms=HOUR_MS)
    assert len(rolled.ts) < len(raw.ts) / 3


@pytest.mark.parametrize(
    "query",
    [
        "rate(req_total[7d])",
        "increase(req_total[2d])",
        "avg_over_time(mem_bytes[7d])",
        "max_over_time(mem_bytes{tenant='t2'}[3d])",
        "sum by (tenant) (rate(req_total[5m]))",
        "count_over_time(mem_bytes[8d])",
    ],
)
def test_promql_over_blocks_answers_as_over_the_head(
    stores: tuple[MetricStore, MetricStore, Path], query: str
) -> None:
    disk, memory, _ = stores
    for t in (T0 + 3 * DAY + 17_000, T0 + DAYS * DAY - 60_000):
        got = Engine(disk).instant(query, t).value
        want = Engine(memory).instant(query, t).value
        assert got == want, (query, t)
    start, end = T0 + DAY, T0 + DAYS * DAY
    got_range = Engine(disk).range(query, start, end, HOUR_MS).value
    assert got_range == Engine(memory).range(query, start, end, HOUR_MS).value


def test_reopening_replays_only_the_head_and_serves_the_same(
    stores: tuple[MetricStore, MetricStore, Path], tmp_path: Path
) -> None:
    disk, memory, directory = stores
    copy = tmp_path / "copy"
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("LOCK"))
    started = time.monotonic()
    again = MetricStore(
        copy, retention_ms=lambda _: 60 * DAY, clock=lambda: (T0 + DAYS * DAY) / 1000
    )
    again.open()
    took = time.monotonic() - started
    try:
        assert again.open_report.blocks == len(disk.blocks_info())
        assert again.open_report.samples_replayed <= 12 * 3 * 240
        assert took < 5
        same(again.select([], T0, T0 + 9 * DAY), memory.select([], T0, T0 + 9 * DAY))
    finally:
        again.close()


def test_half_written_and_merged_away_blocks_are_removed_at_open(
    stores: tuple[MetricStore, MetricStore, Path], tmp_path: Path
) -> None:
    disk, memory, directory = stores
    copy = tmp_path / "copy"
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("LOCK"))
    blocks = sorted((copy / "blocks").iterdir())
    # a cut that died before its rename, and one that died before meta.json
    shutil.copytree(blocks[0], copy / "blocks" / "b000000000000000-dead.tmp")
    torn = copy / "blocks" / "b000000000000000-torn"
    shutil.copytree(blocks[0], torn)
    (torn / "meta.json").unlink()
    # a compaction that died after writing its block but before removing its parents
    merged = disk.blocks_info()[0]
    assert merged.parents
    parent = copy / "blocks" / merged.parents[0]
    shutil.copytree(blocks[-1], parent)
    meta = (parent / "meta.json").read_text().replace(blocks[-1].name, merged.parents[0])
    (parent / "meta.json").write_text(meta)
    again = MetricStore(
        copy, retention_ms=lambda _: 60 * DAY, clock=lambda: (T0 + DAYS * DAY) / 1000
    )
    again.open()
    try:
        problems = " ".join(again.open_report.problems)
        assert "half-written block b000000000000000-dead.tmp" in problems
        assert "unreadable block b000000000000000-torn" in problems
        assert f"block {merged.parents[0]}, already merged" in problems
        assert sorted(p.name for p in (copy / "blocks").iterdir()) == [b.name for b in blocks]
        same(again.select([], T0, T0 + 9 * DAY), memory.select([], T0, T0 + 9 * DAY))
    finally:
        again.close()


def test_a_corrupt_page_is_refused_not_served(tmp_path: Path) -> None:
    store = MetricStore(tmp_path / "s", retention_ms=lambda _: 60 * DAY)
    store.open()
    load(store, history(series=2, days=1), 1)
    block = store.blockset.current[0]
    with open(block.path / "chunks", "r+b") as f:
        f.seek(10)
        f.write(b"\xff\xff\xff\xff")
    from tenantwatch.metrics.block_format import PAGES, BlockError

    PAGES._pages.clear()
    with pytest.raises(BlockError, match="corrupt"):
        store.select([], block.meta.mint, block.meta.maxt)
    store.close()


def test_retention_deletes_whole_blocks_and_rewrites_per_tier(tmp_path: Path) -> None:
    from tenantwatch.domain.tiers import TierCatalog

    retention = TenantRetention(TierCatalog(), default_s=30 * 86400)
    retention.update({"t0": "basic"})
    short_ms = 15 * DAY
    data = history(series=6, days=DAYS)
    now = T0 + DAYS * DAY
    store = MetricStore(tmp_path / "s", retention_ms=retention, clock=lambda: now / 1000)
    store.open()
    load(store, data, DAYS)
    later = now + short_ms - 2 * DAY
    store.apply_retention(later)
    kept = {dict(sd.labels)["i"]: sd for sd in store.select([], T0, now)}
    for labels, (ts, _) in data.items():
        got = kept[dict(labels)["i"]]
        if dict(labels)["tenant"] == "t0":  # blocks wholly older than the cutoff are gone
            assert got.ts[0] > later - short_ms - 3 * DAY
            assert got.ts[0] >= T0 + DAY
        else:
            assert got.ts[0] == ts[0]
    store.apply_retention(now + 31 * DAY)  # past everyone's retention
    assert store.blocks_info() == []
    store.close()


def test_queries_during_cuts_and_compactions_miss_nothing(tmp_path: Path) -> None:
    data = history(series=4, days=3)
    store = MetricStore(tmp_path / "s", retention_ms=lambda _: 60 * DAY)
    store.open()
    for labels, (ts, vals) in data.items():
        store.append_series(labels, ts, vals)
    total = 4 * 3 * 5760
    seen: list[int] = []
    stop = threading.Event()

    def query() -> None:
        while not stop.is_set():
            seen.append(sum(len(sd.ts) for sd in store.select([], T0, T0 + 4 * DAY)))

    reader = threading.Thread(target=query)
    reader.start()
    try:
        store.housekeep(T0 + 3 * DAY)
    finally:
        stop.set()
        reader.join()
    assert seen and set(seen) == {total}
    assert len(store.blocks_info()) >= 1
    store.close()


def test_a_merge_gives_up_when_the_store_closes_and_keeps_its_blocks(tmp_path: Path) -> None:
    data = history(series=300, days=1)
    store = MetricStore(tmp_path / "s", retention_ms=lambda _: 60 * DAY)
    store.open()
    for hour in range(24):  # cut as a running server does: 2 h blocks, one at a time
        for labels, (ts, vals) in data.items():
            store.append_series(labels, ts[hour * 240 : (hour + 1) * 240], vals[hour * 240 :][:240])
        store.cut()
    assert all(b.maxt - b.mint == BLOCK_MS for b in store.blocks_info())
    before = sorted(b.id for b in store.blocks_info())
    store.stopping.set()
    assert store.compact() == 0
    assert sorted(b.id for b in store.blocks_info()) == before
    assert not list((tmp_path / "s" / "blocks").glob("*.tmp"))
    store.stopping.clear()
    assert store.compact() >= 1
    got = {dict(sd.labels)["i"]: len(sd.ts) for sd in store.select([], T0, T0 + DAY)}
    assert set(got.values()) == {5760}
    store.close()


CHILD = r"""
import sys, numpy as np
from pathlib import Path
from tenantwatch.metrics.store import MetricStore
directory, rounds = Path(sys.argv[1]), int(sys.argv[2])
store = MetricStore(directory, retention_ms=lambda _: 10**12)
store.open()
T0 = 1_700_000_000_000 // 7_200_000 * 7_200_000
start = int(sys.argv[3])
for r in range(start, start + rounds):
    for i in range(20):
        ts = T0 + r * 21_600_000 + np.arange(1440, dtype=np.int64) * 15_000
        store.append_series((("__name__", "x"), ("i", str(i))), ts, ts / 1000.0 + i)
    store.flush()
    print("ACK", r, flush=True)  # acknowledged: the round is durable
    store.housekeep(T0 + (r + 1) * 21_600_000)
"""


def test_kill_9_during_cuts_and_compactions_loses_nothing_acknowledged(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    acked = -1
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    for kill_after in (0.9, 1.7, 1.3, 2.1):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(directory), "40", str(acked + 1)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        time.sleep(kill_after)
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        rounds = [int(line.split()[1]) for line in out.splitlines() if line.startswith("ACK ")]
        acked = max(rounds, default=acked)
    assert acked > 10
    store = MetricStore(directory, retention_ms=lambda _: 10**12)
    store.open()
    try:
        assert not list((directory / "blocks").glob("*.tmp"))
        got = store.select([], 0, 2**62)
        assert len(got) == 20
        for sd in got:
            i = int(dict(sd.labels)["i"])
            assert np.array_equal(np.unique(sd.ts), sd.ts)  # each sample once
            assert np.array_equal(sd.vals, sd.ts / 1000.0 + i)  # none corrupted
            rounds = set(((sd.ts - T0) // 21_600_000).tolist())
            assert set(range(acked + 1)) <= rounds, "an acknowledged round was lost"
        assert store.blocks_info()
    finally:
        store.close()
