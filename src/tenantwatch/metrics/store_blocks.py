"""Moving samples from the head into blocks: the cut, compaction and retention of blocks.

Cut: samples older than the boundary (block_plan.cut_boundary) are written into blocks
of aligned windows; once a block is durable it is added to the block set, and only then
are the samples trimmed from the head, series by series, unless the series changed
meanwhile (that series keeps its old samples until the next cut). A query between the
two sees the samples twice and keeps one (block_format.merge_pieces). A checkpoint
follows, so the WAL no longer holds what the blocks do; a crash before it replays those
samples into the head again, to be cut into a block that overlaps the first and is
merged with it. Nothing is lost and no block is served before it is complete.

Compaction merges blocks of one window into a new block (its `parents` name them), then
removes them; a crash in between leaves both, and opening deletes the parents.

Cuts and compactions take separate locks: a merge of weeks may take a while and the
head must keep being cut meanwhile. A cut only adds blocks and a merge replaces the
blocks it read, so a block cut during a merge is left for the next merge.

Retention deletes whole blocks once every series in them is past its retention, and
rewrites a block without the series that are (per-tier retention: a free tenant's
series go, an enterprise tenant's stay).

The series registry is the head: a series whose samples are all in blocks stays in the
head, empty, while any block holds it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import structlog

from tenantwatch.metrics import block_plan
from tenantwatch.metrics.block_format import Block, BlockWriter, merge_pieces
from tenantwatch.metrics.blocks import BlockSet, new_block_id
from tenantwatch.metrics.head import Head, MemSeries
from tenantwatch.types import Labels, Millis

log = structlog.get_logger("tenantwatch.metrics.store")
_TRIM_BATCH = 2048


class MergeStopped(Exception):
    """A merge given up because the store is closing; its parents stay, whole."""


class StoreBlocks:
    """MetricStore's blocks (state from MetricStore.__init__)."""

    head: Head
    blockset: BlockSet
    directory: Path | None
    retention_ms: Callable[[Labels], int]
    _lock: threading.Lock
    stopping: threading.Event
    _cut_lock: threading.Lock
    _compact_lock: threading.Lock
    checkpoint: Callable[[], None]  # MetricStore's: snapshot the head, drop the WAL it covers

    # -- levels ----------------------------------------------------------------------
    def block_levels(self) -> tuple[int, ...]:
        longest = getattr(self.retention_ms, "longest_ms", None)
        if not isinstance(longest, int):
            return block_plan.LEVELS
        return block_plan.levels_for(longest)

    def _head_newest(self) -> int | None:
        """The newest sample in the head, None when it is empty."""
        return max((s.last_t for s in self.head.all_series() if s.n), default=None)

    def _labels_of(self, ref: int) -> Labels | None:
        series = self.head.series_by_id(ref)
        return None if series is None else series.labels

    # -- cut -------------------------------------------------------------------------
    def cut(self) -> int:
        """Write head samples older than the cut boundary into blocks; return how many."""
        if self.blockset.root is None:
            return 0
        with self._cut_lock:
            return self._cut()

    def _cut(self) -> int:
        newest = self._head_newest()
        if newest is None:
            return 0
        everything = self.head.all_series()
        boundary = block_plan.cut_boundary(newest)
        before: dict[int, tuple[int, int]] = {}
        oldest = boundary
        for series in everything:
            first = series.first_t
            if first is not None and first < boundary:
                oldest = min(oldest, first)
                before[series.id] = (series.version, series.count_before(boundary))
        if not before:
            return 0
        chosen = sorted((s for s in everything if s.id in before), key=lambda s: s.id)
        moved = 0
        for start, end in block_plan.cut_windows(oldest, boundary, self.block_levels()):
            moved += self._write_window(chosen, start, end)
        self._trim(chosen, before, boundary)
        self.checkpoint()
        return moved

    def _write_window(self, chosen: Sequence[MemSeries], start: int, end: int) -> int:
        assert self.blockset.root is not None
        fresh = end - start == block_plan.BLOCK_MS  # no rollups until merged
        writer = BlockWriter(
            self.blockset.root, new_block_id(start), start, end, 0, rollups=not fresh
        )
        try:
            for series in chosen:
                ts, vals = series.window(start, end - 1)
                writer.add(series.id, series.labels, ts, vals)
            meta = writer.finish()
        except BaseException:
            writer.abort()
            raise
        if meta is None:
            return 0
        self.blockset.add(Block(writer.final))
        log.debug("metric block cut", block=meta.id, series=meta.series, samples=meta.samples)
        return meta.samples

    def _trim(
        self, chosen: Sequence[MemSeries], before: dict[int, tuple[int, int]], boundary: int
    ) -> None:
        for i in range(0, len(chosen), _TRIM_BATCH):
            with self._lock:
                for series in chosen[i : i + _TRIM_BATCH]:
                    version, count = before[series.id]
                    if series.version == version and series.count_before(boundary) == count:
                        series.trim_before(boundary)

    # -- compaction ------------------------------------------------------------------
    def compact(self) -> int:
        """Merge blocks as block_plan.plan_compaction says, until nothing is left to
        merge; return how many merges were made."""
        if self.blockset.root is None:
            return 0
        merges = 0
        with self._compact_lock:
            while True:
                newest = self._head_newest()
                if newest is None:
                    newest = self.blockset.max_time + block_plan.HEAD_KEEP_MS
                boundary = block_plan.cut_boundary(newest)
                plan = block_plan.plan_compaction(
                    self.blockset.spans(), self.block_levels(), boundary
                )
                if plan is None:
                    return merges
                (start, end), ids = plan
                wanted = set(ids)
                try:
                    self._rewrite([b for b in self.blockset.current if b.id in wanted], start, end)
                except MergeStopped:
                    return merges
                merges += 1

    def _rewrite(
        self,
        blocks: Sequence[Block],
        start: int,
        end: int,
        skip: Callable[[int], bool] | None = None,
    ) -> None:
        """Replace blocks by one block of [start, end) holding their series (but those
        skip() names); no block when none is left."""
        assert self.blockset.root is not None
        refs = np.unique(np.concatenate([b.refs for b in blocks]))
        positions = [b.positions(refs) for b in blocks]
        parents = sorted({p for b in blocks for p in (b.id, *b.meta.parents)})
        level = max(b.meta.level for b in blocks) + 1
        writer = BlockWriter(
            self.blockset.root, new_block_id(start), start, end, level, parents=tuple(parents)
        )
        lost: dict[int, Labels] | None = None
        try:
            for i, ref in enumerate(refs.tolist()):
                if i % 256 == 0 and self.stopping.is_set():
                    raise MergeStopped("the store is closing")
                if skip is not None and skip(ref):
                    continue
                labels = self._labels_of(ref)
                if labels is None:  # registry lost (no checkpoint): the blocks know them
                    if lost is None:
                        lost = {r: ls for b in blocks for r, ls in b.labels()}
                    labels = lost[ref]
                pieces = [
                    b.chunk(int(pos[i]))
                    for b, pos in zip(blocks, positions, strict=True)
                    if pos[i] >= 0
                ]
                ts, vals = merge_pieces(pieces)
                writer.add(ref, labels, ts, vals)
            meta = writer.finish()
        except BaseException:
            writer.abort()
            raise
        new = Block(writer.final) if meta is not None else None
        self.blockset.replace([b.id for b in blocks], new)
        log.debug(
            "metric blocks merged",
            parents=[b.id for b in blocks],
            block=None if meta is None else meta.id,
        )

    # -- retention -------------------------------------------------------------------
    def expire_blocks(self, now_ms: Millis) -> int:
        """Delete or rewrite blocks past their series' retention; return blocks changed."""
        if self.blockset.root is None:
            return 0
        changed = 0
        shortest = getattr(self.retention_ms, "shortest_ms", None)
        with self._compact_lock:
            for block in self.blockset.current:
                if isinstance(shortest, int) and block.meta.maxt > now_ms - shortest:
                    continue
                refs = block.refs.tolist()
                cutoffs = []
                for ref in refs:
                    labels = self._labels_of(ref)
                    cutoffs.append(now_ms - self.retention_ms(labels if labels else ()))
                gone = [block.meta.maxt <= cutoff for cutoff in cutoffs]  # wholly past
                if not any(gone):
                    continue
                changed += 1
                if all(gone):
                    self.blockset.replace([block.id], None)
                    log.info("metric block expired", block=block.id)
                    continue
                stale = frozenset(ref for ref, g in zip(refs, gone, strict=True) if g)
                try:
                    self._rewrite([block], block.meta.mint, block.meta.maxt, stale.__contains__)
                except MergeStopped:
                    return changed
        return changed
