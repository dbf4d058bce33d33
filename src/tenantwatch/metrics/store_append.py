"""The store's write path: appends into the head, buffered for the WAL until `flush`."""

from __future__ import annotations

import asyncio
import operator
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tenantwatch.metrics import wal as walfile
from tenantwatch.metrics.admission import Admission
from tenantwatch.metrics.head import Head, MemSeries, check_labels
from tenantwatch.promql.model import FloatArray, IntArray
from tenantwatch.types import Labels, Sample

# When the flusher falls this far behind, the appender flushes itself rather than grow.
_PENDING_LIMIT = 1 << 22


class UnknownSeriesRef(KeyError):
    """append_ref got a ref the store does not know (never issued, or its series was
    dropped by retention): append by labels instead to get a new ref."""


@dataclass
class PendingRecords:
    """What was appended since the last flush, for the WAL: new series, then samples."""

    series: list[tuple[int, Labels]] = field(default_factory=list)
    refs: array[int] = field(default_factory=lambda: array("q"))
    ts: array[int] = field(default_factory=lambda: array("q"))
    vals: array[float] = field(default_factory=lambda: array("d"))

    def records(self) -> list[bytes]:
        out = []
        if self.series:
            out.append(walfile.encode_series(self.series))
        if self.refs:
            out.append(
                walfile.encode_samples(self.refs.tobytes(), self.ts.tobytes(), self.vals.tobytes())
            )
        return out

    def prepend(self, older: PendingRecords) -> None:
        self.series[:0] = older.series
        self.refs[:0] = older.refs
        self.ts[:0] = older.ts
        self.vals[:0] = older.vals


