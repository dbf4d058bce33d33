"""The store's query side: promql.model.SeriesSource over the head, its rollups and blocks.

Series come from the head's index (the registry of every stored series); their samples
from the head and from every block overlapping the asked range. The head is read before
the block list, so a sample moving from the head into a block during the query is seen
once or twice, never missed (block_format.merge_pieces keeps one of equal timestamps).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tenantwatch.metrics.block_format import Block, kind_of_step, merge_pieces
from tenantwatch.metrics.blocks import BlockSet
from tenantwatch.metrics.head import Head, MemSeries, names_in, values_in
from tenantwatch.metrics.memory_return import MemoryReturn
from tenantwatch.metrics.rollup import RollupCache, choose_step, is_counter
from tenantwatch.metrics.store_append import UnknownSeriesRef
from tenantwatch.promql.model import FloatArray, IntArray, Matcher, PackedSeries, SeriesData
from tenantwatch.types import Labels, Millis


def _clip(
    ts: IntArray, vals: FloatArray, mint: Millis, maxt: Millis
) -> tuple[IntArray, FloatArray]:
    lo = int(np.searchsorted(ts, mint, side="left"))
    hi = int(np.searchsorted(ts, maxt, side="right"))
    return ts[lo:hi], vals[lo:hi]


def _positions(blocks: Sequence[Block], matched: Sequence[MemSeries]) -> list[np.ndarray]:
    refs = np.fromiter((s.id for s in matched), dtype=np.int64, count=len(matched))
    return [b.positions(refs) for b in blocks]


class StoreReader:
    """MetricStore's reads; they take no lock (see head.py). State from MetricStore.__init__."""

    head: Head
    rollups: RollupCache
    blockset: BlockSet
    memory: MemoryReturn

    def after_query(self) -> bool:
        """Give freed memory back after queries that read a lot (see memory_return.py)."""
        return self.memory.after_query()

    def select_packed(
        self,
        matchers: Sequence[Matcher],
        mint: Millis,
        maxt: Millis,
        *,
        max_step_ms: Millis | None = None,
    ) -> PackedSeries:
        """Samples of every matching series, packed (see PackedSeries): raw, or a rollup
        when max_step_ms allows one for this span (rules in rollup.py)."""
        if choose_step(mint, maxt, max_step_ms) is None and not self.blockset.overlapping(
            mint, maxt
        ):
            return self.head.select_packed(matchers, mint, maxt)
        data = [
            sd for sd in self.select(matchers, mint, maxt, max_step_ms=max_step_ms) if len(sd.ts)
        ]
        return PackedSeries(
            [sd.labels for sd in data],
            np.fromiter((len(sd.ts) for sd in data), dtype=np.int64, count=len(data)),
            np.concatenate([sd.ts for sd in data]) if data else np.empty(0, np.int64),
            np.concatenate([sd.vals for sd in data]) if data else np.empty(0),
        )

    def select(
        self,
        matchers: Sequence[Matcher],
        mint: Millis,
        maxt: Millis,
        *,
        max_step_ms: Millis | None = None,
    ) -> list[SeriesData]:
        """Series matching all matchers with their samples in [mint, maxt].

        max_step_ms: the coarsest sample spacing the caller's functions tolerate; when
        given and the span is long, a rollup is read instead (rules in rollup.py).
        """
        step = choose_step(mint, maxt, max_step_ms)
        matched = self.head.matching(matchers)
        if step is None:
            heads = [s.window(mint, maxt) for s in matched]
        else:
            heads = [self.rollups.window(s, step, mint, maxt) for s in matched]
        blocks = self.blockset.overlapping(mint, maxt)
        if not blocks:
            return [
                SeriesData(s.labels, ts, vals)
                for s, (ts, vals) in zip(matched, heads, strict=True)
                if len(ts)
            ]
        kind = kind_of_step(step)
        positions = _positions(blocks, matched)
        out = []
        read = 0
        for i, series in enumerate(matched):
            pieces = []
            counter = kind > 0 and is_counter(series.labels)
            for block, pos in zip(blocks, positions, strict=True):
                at = int(pos[i])
                if at >= 0:
                    pieces.append(_clip(*block.chunk(at, kind, counter), mint, maxt))
            pieces.append(heads[i])
            ts, vals = merge_pieces(pieces)
            read += 16 * sum(len(p[0]) for p in pieces)
            if len(ts):
                out.append(SeriesData(series.labels, ts, vals))
        self.memory.note(read)
        return out

    @property
    def label_pairs(self) -> dict[tuple[str, str], tuple[str, str]]:
        """The head's (name, value) interning table, for parsers to share."""
        return self.head.label_pairs

    def labels_of(self, ref: int) -> Labels:
        """The stored (interned) labels of a series ref; a caller that keeps these rather
        than its own copy saves a label set per series. Raises UnknownSeriesRef."""
        series = self.head.series_by_id(ref)
        if series is None:
            raise UnknownSeriesRef(ref)
        return series.labels

    def series(self, matchers: Sequence[Matcher], mint: Millis, maxt: Millis) -> list[Labels]:
        """Label sets of the matching series with samples in [mint, maxt] (in a block
        overlapping the range counts: blocks answer at their granularity)."""
        blocks = self.blockset.overlapping(mint, maxt)
        if not blocks:
            return self.head.series(matchers, mint, maxt)
        matched = self.head.matching(matchers)
        held = np.zeros(len(matched), dtype=bool)
        for pos in _positions(blocks, matched):
            held |= pos >= 0
        flags = held.tolist()
        return [
            s.labels for s, h in zip(matched, flags, strict=True) if h or s.has_samples(mint, maxt)
        ]

    def label_names(self, matchers: Sequence[Matcher], mint: Millis, maxt: Millis) -> list[str]:
        return names_in(self.series(matchers, mint, maxt))

    def label_values(
        self, name: str, matchers: Sequence[Matcher], mint: Millis, maxt: Millis
    ) -> list[str]:
        return values_in(name, self.series(matchers, mint, maxt))
