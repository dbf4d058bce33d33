"""Turn one scrape's body into appends, remembering each series' store ref between scrapes.

Two caches make a repeated scrape cheap, as Prometheus' scrape cache does: the exposition
parser's SeriesCache maps a line's series text to its (shared) label tuple, so labels are
parsed once per series; this cache maps that tuple, by identity, to the stored labels
(target labels merged in) and the store ref, so labels are merged and looked up once.
Nothing is appended until the whole body has parsed, so a malformed body stores nothing.
Series of the previous scrape that are missing from this one get a stale marker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tenantwatch.metrics.exposition import SeriesCache, parse_lines_cached
from tenantwatch.metrics.exposition_scan import SPECIALS
from tenantwatch.metrics.scrape_labels import sample_labels
from tenantwatch.metrics.store_append import UnknownSeriesRef
from tenantwatch.promql.model import STALE_NAN
from tenantwatch.types import Labels


class Appender(Protocol):
    """The part of the metric store a scrape writes through."""

    def append(self, labels: Labels, t: int, v: float) -> int: ...

    def append_ref(self, ref: int, t: int, v: float) -> None: ...

    def append_refs(self, refs: Sequence[int], t: int, vals: Sequence[float]) -> None: ...

    def labels_of(self, ref: int) -> Labels: ...


@dataclass(eq=False, slots=True)
class _Entry:
    exposed: Labels
    labels: Labels
    ref: int | None = None
    gen: int = 0


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
    # keep the store's interned label set, not a second copy
    entry.labels = store.labels_of(entry.ref)


class ScrapeCache:
    """One target's series, and which of them its last scrape had."""

    def __init__(
        self,
        target: Labels,
        *,
        honor_labels: bool,
        honor_timestamps: bool,
        pairs: dict[tuple[str, str], tuple[str, str]] | None = None,
    ) -> None:
        """pairs: the store's label-pair interning table, so parsed label sets share it."""
        self.target = target
        self.honor_labels = honor_labels
        self.honor_timestamps = honor_timestamps
        self._series = SeriesCache(pairs)
        self._by_exposed: dict[int, _Entry] = {}
        self._by_labels: dict[Labels, _Entry] = {}
        self._previous: set[_Entry] = set()
        # steady state: the last scrape's series text -> entry, and its comment lines
        self._fast: dict[str, _Entry] = {}
        self._fast_meta = ""
        self._fast_om = False
        self._gen = 0

    def __len__(self) -> int:
        return len(self._by_labels)

    def ingest(self, store: Appender, body: str, t: int, *, openmetrics: bool) -> IngestResult:
        """Append a scrape's samples at time t (ms). Raise ExpositionError, appending
        nothing, when the body is malformed."""
        self._gen += 1
        done = self._ingest_known(store, body, t, openmetrics)
        if done is not None:
            return done
        result = self._ingest_parsed(store, body, t, openmetrics)
        self._remember(body, openmetrics)
        return result

    def _ingest_known(
        self, store: Appender, body: str, t: int, openmetrics: bool
    ) -> IngestResult | None:
        """The steady state in one pass: the same series as last time, the same comment
        lines, no timestamps. None (nothing appended) sends the scrape to the full parser,
        which also gives any error its line."""
        fast = self._fast
        if not fast or openmetrics != self._fast_om:
            return None
        lines = body.split("\n")
        if lines[-1] == "":
            lines.pop()
        if openmetrics and (not lines or lines[-1] != "# EOF"):
            return None
        get = fast.get
        gen = self._gen
        refs: list[int] = []
        vals: list[float] = []
        meta: list[str] = []
        for line in lines:
            key, _, vs = line.rpartition(" ")
            entry = get(key)
            if entry is None:
                if line[:1] == "#":
                    meta.append(line)
                    continue
                if not line and not openmetrics:
                    continue
                return None
            if entry.gen == gen:
                return None  # a repeated series: the full parser counts it
            try:
                value = float(vs)
            except ValueError:
                return None
            # float() also takes "1_0", "+nan", " 1" and non-ASCII digits; Go does not
            if not (
                (value - value == 0.0 and vs.isascii() and vs.isprintable() and "_" not in vs)
                or vs in SPECIALS
            ):
                return None
            entry.gen = gen
            refs.append(entry.ref)  # type: ignore[arg-type]
            vals.append(value)
        if len(refs) != len(fast) or "\n".join(meta) != self._fast_meta:
            return None
        try:
            store.append_refs(refs, t, vals)
        except UnknownSeriesRef:  # dropped by retention meanwhile: the full path re-adds
            self._fast = {}
            return None
        return IngestResult(len(refs), 0, 0, 0)

    def _remember(self, body: str, openmetrics: bool) -> None:
        """After a full parse: map each series text of this scrape to its entry."""
        texts = self._series.texts(openmetrics=openmetrics)
        by_exposed, previous = self._by_exposed, self._previous
        fast: dict[str, _Entry] = {}
        for text, exposed in texts.items():
            entry = by_exposed.get(id(exposed))
            if entry is not None and entry.exposed is exposed and entry in previous:
                fast[text] = entry
        self._fast = fast if len(fast) == len(previous) else {}
        self._fast_om = openmetrics
        self._fast_meta = "\n".join(line for line in body.split("\n") if line[:1] == "#")

    def _ingest_parsed(self, store: Appender, body: str, t: int, openmetrics: bool) -> IngestResult:
        parsed = parse_lines_cached(body, self._series, openmetrics=openmetrics)
        # the body parsed: from here on nothing can fail halfway for a reason of the body
        by_exposed, entry_of = self._by_exposed, self._entry
        honor_ts = self.honor_timestamps
        added = 0
        seen: list[_Entry] = []
        current: set[_Entry] = set()
        # the common case, known series at the scrape's time, goes to the store in one batch
        batch_refs: list[int] = []
        batch_vals: list[float] = []
        slow: list[tuple[_Entry, int, float]] = []
        for labels, value, ts in zip(parsed.labels, parsed.values, parsed.timestamps, strict=True):
            entry = by_exposed.get(id(labels))
            if entry is None or entry.exposed is not labels:
                entry = entry_of(labels)
            seen.append(entry)
            if ts is not None and honor_ts:
                slow.append((entry, ts, value))
                continue
            # series with their own timestamps are never marked stale (as in Prometheus)
            current.add(entry)
            ref = entry.ref
            if ref is None:
                slow.append((entry, t, value))
            else:
                batch_refs.append(ref)
                batch_vals.append(value)
        if batch_refs:
            try:
                store.append_refs(batch_refs, t, batch_vals)
            except UnknownSeriesRef:  # some were dropped by retention meanwhile
                by_ref = {e.ref: e for e in seen if e.ref is not None}
                slow[:0] = [(by_ref[r], t, v) for r, v in zip(batch_refs, batch_vals, strict=True)]
        for entry, at, value in slow:
            new = entry.ref is None
            _write(store, entry, at, value)
            if new:
                added += 1
                # re-key by the store's label tuple so the cache holds no copy of its own
                self._by_labels.pop(entry.labels, None)
                self._by_labels[entry.labels] = entry
        stale = self._mark_stale(store, self._previous - current, t)
        self._previous = current
        self._forget_unseen(seen)
        return IngestResult(len(seen), added, stale, parsed.duplicates)

    def fail(self, store: Appender, t: int) -> int:
        """A failed scrape: mark every series of the last scrape stale; return how many."""
        stale = self._mark_stale(store, self._previous, t)
        self._previous = set()
        self._fast = {}
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
