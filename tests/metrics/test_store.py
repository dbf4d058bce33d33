"""MetricStore: appends, WAL replay, checkpoints, retention, recovery from damage, stats."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from tenantwatch.metrics import wal
from tenantwatch.metrics.store import DAY_MS, MetricStore
from tenantwatch.metrics.store_append import UnknownSeriesRef
from tenantwatch.metrics.store_metrics import StoreCollector
from tenantwatch.metrics.store_recovery import StoreInUse
from tenantwatch.promql.model import Matcher, label_value, labels_of
from tenantwatch.types import Labels

NOW_S = 1_800_000_000.0
NOW = int(NOW_S * 1000)
ALL = [Matcher.of("__name__", "=~", ".+")]


def lbl(**kv: str) -> Labels:
    return labels_of(kv)


def clock() -> float:
    return NOW_S


def dump(store: MetricStore) -> dict[Labels, list[tuple[int, float]]]:
    return {
        d.labels: list(zip(d.ts.tolist(), d.vals.tolist(), strict=True))
        for d in store.select(ALL, 0, 2**62)
    }


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[MetricStore]:
    store = MetricStore(tmp_path / "m", clock=clock)
    store.open()
    yield store
    if store._wal is not None:
        store.close()


def crash(store: MetricStore) -> None:
    """Forget the store as a killed process would: no flush, no checkpoint."""
    assert store._lock_fd is not None
    os.close(store._lock_fd)
    store._lock_fd = None
    store._wal = None


def reopen(path: Path, **kw: object) -> MetricStore:
    store = MetricStore(path, clock=clock, **kw)  # type: ignore[arg-type]
    store.open()
    return store


def test_a_memory_store_serves_what_was_appended() -> None:
    store = MetricStore(None)
    store.open()
    ref = store.append(lbl(__name__="up", job="api"), NOW, 1.0)
    store.append_ref(ref, NOW + 15_000, 0.0)
    store.append_many([(lbl(__name__="up", job="db"), NOW, 1.0)])
    store.flush()
    store.checkpoint()
    store.close()
    assert dump(store) == {
        lbl(__name__="up", job="api"): [(NOW, 1.0), (NOW + 15_000, 0.0)],
        lbl(__name__="up", job="db"): [(NOW, 1.0)],
    }
    assert store.series([Matcher.of("job", "=", "db")], 0, 2**62) == [lbl(__name__="up", job="db")]
    assert store.label_names(ALL, 0, 2**62) == ["__name__", "job"]
    assert store.label_values("job", ALL, NOW + 1, 2**62) == ["api"]


def test_close_and_reopen_restores_every_sample_and_keeps_refs(tmp_path: Path) -> None:
    store = reopen(tmp_path)
    refs = {}
    for i in range(300):
        labels = lbl(__name__="req_total", tenant=f"t{i % 7}", i=str(i))
        refs[labels] = store.append(labels, NOW - 60_000, float(i))
        store.append_ref(refs[labels], NOW, float(i + 1))
    before = dump(store)
    store.close()
    assert [p.name for _, p in wal.list_checkpoints(tmp_path)] == ["checkpoint.00000001"]
    again = reopen(tmp_path)
    assert again.open_report.checkpoint == "checkpoint.00000001"
    assert dump(again) == before
    for labels, ref in refs.items():
        assert again.append(labels, NOW + 1, 0.0) == ref
    again.close()
    again.open()  # the same object opens again, from the files
    assert again.open_report.problems == []
    assert len(dump(again)) == 300
    again.close()


def test_a_crash_keeps_what_was_flushed_and_loses_only_the_buffer(tmp_path: Path) -> None:
    store = reopen(tmp_path)
    store.append(lbl(__name__="a"), NOW, 1.0)
    store.flush()
    store.append(lbl(__name__="a"), NOW + 1, 2.0)  # buffered, never flushed
    store.append(lbl(__name__="b"), NOW, 3.0)
    crash(store)
    again = reopen(tmp_path)
    assert dump(again) == {lbl(__name__="a"): [(NOW, 1.0)]}
    assert again.open_report.samples_replayed == 1


def test_durable_batches_are_on_disk_when_append_many_returns(tmp_path: Path) -> None:
    store = reopen(tmp_path)
    store.append_many([(lbl(__name__="pushed", i=str(i)), NOW, float(i)) for i in range(5)])
    assert _wal_samples(tmp_path) == 0  # buffered only
    store.append_many([(lbl(__name__="pushed", i="9"), NOW, 9.0)], durable=True)
    assert _wal_samples(tmp_path) == 6  # its own batch and everything buffered before it
    crash(store)
    assert len(dump(reopen(tmp_path))) == 6


def _wal_samples(root: Path) -> int:
    total = 0
    for _, path in wal.list_segments(root / "wal"):
        for kind, payload in wal.read_segment(path).records:
            if kind == wal.SAMPLES:
                total += len(wal.decode_samples(payload)[0])
    return total


def test_a_bad_sample_stores_nothing_of_its_batch(opened: MetricStore) -> None:
    good = (lbl(__name__="ok"), NOW, 1.0)
    with pytest.raises(ValueError, match=r"sample 1: .*sorted by name"):
        opened.append_many([good, ((("b", "1"), ("a", "2")), NOW, 1.0)])
    with pytest.raises(ValueError, match=r"sample 1: timestamp 1.5 is not an integer"):
        opened.append_many([good, (lbl(__name__="ok"), 1.5, 1.0)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"sample 2: could not convert"):
        opened.append_many([good, good, (lbl(__name__="ok"), NOW, "x")])  # type: ignore[list-item]
    assert dump(opened) == {}
    assert opened.stats().samples_appended == 0


def test_append_by_an_unknown_ref_says_so(opened: MetricStore) -> None:
    with pytest.raises(UnknownSeriesRef):
        opened.append_ref(42, NOW, 1.0)
    with pytest.raises(UnknownSeriesRef):
        opened.labels_of(42)
    ref = opened.append(lbl(__name__="a", b="c"), NOW, 1.0)
    assert opened.labels_of(ref) == lbl(__name__="a", b="c")


def test_a_whole_scrape_appends_by_refs_all_or_nothing(tmp_path: Path) -> None:
    store = reopen(tmp_path)
    refs = [store.append(lbl(__name__="m", i=str(i)), NOW, 0.0) for i in range(3)]
    store.append_refs(refs, NOW + 15_000, [1.0, 2.0, 3.0])
    for bad_refs, values, error in [
        ([refs[0], 99], [1.0, 1.0], UnknownSeriesRef),
        ([refs[0], -1], [1.0, 1.0], UnknownSeriesRef),
        (refs, [1.0, "x", 2.0], TypeError),
        (refs, [1.0], ValueError),
    ]:
        with pytest.raises(error):
            store.append_refs(bad_refs, NOW + 30_000, values)  # type: ignore[arg-type]
    store.flush()
    crash(store)
    assert dump(reopen(tmp_path)) == {
        lbl(__name__="m", i=str(i)): [(NOW, 0.0), (NOW + 15_000, i + 1.0)] for i in range(3)
    }


def test_a_store_must_be_opened_and_only_once(tmp_path: Path) -> None:
    store = MetricStore(tmp_path)
    with pytest.raises(RuntimeError, match="call open"):
        store.append(lbl(__name__="a"), NOW, 1.0)
    store.open()
    with pytest.raises(StoreInUse, match="in use by another tenantwatch process"):
        MetricStore(tmp_path).open()
    store.close()
    MetricStore(tmp_path).open()  # released on close


def test_checkpoint_drops_the_segments_it_covers_and_replay_continues_after_it(
    tmp_path: Path,
) -> None:
    store = reopen(tmp_path)
    store.append(lbl(__name__="a"), NOW, 1.0)
    store.flush()
    store.checkpoint()
    store.append(lbl(__name__="a"), NOW + 1, 2.0)
    store.append(lbl(__name__="b"), NOW, 3.0)
    store.flush()
    assert [n for n, _ in wal.list_segments(tmp_path / "wal")] == [2]
    crash(store)
    again = reopen(tmp_path)
    assert again.open_report.checkpoint == "checkpoint.00000001"
    assert dump(again) == {
        lbl(__name__="a"): [(NOW, 1.0), (NOW + 1, 2.0)],
        lbl(__name__="b"): [(NOW, 3.0)],
    }


def test_out_of_order_and_overwritten_samples_replay_to_the_same_state(tmp_path: Path) -> None:
    store = reopen(tmp_path)
    a = lbl(__name__="a")
    for t, v in [(NOW, 1.0), (NOW + 20, 2.0), (NOW + 10, 3.0), (NOW + 20, 4.0), (NOW, 5.0)]:
        store.append(a, t, v)
    store.flush()
    store.checkpoint()  # the checkpoint and the WAL after it overlap: replay is idempotent
    store.append(a, NOW + 10, 6.0)
    store.append(a, NOW + 5, 7.0)
    store.flush()
    before = dump(store)
    crash(store)
    assert (
        dump(reopen(tmp_path))
        == before
        == {a: [(NOW, 5.0), (NOW + 5, 7.0), (NOW + 10, 6.0), (NOW + 20, 4.0)]}
    )


def test_retention_follows_each_series_tenant_and_drops_empty_series(tmp_path: Path) -> None:
    days = {"gold": 30, "basic": 1}

    def retention(labels: Labels) -> int:
        return days.get(label_value(labels, "tenant"), 15) * DAY_MS

    store = reopen(tmp_path, retention_ms=retention)
    for tenant in ("gold", "basic", "none"):
        for age_days in (20, 10, 0.5):
            store.append(lbl(__name__="m", tenant=tenant), NOW - int(age_days * DAY_MS), age_days)
    store.append(lbl(__name__="old", tenant="basic"), NOW - 2 * DAY_MS, 1.0)
    dropped = store.apply_retention(NOW)
    assert dropped == 0 + 2 + 1 + 1
    assert {
        label_value(k, "tenant") + "/" + label_value(k, "__name__"): [v for _, v in s]
        for k, s in dump(store).items()
    } == {
        "gold/m": [20, 10, 0.5],
        "basic/m": [0.5],
        "none/m": [10, 0.5],
    }
    store.close()
    again = reopen(tmp_path, retention_ms=retention)
    assert again.head.active == 3  # the dropped series does not come back


def test_an_unfinished_checkpoint_temp_file_is_ignored_and_removed(tmp_path: Path) -> None:
    store = reopen(tmp_path)
    store.append(lbl(__name__="a"), NOW, 1.0)
    store.flush()
    crash(store)
    junk = tmp_path / "checkpoint.00000001.tmp"
    junk.write_bytes(wal.CHECKPOINT_MAGIC + os.urandom(500))  # died mid-write
    again = reopen(tmp_path)
    assert not junk.exists()
    assert dump(again) == {lbl(__name__="a"): [(NOW, 1.0)]}
    assert any("unfinished checkpoint" in p for p in again.open_report.problems)


def test_a_corrupt_checkpoint_is_set_aside_and_the_store_still_starts(tmp_path: Path) -> None:
    store = reopen(tmp_path)
    store.append(lbl(__name__="a"), NOW, 1.0)
    store.checkpoint()
    store.append(lbl(__name__="b"), NOW, 2.0)
    store.flush()
    crash(store)
    path = tmp_path / "checkpoint.00000001"
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    again = reopen(tmp_path)
    assert (tmp_path / "checkpoint.00000001.corrupt").exists()
    assert dump(again) == {lbl(__name__="b"): [(NOW, 2.0)]}  # what the WAL still holds
    assert any("checkpoint.00000001" in p for p in again.open_report.problems)


def test_a_torn_wal_tail_is_cut_off_and_the_store_keeps_working(tmp_path: Path) -> None:
    store = reopen(tmp_path)
    store.append(lbl(__name__="a"), NOW, 1.0)
    store.flush()
    store.append(lbl(__name__="a"), NOW + 1, 2.0)
    store.flush()
    crash(store)
    segment = wal.segment_path(tmp_path / "wal", 1)
    size = segment.stat().st_size
    os.truncate(segment, size - 7)  # the last record was half written
    with open(segment, "ab") as f:
        f.write(b"\0" * 100)
    again = reopen(tmp_path)
    assert dump(again) == {lbl(__name__="a"): [(NOW, 1.0)]}
    assert any("torn or corrupt" in p for p in again.open_report.problems)
    again.append(lbl(__name__="a"), NOW + 2, 3.0)
    again.flush()
    crash(again)
    third = reopen(tmp_path)
    assert dump(third) == {lbl(__name__="a"): [(NOW, 1.0), (NOW + 2, 3.0)]}
    assert third.open_report.problems == []  # the tail was repaired


async def test_the_flusher_flushes_checkpoints_and_flushes_once_more_on_stop(
    tmp_path: Path,
) -> None:
    store = MetricStore(tmp_path, flush_interval_s=0.05, checkpoint_interval_s=0.2, clock=clock)
    store.open()
    stop = asyncio.Event()
    task = asyncio.create_task(store.run_flusher(stop))
    store.append(lbl(__name__="a"), NOW, 1.0)
    for _ in range(100):
        await asyncio.sleep(0.02)
        if store.last_checkpoint is not None:
            break
    assert store.last_flush is not None
    assert store.last_checkpoint is not None
    store.append(lbl(__name__="a"), NOW + 1, 2.0)
    stop.set()
    await task
    crash(store)
    assert dump(reopen(tmp_path)) == {lbl(__name__="a"): [(NOW, 1.0), (NOW + 1, 2.0)]}


async def test_a_slow_checkpoint_does_not_hold_up_flushes(tmp_path: Path) -> None:
    store = MetricStore(tmp_path, flush_interval_s=0.05, checkpoint_interval_s=0.05, clock=clock)
    store.open()
    real_checkpoint = store.checkpoint
    checkpointing = threading.Event()

    def slow_checkpoint() -> None:
        checkpointing.set()
        time.sleep(1.0)
        real_checkpoint()

    store.checkpoint = slow_checkpoint  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(store.run_flusher(stop))
    while not checkpointing.is_set():
        await asyncio.sleep(0.01)
    store.append(lbl(__name__="a"), NOW, 1.0)
    await asyncio.sleep(0.4)  # the checkpoint is still sleeping
    assert _wal_samples(tmp_path) == 1
    stop.set()
    await task  # waits for the checkpoint to finish
    assert store.last_checkpoint is not None
    store.close()


async def test_queries_in_threads_run_safely_beside_appends_on_the_loop(tmp_path: Path) -> None:
    store = reopen(tmp_path)
    stop = threading.Event()

    def query() -> int:
        n = 0
        while not stop.is_set():
            for data in store.select(ALL, 0, 2**62):
                assert np.array_equal(data.vals, (data.ts - NOW).astype(float))
            store.label_values("i", ALL, 0, 2**62)
            n += 1
        return n

    readers = [asyncio.create_task(asyncio.to_thread(query)) for _ in range(2)]
    for step in range(300):
        for i in range(50):
            store.append(lbl(__name__="m", i=str(i + step // 30 * 50)), NOW + step, float(step))
        if step % 50 == 0:
            await asyncio.to_thread(store.flush)
        await asyncio.sleep(0)
    stop.set()
    assert all(n > 0 for n in await asyncio.gather(*readers))
    store.close()


def test_checkpoints_and_retention_in_a_thread_lose_nothing_appended_meanwhile(
    tmp_path: Path,
) -> None:
    store = reopen(tmp_path)
    stop = threading.Event()
    errors: list[BaseException] = []
    checkpoints = [0]

    def housekeeping() -> None:
        try:
            while not stop.is_set():
                store.checkpoint()
                store.apply_retention(NOW)
                checkpoints[0] += 1
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=housekeeping)
    worker.start()
    expected: dict[Labels, list[tuple[int, float]]] = {}
    try:
        for step in range(400):
            for i in range(20):
                labels = lbl(__name__="m", i=str(i + 20 * (step // 100)))
                store.append(labels, NOW + step, float(step))
                expected.setdefault(labels, []).append((NOW + step, float(step)))
            if step % 25 == 0:
                store.flush()
            time.sleep(0.0005)
    finally:
        stop.set()
        worker.join()
    assert not errors, errors[0]
    assert checkpoints[0] >= 5
    store.flush()
    crash(store)
    again = reopen(tmp_path)
    assert again.open_report.checkpoint is not None
    assert dump(again) == expected


def test_stats_and_the_collector_report_the_store(opened: MetricStore) -> None:
    for i in range(10):
        ref = opened.append(lbl(__name__="m", i=str(i)), NOW, 1.0)
        opened.append_ref(ref, NOW + 1, 2.0)
    opened.flush()
    stats = opened.stats()
    assert stats.active_series == 10
    assert stats.samples == 20
    assert stats.samples_appended == 20
    assert stats.wal_bytes > 0
    assert 16 <= stats.bytes_per_sample < 1000
    assert stats.last_flush == NOW_S
    registry = CollectorRegistry()
    registry.register(StoreCollector(opened))
    text = generate_latest(registry).decode()
    for line in (
        "tenantwatch_metric_store_active_series 10.0",
        "tenantwatch_metric_store_samples 20.0",
        "tenantwatch_metric_store_samples_appended_total 20.0",
        "tenantwatch_metric_store_last_flush_timestamp_seconds 1.8e+09",
    ):
        assert line in text
    assert "tenantwatch_metric_store_bytes_per_sample " in text
    assert f"tenantwatch_metric_store_wal_bytes {float(stats.wal_bytes)}" in text


def test_long_rate_windows_read_the_rollup_with_the_same_answer() -> None:
    """rate() over a window longer than a day reads the 1 m rollup; the answer stays
    within the rollup's stated tolerance of the raw one."""
    from tenantwatch.promql.engine import Engine
    from tenantwatch.promql.model import labels_of

    store = MetricStore(None)
    store.open()
    labels = labels_of({"__name__": "req_total", "tenant": "a"})
    for i in range(2 * 86_400 // 10):  # two days, every 10 s, 3 per second
        store.append(labels, i * 10_000, i * 30.0)
    engine = Engine(store)
    t = 2 * 86_400_000 - 5_000
    packed = store.select_packed([], 0, t, max_step_ms=7_200_000)
    raw = store.select_packed([], 0, t)
    assert len(packed.ts) < len(raw.ts) / 5  # the rollup was read
    got = engine.instant("rate(req_total[2d])", t).value.samples[0].v  # type: ignore[union-attr]
    assert abs(got - 3.0) / 3.0 < 0.01
