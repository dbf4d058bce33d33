"""Freed memory goes back to the system once a query read enough from blocks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tenantwatch.metrics.memory_return import MemoryReturn
from tenantwatch.metrics.store import MetricStore

T0 = 1_700_000_000_000 // 7_200_000 * 7_200_000


def test_trims_only_after_enough_was_read() -> None:
    calls: list[int] = []
    memory = MemoryReturn(lambda: calls.append(1), threshold=1000)
    memory.note(600)
    assert not memory.after_query()
    memory.note(600)
    assert memory.after_query() and calls == [1]
    assert not memory.after_query()  # the count starts again


def test_the_libc_trim_is_found_and_runs() -> None:
    memory = MemoryReturn(threshold=1)
    assert memory.trim is not None  # glibc on this platform
    memory.note(1)
    assert memory.after_query() and memory.trims == 1


def test_reads_from_blocks_count_and_head_reads_do_not(tmp_path: Path) -> None:
    store = MetricStore(tmp_path / "s", retention_ms=lambda _: 10**12, clock=lambda: T0 / 1000)
    store.open()
    calls: list[int] = []
    store.memory = MemoryReturn(lambda: calls.append(1), threshold=16 * 1000)
    ts = T0 + np.arange(2880, dtype=np.int64) * 15_000  # 12 hours
    store.append_series((("__name__", "x"),), ts, np.ones(len(ts)))
    store.select([], int(ts[-1]) - 60_000, int(ts[-1]))  # the head only
    assert not store.after_query()
    store.housekeep(int(ts[-1]))
    assert store.blocks_info()
    store.select([], T0, int(ts[-1]))
    assert store.after_query() and calls == [1]
    store.close()
