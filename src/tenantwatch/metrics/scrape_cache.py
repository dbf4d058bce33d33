"""Turn one scrape's body into appends, remembering each series' store ref between scrapes.

Two caches make a repeated scrape cheap, as Prometheus' scrape cache does: the exposition
parser's SeriesCache maps a line's series text to its (shared) label tuple, so labels are
parsed once per series; this cache maps that tuple, by identity, to the stored labels
(target labels merged in) and the store ref, so labels are merged and looked up once.
Nothing is appended until the whole body has parsed, so a malformed body stores nothing.
Series of the previous scrape that are missing from this one get a stale marker.

`metric_relabel_configs` run once per series, when it is first seen, after the target
labels are merged in (Prometheus' mutateSampleLabels); a series they drop is remembered as
dropped, so later scrapes skip it at the cost of a lookup. The label limits are checked at
the same moment and the sample limit on every scrape: over one, the scrape fails whole
(ScrapeLimitExceeded) before anything is appended. A `gate` may refuse new series (the
tenant's series cap): those are not stored, the rest of the scrape is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tenantwatch.metrics.exposition import SeriesCache, parse_lines_cached
from tenantwatch.metrics.exposition_scan import SPECIALS
from tenantwatch.metrics.limits import IngestLimits, Rejected, check_label_limits
from tenantwatch.metrics.relabel import RelabelRule, relabel
from tenantwatch.metrics.scrape_labels import sample_labels
from tenantwatch.metrics.scrape_targets import ScrapeLimits
from tenantwatch.metrics.store_append import UnknownSeriesRef
from tenantwatch.promql.model import METRIC_NAME, STALE_NAN, labels_of
from tenantwatch.types import Labels

SeriesGate = Callable[[Labels], str | None]
"""Asked before a new series is stored: why it may not be (None: it may)."""

SAMPLE_LIMIT_EXCEEDED = "sample limit exceeded"
MISSING_NAME = "missing metric name (__name__ label)"
_NO_LIMIT = 1 << 62


class Appender(Protocol):
    """The part of the metric store a scrape writes through."""

    def append(self, labels: Labels, t: int, v: float) -> int: ...

    def append_ref(self, ref: int, t: int, v: float) -> None: ...

    def append_refs(self, refs: Sequence[int], t: int, vals: Sequence[float]) -> None: ...

    def labels_of(self, ref: int) -> Labels: ...


@dataclass(eq=False, slots=True)
class _Entry:
    """A series as exposed and as stored; `dropped` by metric relabelling (never stored),
    or with a `problem` (a label limit it breaks) that fails any scrape that has it."""

    exposed: Labels
    labels: Labels
    ref: int | None = None
    gen: int = 0
    dropped: bool = False
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    """scraped: samples in the body; kept: those left after metric relabelling; added:
    new series stored; refused: new series the gate refused, with its last reason."""

    scraped: int
    added: int
    stale: int
    duplicates: int = 0
    kept: int | None = None
    refused: int = 0
    refusal: str | None = None

    @property
    def post_relabel(self) -> int:
        return self.scraped if self.kept is None else self.kept


class ScrapeLimitExceeded(Exception):
    """A scrape over a limit (Prometheus' message); nothing of it was appended. The counts
    are those Prometheus reports for it: samples read and kept until it stopped, and the
    new series within the sample limit (which it reports although it rolls them back)."""

    def __init__(self, message: str, *, scraped: int, kept: int, added: int = 0) -> None:
        super().__init__(message)
        self.scraped = scraped
        self.kept = kept
        self.added = added


def _label_limits(limits: ScrapeLimits) -> IngestLimits | None:
    if not limits.labels_limited:
        return None
    return IngestLimits(
        label_limit=limits.label_limit or _NO_LIMIT,
        label_name_length_limit=limits.label_name_length_limit or _NO_LIMIT,
        label_value_length_limit=limits.label_value_length_limit or _NO_LIMIT,
    )


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
        metric_relabel: Sequence[RelabelRule] = (),
        limits: ScrapeLimits = ScrapeLimits(),
        gate: SeriesGate | None = None,
    ) -> None:
        """pairs: the store's label-pair interning table, so parsed label sets share it."""
        self.target = target
        self.honor_labels = honor_labels
        self.honor_timestamps = honor_timestamps
        self.metric_relabel = tuple(metric_relabel)
        self.sample_limit = limits.sample_limit
        self._label_limits = _label_limits(limits)
        self.gate = gate
        self._dropped_seen = 0
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
        dropped = 0
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
            ref = entry.ref
            if ref is None:  # dropped by metric relabelling
                dropped += 1
                continue
            refs.append(ref)
            vals.append(value)
        if len(refs) + dropped != len(fast) or "\n".join(meta) != self._fast_meta:
            return None
        if self.sample_limit and len(refs) > self.sample_limit:
            return None  # the limit was lowered (a reload): the full path fails the scrape
        try:
            store.append_refs(refs, t, vals)
        except UnknownSeriesRef:  # dropped by retention meanwhile: the full path re-adds
            self._fast = {}
            return None
        return IngestResult(len(refs) + dropped, 0, 0, 0, kept=len(refs))

    def _remember(self, body: str, openmetrics: bool) -> None:
        """After a full parse: map each series text of this scrape to its entry."""
        texts = self._series.texts(openmetrics=openmetrics)
        by_exposed, previous = self._by_exposed, self._previous
        fast: dict[str, _Entry] = {}
        for text, exposed in texts.items():
            entry = by_exposed.get(id(exposed))
            if (
                entry is not None
                and entry.exposed is exposed
                and (entry in previous or (entry.dropped and entry.gen == self._gen))
            ):
                fast[text] = entry
        self._fast = fast if len(fast) == len(previous) + self._dropped_seen else {}
        self._fast_om = openmetrics
        self._fast_meta = "\n".join(line for line in body.split("\n") if line[:1] == "#")

    def _ingest_parsed(self, store: Appender, body: str, t: int, openmetrics: bool) -> IngestResult:
        parsed = parse_lines_cached(body, self._series, openmetrics=openmetrics)
        # the body parsed: from here on nothing can fail halfway for a reason of the body
        by_exposed, entry_of = self._by_exposed, self._entry
        honor_ts = self.honor_timestamps
        gen = self._gen
        added = dropped = 0
        dropped_entries: set[_Entry] = set()
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
            if entry.dropped:
                entry.gen = gen
                dropped += 1
                dropped_entries.add(entry)
                continue
            if entry.problem is not None:
                # Prometheus stops at the first such series: what it counted so far
                self._forget_unseen(seen)
                raise ScrapeLimitExceeded(
                    entry.problem, scraped=len(seen), kept=len(seen) - 1 - dropped
                )
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
        kept = len(seen) - dropped
        self._dropped_seen = len(dropped_entries)
        if self.sample_limit and kept > self.sample_limit:
            self._forget_unseen(seen)
            raise ScrapeLimitExceeded(
                SAMPLE_LIMIT_EXCEEDED,
                scraped=len(seen),
                kept=kept,
                added=self._new_within(seen, self.sample_limit),
            )
        refused = 0
        refusal: str | None = None
        gate = self.gate
        if batch_refs:
            try:
                store.append_refs(batch_refs, t, batch_vals)
            except UnknownSeriesRef:  # some were dropped by retention meanwhile
                by_ref = {e.ref: e for e in seen if e.ref is not None}
                slow[:0] = [(by_ref[r], t, v) for r, v in zip(batch_refs, batch_vals, strict=True)]
        for entry, at, value in slow:
            new = entry.ref is None
            if new and gate is not None and (refusal_now := gate(entry.labels)) is not None:
                refused += 1
                refusal = refusal_now
                current.discard(entry)
                continue
            _write(store, entry, at, value)
            if new:
                added += 1
                # re-key by the store's label tuple so the cache holds no copy of its own
                self._by_labels.pop(entry.labels, None)
                self._by_labels[entry.labels] = entry
        stale = self._mark_stale(store, self._previous - current, t)
        self._previous = current
        self._forget_unseen(seen)
        return IngestResult(
            len(seen), added, stale, parsed.duplicates, kept, refused=refused, refusal=refusal
        )

    @staticmethod
    def _new_within(seen: list[_Entry], limit: int) -> int:
        """New series among the first `limit` kept samples."""
        new: set[_Entry] = set()
        kept = 0
        for entry in seen:
            if entry.dropped:
                continue
            kept += 1
            if kept > limit:
                break
            if entry.ref is None:
                new.add(entry)
        return len(new)

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
        if self.metric_relabel:
            relabelled = relabel(dict(labels), self.metric_relabel)
            if relabelled is None:
                entry = _Entry(exposed, (), dropped=True)
                self._by_exposed[id(exposed)] = entry
                return entry
            labels = labels_of(relabelled)
        entry = self._by_labels.get(labels)
        if entry is None:
            entry = self._by_labels[labels] = _Entry(exposed, labels, problem=self._problem(labels))
        entry.exposed = exposed
        self._by_exposed[id(exposed)] = entry
        return entry

    def _problem(self, labels: Labels) -> str | None:
        """Why a series may not be stored (Prometheus fails the scrape that has it)."""
        if self.metric_relabel and not any(name == METRIC_NAME for name, _ in labels):
            return MISSING_NAME
        if self._label_limits is not None:
            try:
                check_label_limits(labels, self._label_limits)
            except Rejected as exc:
                return str(exc)
        return None

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
        if len(seen) == len(self._by_labels) + self._dropped_seen == len(self._by_exposed):
            return  # the same series as before (the common case): nothing to drop
        entries = set(seen)
        self._by_labels = {e.labels: e for e in entries if not e.dropped}
        self._by_exposed = {id(e.exposed): e for e in entries}
