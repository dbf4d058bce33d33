"""The store's query side: promql.model.SeriesSource over the head and its rollups."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tenantwatch.metrics.head import Head
from tenantwatch.metrics.rollup import RollupCache, choose_step
from tenantwatch.metrics.store_append import UnknownSeriesRef
from tenantwatch.promql.model import Matcher, PackedSeries, SeriesData
from tenantwatch.types import Labels, Millis


class StoreReader:
    """MetricStore's reads; they take no lock (see head.py). State from MetricStore.__init__."""

    head: Head
    rollups: RollupCache

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
        if choose_step(mint, maxt, max_step_ms) is None:
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
        if step is None:
            return self.head.select(matchers, mint, maxt)
        out = []
        for series in self.head.matching(matchers):
            ts, vals = self.rollups.window(series, step, mint, maxt)
            if len(ts):
                out.append(SeriesData(series.labels, ts, vals))
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
        return self.head.series(matchers, mint, maxt)

    def label_names(self, matchers: Sequence[Matcher], mint: Millis, maxt: Millis) -> list[str]:
        return self.head.label_names(matchers, mint, maxt)

    def label_values(
        self, name: str, matchers: Sequence[Matcher], mint: Millis, maxt: Millis
    ) -> list[str]:
        return self.head.label_values(name, matchers, mint, maxt)
