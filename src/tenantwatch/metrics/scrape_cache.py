"""Turn one scrape's body into appends, remembering each series' store ref between scrapes.

Two caches make a repeated scrape cheap, as Prometheus' scrape cache does: the exposition
parser's SeriesCache maps a line's series text to its (shared) label tuple, so labels are
parsed once per series; this cache maps that tuple, by identity, to the stored labels
(target labels merged in) and the store ref, so labels are merged and looked up once.
Nothing is appended until the whole body has parsed, so a malformed body stores nothing.
Series of the previous scrape that are missing from this one get a stale marker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from tenantwatch.metrics.exposition import SeriesCache, parse_lines_cached
from tenantwatch.metrics.scrape_labels import sample_labels
from tenantwatch.metrics.store import UnknownSeriesRef
from tenantwatch.promql.model import STALE_NAN, Labels


class Appender(Protocol):
    """The part of the metric store a scrape writes through."""

    def append(self, labels: Labels, t: int, v: float) -> int: ...

    def append_ref(self, ref: int, t: int, v: float) -> None: ...


@dataclass(eq=False, slots=True)
class _Entry:
    exposed: Labels
    labels: Labels
    ref: int | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    scraped: int
    added: int
    stale: int
    duplicates: int = 0


def _write(store: Appender, entry: _Entry, t: int, v: float) -> None:
    if entry.ref is not None:
        try:
            store.append_ref(entry.ref, t, v)
            return
        except UnknownSeriesRef:  # dropped by retention meanwhile: append by labels
            pass
    entry.ref = store.append(entry.labels, t, v)


class ScrapeCache:
    """One target's series, and which of them its last scrape had."""

    def __init__(self, target: Labels, *, honor_labels: bool, honor_timestamps: bool) -> None:
        self.target = target
        self.honor_labels = honor_labels
        self.honor_timestamps = honor_timestamps
        self._series = SeriesCache()
        self._by_exposed: dict[int, _Entry] = {}
        self._by_labels: dict[Labels, _Entry] = {}
        self._previous: set[_Entry] = set()

    def __len__(self) -> int:
        return len(self._by_labels)

    def ingest(self, store: Appender, body: str, t: int, *, openmetrics: bool) -> IngestResult:
        """Append a scrape's samples at time t (ms). Raise ExpositionError, appending
        nothing, when the body is malformed."""
        parsed = parse_lines_cached(body, self._series, openmetrics=openmetrics)
        # the body parsed: from here on nothing can fail halfway for a reason of the body
        by_exposed, entry_of = self._by_exposed, self._entry
        append_ref = store.append_ref
        honor_ts = self.honor_timestamps
        added = 0
        seen: list[_Entry] = []
        current: set[_Entry] = set()
        for labels, value, ts in zip(parsed.labels, parsed.values, parsed.timestamps, strict=True):
            entry = by_exposed.get(id(labels))
            if entry is None or entry.exposed is not labels:
                entry = entry_of(labels)
            seen.append(entry)
            if ts is not None and honor_ts:
                at = ts
            else:
                # series with their own timestamps are never marked stale (as in Prometheus)
                at = t
                current.add(entry)
            ref = entry.ref
            if ref is not None:
                try:
                    append_ref(ref, at, value)
                    continue
                except UnknownSeriesRef:  # dropped by retention meanwhile: append by labels
                    pass
            added += ref is None
            entry.ref = store.append(entry.labels, at, value)
        stale = self._mark_stale(store, self._previous - current, t)
        self._previous = current
        self._forget_unseen(seen)
        return IngestResult(len(seen), added, stale, parsed.duplicates)

    def fail(self, store: Appender, t: int) -> int:
        """A failed scrape: mark every series of the last scrape stale; return how many."""
        stale = self._mark_stale(store, self._previous, t)
        self._previous = set()
        return stale

    def _entry(self, exposed: Labels) -> _Entry:
        entry = self._by_exposed.get(id(exposed))
        if entry is not None and entry.exposed is exposed:
            return entry
        labels = sample_labels(exposed, self.target, honor_labels=self.honor_labels)
        entry = self._by_labels.get(labels)
        if entry is None:
            entry = self._by_labels[labels] = _Entry(exposed, labels)
        entry.exposed = exposed
        self._by_exposed[id(exposed)] = entry
        return entry

    @staticmethod
    def _mark_stale(store: Appender, entries: Iterable[_Entry], t: int) -> int:
        stale = 0
        for entry in entries:
            if entry.ref is not None:
                _write(store, entry, t, STALE_NAN)
                stale += 1
        return stale

    def _forget_unseen(self, seen: list[_Entry]) -> None:
        """Keep one scrape's worth of series: drop those the last scrape did not have."""
        if len(seen) == len(self._by_labels) == len(self._by_exposed):
            return  # the same series as before (the common case): nothing to drop
        entries = set(seen)
        self._by_labels = {e.labels: e for e in entries}
        self._by_exposed = {id(e.exposed): e for e in entries}