class StoreAppender:
    """MetricStore's appends and WAL flushes (its state is set up by MetricStore.__init__)."""

    directory: Path | None
    clock: Callable[[], float]
    head: Head
    last_flush: float | None
    _durable: bool
    _ready: bool
    _pending: PendingRecords
    _appended: int
    _lock: threading.Lock
    _wal_lock: threading.Lock
    _wal: walfile.Wal | None

    def _create(self, labels: Labels) -> MemSeries:
        series = self.head.create(labels)
        if self._durable:
            self._pending.series.append((series.id, series.labels))
        return series

    def _not_ready(self) -> RuntimeError:
        return RuntimeError(f"metric store {self.directory} is not open: call open() first")

    def append(self, labels: Labels, t: int, v: float) -> int:
        """Append one sample (buffered until the next flush); return the series ref."""
        if not self._ready:
            raise self._not_ready()
        full = False
        with self._lock:
            series = self.head.lookup(labels) or self._create(labels)
            series.append(t, v)
            self._appended += 1
            if self._durable:
                p = self._pending
                p.refs.append(series.id)
                p.ts.append(t)
                p.vals.append(v)
                full = len(p.refs) >= _PENDING_LIMIT
        if full:
            self.flush()
        return series.id

    def append_series(self, labels: Labels, ts: IntArray, vals: FloatArray) -> int:
        """Append many samples of one series at once (a backfill: any time range, any
        order; a later value wins on equal timestamps); return how many were new."""
        if not self._ready:
            raise self._not_ready()
        ts = np.ascontiguousarray(ts, dtype=np.int64)
        vals = np.ascontiguousarray(vals, dtype=np.float64)
        if len(ts) != len(vals):
            raise ValueError(f"{len(ts)} timestamps but {len(vals)} values")
        full = False
        with self._lock:
            series = self.head.lookup(labels) or self._create(labels)
            added = series.merge(ts, vals)
            self._appended += len(ts)
            if self._durable:
                p = self._pending
                p.refs.frombytes(np.full(len(ts), series.id, dtype=np.int64).tobytes())
                p.ts.frombytes(ts.tobytes())
                p.vals.frombytes(vals.tobytes())
                full = len(p.refs) >= _PENDING_LIMIT
        if full:
            self.flush()
        return added

    def append_ref(self, ref: int, t: int, v: float) -> None:
        """Append by a ref from append(); raises UnknownSeriesRef when it is not known."""
        if not self._ready:
            raise self._not_ready()
        full = False
        with self._lock:
            try:
                series = self.head.by_id[ref] if ref >= 0 else None
            except IndexError:
                series = None
            if series is None:
                raise UnknownSeriesRef(ref)
            series.append(t, v)
            self._appended += 1
            if self._durable:
                p = self._pending
                p.refs.append(ref)
                p.ts.append(t)
                p.vals.append(v)
                full = len(p.refs) >= _PENDING_LIMIT
        if full:
            self.flush()

    def append_refs(self, refs: Sequence[int], t: int, vals: Sequence[float]) -> None:
        """Append one scrape at once: vals[i] to the series refs[i], all at time t (about
        half the cost of append_ref per sample). All or nothing: an unknown ref raises
        UnknownSeriesRef and a bad value TypeError before anything is appended."""
        if not self._ready:
            raise self._not_ready()
        if len(refs) != len(vals):
            raise ValueError(f"{len(refs)} refs but {len(vals)} values")
        t = operator.index(t)
        values = array("d", vals)
        full = False
        with self._lock:
            by_id = self.head.by_id
            if refs and (min(refs) < 0 or max(refs) >= len(by_id)):
                raise UnknownSeriesRef(next(r for r in refs if r < 0 or r >= len(by_id)))
            targets = [by_id[r] for r in refs]
            if None in targets:
                raise UnknownSeriesRef(refs[targets.index(None)])
            for series, v in zip(targets, values, strict=True):
                # MemSeries.append inlined: this loop is the scrape hot path
                ts, vs = series._data  # type: ignore[union-attr]
                if ts and t <= ts[-1]:
                    series.append(t, v)  # type: ignore[union-attr]
                else:
                    vs.append(v)
                    ts.append(t)
            self._appended += len(refs)
            if self._durable:
                p = self._pending
                p.refs.extend(refs)
                p.ts.extend(array("q", (t,)) * len(refs))
                p.vals.extend(values)
                full = len(p.refs) >= _PENDING_LIMIT
        if full:
            self.flush()

    def append_many(
        self,
        samples: Iterable[Sample],
        *,
        durable: bool = False,
        admit: Admission | None = None,
    ) -> int:
        """Append a batch, all or nothing: a bad sample raises ValueError naming it, and
        one that `admit` refuses raises limits.Rejected; then nothing is stored. With
        durable=True, return only once the batch is fsynced."""
        if not self._ready:
            raise self._not_ready()
        rows = samples if isinstance(samples, list) else list(samples)
        with self._lock:
            found = self._resolve(rows)
            if admit is not None:
                admit.check(self.head, rows, found)
            lookup, create = self.head.lookup, self._create
            p = self._pending
            durable_dir = self._durable
            for (labels, t, v), series in zip(rows, found, strict=True):
                if series is None:
                    series = lookup(labels) or create(labels)
                series.append(t, v)
                if durable_dir:
                    p.refs.append(series.id)
                    p.ts.append(t)
                    p.vals.append(v)
            self._appended += len(rows)
            full = len(p.refs) >= _PENDING_LIMIT
        if durable_dir and (durable or full):
            self.flush()
        return len(rows)

    async def append_many_durable(
        self, samples: Iterable[Sample], *, admit: Admission | None = None
    ) -> int:
        """append_many(durable=True) without blocking the event loop during the fsync."""
        rows = list(samples)
        return await asyncio.to_thread(self.append_many, rows, durable=True, admit=admit)

    def _resolve(self, rows: Sequence[Sample]) -> list[MemSeries | None]:
        """Each row's series (None: to be created); ValueError naming the first bad row."""
        lookup = self.head.lookup
        out = []
        for i, row in enumerate(rows):
            try:
                labels, t, v = row
                series = lookup(labels)
                if series is None:
                    check_labels(labels)
                if type(t) is not int and not hasattr(t, "__index__"):
                    raise ValueError(f"timestamp {t!r} is not an integer (milliseconds)")
                if type(v) is not float:
                    float(v)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"sample {i}: {exc}") from None
            out.append(series)
        return out

    # -- durability ----------------------------------------------------------------
    def flush(self) -> None:
        """Write the buffered records to the WAL and fsync them."""
        if not self._durable:
            return
        with self._wal_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._wal is None:
            raise self._not_ready()
        with self._lock:
            taken, self._pending = self._pending, PendingRecords()
        try:
            self._wal.log(taken.records())
        except BaseException:
            with self._lock:
                self._pending.prepend(taken)
            # a half-written record must not hide later ones: continue in a new segment
            self._wal.cut()
            raise
        self.last_flush = self.clock()
