"""The durable embedded metric store: a head in memory, a write-ahead log, checkpoints and
immutable blocks on disk.

The head holds the last one to three hours; older samples are cut into compressed blocks
(store_blocks.py, block_format.py) that queries read from disk beside the head
(store_read.py). A checkpoint snapshots only the head (and the series registry), so
opening a store replays one checkpoint and the WAL after it, whatever the history.

Durability: appends go to the head and to a pending buffer; `flush` writes the buffer to
the WAL and fsyncs it (every flush_interval_s from `run_flusher`), so a crash loses at
most the samples of one flush interval, and `append_many(durable=True)` returns only once
its records are on disk. `checkpoint` snapshots every series to one file and drops the
WAL segments it covers; `open` loads the newest readable checkpoint and replays the WAL
after it, stopping a segment at a torn record instead of refusing to start.

Threads: writers (appends, retention) are serialised by one lock held for microseconds;
readers (select and friends, in query threads) take no lock (see head.py). WAL writes
and checkpoints take their own locks and run outside the writers' lock, so an fsync never
blocks an append. Lock order: checkpoint -> WAL -> writers -> head.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog

from tenantwatch.metrics import wal as walfile
from tenantwatch.metrics.block_format import BlockMeta
from tenantwatch.metrics.blocks import BlockSet
from tenantwatch.metrics.head import MAX_TIME, MIN_TIME, Head
from tenantwatch.metrics.memory_return import MemoryReturn
from tenantwatch.metrics.rollup import RollupCache
from tenantwatch.metrics.store_append import PendingRecords, StoreAppender
from tenantwatch.metrics.store_blocks import StoreBlocks
from tenantwatch.metrics.store_read import StoreReader
from tenantwatch.metrics.store_recovery import OpenReport, StoreRecovery
from tenantwatch.types import Labels, Millis

log = structlog.get_logger("tenantwatch.metrics.store")

DAY_MS = 86_400_000
DEFAULT_RETENTION_MS = 15 * DAY_MS
RETENTION_EVERY_S = 3600.0
STATS_EVERY_S = 60.0
BLOCKS_EVERY_S = 60.0
_BLOCK_SERIES = 4096
_BLOCK_SAMPLES = 1 << 21
_RETENTION_BATCH = 2048


@dataclass(frozen=True)
class StoreStats:
    active_series: int
    samples: int
    bytes_per_sample: float
    memory_bytes: int
    samples_appended: int
    wal_bytes: int
    last_flush: float | None  # unix seconds
    last_checkpoint: float | None
    blocks: int = 0
    block_samples: int = 0
    block_bytes: int = 0


def _default_retention(_: Labels) -> int:
    return DEFAULT_RETENTION_MS


class MetricStore(StoreAppender, StoreReader, StoreRecovery, StoreBlocks):
    """Recent samples in memory, older ones in blocks, durable on disk; implements
    promql.model.SeriesSource.

    Appending is in store_append.py, reading in store_read.py, opening the files in
    store_recovery.py, blocks in store_blocks.py; here: the life cycle, checkpoints,
    retention, the flusher and stats. Without a directory everything stays in the head."""

    def __init__(
        self,
        directory: Path | None,
        *,
        flush_interval_s: float = 5.0,
        retention_ms: Callable[[Labels], int] | None = None,
        checkpoint_interval_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.flush_interval_s = flush_interval_s
        self.checkpoint_interval_s = checkpoint_interval_s
        self.retention_ms = retention_ms or _default_retention
        self.clock = clock
        self.head = Head()
        self.blockset = BlockSet(None if directory is None else directory / "blocks")
        self.rollups = RollupCache()
        self.memory = MemoryReturn()
        self.open_report = OpenReport()
        self.last_flush: float | None = None
        self.last_checkpoint: float | None = None
        self._durable = directory is not None
        self._ready = directory is None
        self._pending = PendingRecords()
        self._appended = 0
        self._lock = threading.Lock()
        self._wal_lock = threading.Lock()
        self._checkpoint_lock = threading.Lock()
        self._cut_lock = threading.Lock()
        self._compact_lock = threading.Lock()
        self.stopping = threading.Event()  # set while closing: a long merge gives up
        self._wal: walfile.Wal | None = None
        self._lock_fd: int | None = None
        self._stats: tuple[float, int, int] | None = None  # (monotonic, samples, bytes)

    # -- life cycle ----------------------------------------------------------------
    def open(self) -> None:
        """Load the newest readable checkpoint and replay the WAL after it.

        A torn or corrupt WAL tail is cut off and reported in open_report.problems; an
        unreadable checkpoint is renamed *.corrupt and the next older one is tried.
        Raises StoreInUse when another process holds the directory.
        """
        if self.directory is None or self._ready:
            self._ready = True
            return
        directory = self.directory
        directory.mkdir(parents=True, exist_ok=True)
        self._take_dir_lock(directory)
        try:
            self._recover(directory)
        except BaseException:
            self._release_dir_lock()
            raise
        self._ready = True
        self.apply_retention(int(self.clock() * 1000), blocks=False)
        self.open_report.series = self.head.active
        for problem in self.open_report.problems:
            log.warning("metric store recovery", directory=str(directory), problem=problem)

    # -- housekeeping --------------------------------------------------------------
    def checkpoint(self) -> None:
        """Snapshot every series to checkpoint.<segment>, then drop the WAL it covers."""
        if self.directory is None:
            return
        with self._checkpoint_lock:
            with self._wal_lock:
                self._flush_locked()
                assert self._wal is not None
                segment = self._wal.cut()
                next_ref = self.head.next_id
            walfile.write_checkpoint(
                self.directory,
                segment,
                {"next_ref": next_ref, "created": self.clock()},
                self._blocks(),
            )
            with self._wal_lock:
                self._wal.remove_upto(segment)
            for number, path in walfile.list_checkpoints(self.directory):
                if number < segment:
                    path.unlink(missing_ok=True)
            self.last_checkpoint = self.clock()

    def _blocks(self) -> Iterator[bytes]:
        block: list[walfile.SeriesSnapshot] = []
        samples = 0
        for series in self.head.all_series():
            ts, vals = series.window(MIN_TIME, MAX_TIME)
            block.append(walfile.SeriesSnapshot(series.id, series.labels, ts, vals))
            samples += len(ts)
            if len(block) >= _BLOCK_SERIES or samples >= _BLOCK_SAMPLES:
                yield walfile.encode_block(block)
                block, samples = [], 0
        if block:
            yield walfile.encode_block(block)

    def apply_retention(self, now_ms: Millis, *, blocks: bool = True) -> int:
        """Drop head samples older than each series' retention, blocks past it (see
        expire_blocks) and series left without samples anywhere; return how many head
        samples were dropped."""
        if not self._ready:
            raise self._not_ready()
        if blocks:
            self.expire_blocks(now_ms)
        everything = self.head.all_series()
        dropped = 0
        for i in range(0, len(everything), _RETENTION_BATCH):
            part = everything[i : i + _RETENTION_BATCH]
            cutoffs = [now_ms - self.retention_ms(s.labels) for s in part]
            with self._lock:
                for series, cutoff in zip(part, cutoffs, strict=True):
                    first = series.first_t
                    if first is not None and first < cutoff:
                        dropped += series.trim_before(cutoff)
        with self._cut_lock:  # no block appears between reading the refs and dropping
            gone = self._drop_empty_series()
        if gone:
            self.rollups.prune(lambda ref: self.head.series_by_id(ref) is not None)
        return dropped

    def _drop_empty_series(self) -> int:
        in_blocks = self.blockset.refs()
        if len(in_blocks):
            held = set(in_blocks.tolist())
            keep = lambda s: s.n > 0 or s.id in held  # noqa: E731
        else:
            keep = lambda s: s.n > 0  # noqa: E731
        with self._lock:
            return self.head.drop_series(keep)

    def close(self) -> None:
        """Flush, checkpoint and release the directory."""
        if self.directory is None or self._wal is None:
            return
        self.checkpoint()
        with self._wal_lock:
            self._wal.close()
            self._wal = None
        self._ready = False
        self._release_dir_lock()

    async def run_flusher(self, stop: asyncio.Event) -> None:
        """Flush every flush_interval_s, apply retention hourly and checkpoint every
        checkpoint_interval_s, off the event loop, until stop is set (then flush once).

        Housekeeping runs beside the flushes, so a long checkpoint never stretches the
        flush interval (and with it what a crash can lose). Every BLOCKS_EVERY_S the head
        is cut into blocks when it is due; compaction runs in a task of its own, so a long
        merge holds up neither cuts nor checkpoints."""
        started = time.monotonic()
        next_checkpoint = started + self.checkpoint_interval_s
        next_retention = started + RETENTION_EVERY_S
        next_stats = started
        next_blocks = started + BLOCKS_EVERY_S
        housekeeping: asyncio.Task[None] | None = None
        compaction: asyncio.Task[None] | None = None
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.flush_interval_s)
            await self._run_logged("flush", self.flush)
            now = time.monotonic()
            if stop.is_set() or (housekeeping is not None and not housekeeping.done()):
                continue
            jobs: list[tuple[str, Callable[[], object]]] = []
            if now >= next_retention:
                next_retention = now + RETENTION_EVERY_S
                jobs.append(("retention", lambda: self.apply_retention(int(self.clock() * 1000))))
            if now >= next_blocks and self.directory is not None:
                next_blocks = now + BLOCKS_EVERY_S
                jobs.append(("block cut", self.cut))
                if compaction is None or compaction.done():
                    compaction = asyncio.create_task(self._run_logged("compaction", self.compact))
            if now >= next_checkpoint:
                next_checkpoint = now + self.checkpoint_interval_s
                jobs.append(("checkpoint", self.checkpoint))
            if now >= next_stats:
                next_stats = now + STATS_EVERY_S
                jobs.append(("stats", self._measure))
            if jobs:
                housekeeping = asyncio.create_task(self._housekeep(jobs))
        self.stopping.set()
        try:
            if housekeeping is not None:
                await housekeeping
            if compaction is not None:
                await compaction
        finally:
            self.stopping.clear()

    def housekeep(self, now_ms: Millis | None = None) -> None:
        """Cut the head into blocks, merge blocks and apply retention, now (the flusher
        does the same in the background)."""
        now = int(self.clock() * 1000) if now_ms is None else now_ms
        self.cut()
        self.compact()
        self.apply_retention(now)

    def blocks_info(self) -> list[BlockMeta]:
        """The blocks on disk, oldest first."""
        return [b.meta for b in self.blockset.current]

    async def _housekeep(self, jobs: list[tuple[str, Callable[[], object]]]) -> None:
        for what, job in jobs:
            await self._run_logged(what, job)

    async def _run_logged(self, what: str, job: Callable[[], object]) -> None:
        try:
            await asyncio.to_thread(job)
        except Exception as exc:  # keep going: the next attempt may succeed
            log.error(f"metric store {what} failed", directory=str(self.directory), error=repr(exc))

    # -- stats ---------------------------------------------------------------------
    def _measure(self) -> tuple[int, int]:
        got = self.head.stats()
        self._stats = (time.monotonic(), got.samples, got.bytes)
        return got.samples, got.bytes

    def stats(self) -> StoreStats:
        """Counts and sizes; samples and bytes are measured at most STATS_EVERY_S ago
        when run_flusher runs, now otherwise."""
        cached = self._stats
        if cached is None or time.monotonic() - cached[0] > 4 * STATS_EVERY_S:
            samples, size = self._measure()
        else:
            samples, size = cached[1], cached[2]
        blocks = self.blockset.current
        return StoreStats(
            active_series=self.head.active,
            samples=samples,
            bytes_per_sample=size / samples if samples else 0.0,
            memory_bytes=size,
            samples_appended=self._appended + self.head.samples_appended,
            wal_bytes=self._wal.total_bytes() if self._wal is not None else 0,
            last_flush=self.last_flush,
            last_checkpoint=self.last_checkpoint,
            blocks=len(blocks),
            block_samples=sum(b.meta.samples for b in blocks),
            block_bytes=sum(b.meta.bytes for b in blocks),
        )
