"""The durable embedded metric store: the head in memory, a write-ahead log and checkpoints.

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
import fcntl
import operator
import os
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cramjam
import numpy as np
import structlog

from tenantwatch.metrics import wal as walfile
from tenantwatch.metrics.admission import Admission
from tenantwatch.metrics.head import MAX_TIME, MIN_TIME, Head, MemSeries, check_labels
from tenantwatch.metrics.rollup import RollupCache, choose_step
from tenantwatch.promql.model import Matcher, PackedSeries, SeriesData
from tenantwatch.types import Labels, Millis, Sample

log = structlog.get_logger("tenantwatch.metrics.store")

DAY_MS = 86_400_000
DEFAULT_RETENTION_MS = 15 * DAY_MS
RETENTION_EVERY_S = 3600.0
STATS_EVERY_S = 60.0
# When the flusher falls this far behind, the appender flushes itself rather than grow.
_PENDING_LIMIT = 1 << 22
_BLOCK_SERIES = 4096
_BLOCK_SAMPLES = 1 << 21
_REPLAY_BATCH = 1 << 22
_RETENTION_BATCH = 2048


class UnknownSeriesRef(KeyError):
    """append_ref got a ref the store does not know (never issued, or its series was
    dropped by retention): append by labels instead to get a new ref."""


class StoreInUse(walfile.StoreFileError):
    """Another process has the store directory open."""


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


@dataclass
class OpenReport:
    """What open() found: for logs and tests."""

    checkpoint: str | None = None
    series: int = 0
    samples_replayed: int = 0
    segments: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class _Pending:
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

    def prepend(self, older: _Pending) -> None:
        self.series[:0] = older.series
        self.refs[:0] = older.refs
        self.ts[:0] = older.ts
        self.vals[:0] = older.vals


def _default_retention(_: Labels) -> int:
    return DEFAULT_RETENTION_MS


class MetricStore:
    """Samples per series in memory, durable on disk; implements promql.model.SeriesSource."""

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
        self.rollups = RollupCache()
        self.open_report = OpenReport()
        self.last_flush: float | None = None
        self.last_checkpoint: float | None = None
        self._durable = directory is not None
        self._ready = directory is None
        self._pending = _Pending()
        self._appended = 0
        self._lock = threading.Lock()
        self._wal_lock = threading.Lock()
        self._checkpoint_lock = threading.Lock()
        self._wal: walfile.Wal | None = None
        self._lock_fd: int | None = None
        self._stats: tuple[float, int, int] | None = None  # (monotonic, samples, bytes)

    # -- opening -------------------------------------------------------------------
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
        self.apply_retention(int(self.clock() * 1000))
        self.open_report.series = self.head.active
        for problem in self.open_report.problems:
            log.warning("metric store recovery", directory=str(directory), problem=problem)

    def _recover(self, directory: Path) -> None:
        self.head = Head()  # the files are the truth (this object may be reopened)
        self.rollups.forget()
        self.open_report = OpenReport()
        for tmp in directory.glob("checkpoint.*.tmp"):
            tmp.unlink()
            self.open_report.problems.append(f"removed unfinished checkpoint {tmp.name}")
        covered = self._load_checkpoint(directory)
        last = self._replay(directory / "wal", covered)
        self._wal = walfile.Wal(directory / "wal")
        self._wal.start(max(last, covered) + 1)

    def _release_dir_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _take_dir_lock(self, directory: Path) -> None:
        fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreInUse(
                f"{directory} is in use by another tenantwatch process (it holds LOCK);"
                " stop that process or give this one another metrics directory"
            ) from None
        self._lock_fd = fd

    def _load_checkpoint(self, directory: Path) -> int:
        """Load the newest readable checkpoint; return the last segment it covers (0: none)."""
        for number, path in reversed(walfile.list_checkpoints(directory)):
            try:
                meta, blocks = walfile.read_checkpoint(path)
                for block in blocks:
                    for snap in block:
                        self.head.restore(snap.labels, snap.ref, snap.ts, snap.vals)
                self.head.reserve_ids(int(meta.get("next_ref", 0)))
            except (walfile.StoreFileError, OSError, ValueError, KeyError) as exc:
                self.open_report.problems.append(f"set aside unreadable {path.name}: {exc}")
                path.rename(path.with_name(path.name + ".corrupt"))
                self.head = Head()
                continue
            self.open_report.checkpoint = path.name
            return number
        return 0

    def _replay(self, wal_dir: Path, covered: int) -> int:
        """Replay segments after `covered`; return the number of the last one (0: none)."""
        segments = [(n, p) for n, p in walfile.list_segments(wal_dir) if n > covered]
        remap: dict[int, int] = {}
        batch: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        pending = 0
        for i, (_, path) in enumerate(segments):
            read = walfile.read_segment(path)
            self.open_report.segments += 1
            for kind, payload in read.records:
                try:
                    if kind == walfile.SERIES:
                        self._apply_batch(batch, remap)
                        batch, pending = [], 0
                        for ref, labels in walfile.decode_series(payload):
                            self._replay_series(ref, labels, remap)
                    elif kind == walfile.SAMPLES:
                        batch.append(walfile.decode_samples(payload))
                        pending += len(batch[-1][0])
                        if pending >= _REPLAY_BATCH:
                            self._apply_batch(batch, remap)
                            batch, pending = [], 0
                except (ValueError, TypeError, cramjam.DecompressionError) as exc:
                    self.open_report.problems.append(f"{path.name}: unreadable record: {exc}")
            if read.problem is not None:
                self.open_report.problems.append(f"{path.name}: {read.problem}")
                if i == len(segments) - 1:
                    os.truncate(path, read.valid_bytes)
        self._apply_batch(batch, remap)
        return segments[-1][0] if segments else 0

    def _replay_series(self, ref: int, labels: Labels, remap: dict[int, int]) -> None:
        found = self.head.lookup(labels)
        if found is not None:
            if found.id != ref:
                remap[ref] = found.id
            self.head.reserve_ids(ref + 1)
            return
        if self.head.series_by_id(ref) is not None:
            remap[ref] = self.head.create(labels).id
            self.open_report.problems.append(f"series ref {ref} reused; {labels!r} renumbered")
            return
        self.head.create(labels, ref)

    def _apply_batch(
        self, batch: list[tuple[np.ndarray, np.ndarray, np.ndarray]], remap: dict[int, int]
    ) -> None:
        if not batch:
            return
        refs = np.concatenate([b[0] for b in batch])
        ts = np.concatenate([b[1] for b in batch])
        vals = np.concatenate([b[2] for b in batch])
        if remap:
            refs = np.array([remap.get(r, r) for r in refs.tolist()], dtype=np.int64)
        order = np.argsort(refs, kind="stable")
        refs, ts, vals = refs[order], ts[order], vals[order]
        starts = np.flatnonzero(np.diff(refs, prepend=-1))
        rising = np.ones(len(ts), dtype=bool)
        rising[1:] = ts[1:] > ts[:-1]
        rising[starts] = True
        group_rising = np.logical_and.reduceat(rising, starts).tolist()
        ts_bytes, vals_bytes = ts.data.cast("B"), vals.data.cast("B")
        ends = [*starts[1:].tolist(), len(refs)]
        firsts = ts[starts].tolist()
        unknown = 0
        for start, end, ref, first, ok in zip(
            starts.tolist(), ends, refs[starts].tolist(), firsts, group_rising, strict=True
        ):
            series = self.head.series_by_id(ref)
            if series is None:
                unknown += end - start
            elif ok and first > series.last_t:
                series.extend(ts_bytes[8 * start : 8 * end], vals_bytes[8 * start : 8 * end])
            else:
                series.merge(ts[start:end], vals[start:end])
        self.open_report.samples_replayed += len(refs) - unknown
        if unknown:
            self.open_report.problems.append(f"skipped {unknown} samples of unknown series")

    # -- appending -----------------------------------------------------------------
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
            taken, self._pending = self._pending, _Pending()
        try:
            self._wal.log(taken.records())
        except BaseException:
            with self._lock:
                self._pending.prepend(taken)
            # a half-written record must not hide later ones: continue in a new segment
            self._wal.cut()
            raise
        self.last_flush = self.clock()

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

    def apply_retention(self, now_ms: Millis) -> int:
        """Drop samples older than each series' retention and series left empty; return
        how many samples were dropped."""
        if not self._ready:
            raise self._not_ready()
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
        with self._lock:
            gone = self.head.drop_series(lambda s: s.n > 0)
        if gone:
            self.rollups.prune(lambda ref: self.head.series_by_id(ref) is not None)
        return dropped

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
        flush interval (and with it what a crash can lose)."""
        started = time.monotonic()
        next_checkpoint = started + self.checkpoint_interval_s
        next_retention = started + RETENTION_EVERY_S
        next_stats = started
        housekeeping: asyncio.Task[None] | None = None
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
            if now >= next_checkpoint:
                next_checkpoint = now + self.checkpoint_interval_s
                jobs.append(("checkpoint", self.checkpoint))
            if now >= next_stats:
                next_stats = now + STATS_EVERY_S
                jobs.append(("stats", self._measure))
            if jobs:
                housekeeping = asyncio.create_task(self._housekeep(jobs))
        if housekeeping is not None:
            await housekeeping

    async def _housekeep(self, jobs: list[tuple[str, Callable[[], object]]]) -> None:
        for what, job in jobs:
            await self._run_logged(what, job)

    async def _run_logged(self, what: str, job: Callable[[], object]) -> None:
        try:
            await asyncio.to_thread(job)
        except Exception as exc:  # keep going: the next attempt may succeed
            log.error(f"metric store {what} failed", directory=str(self.directory), error=repr(exc))

    # -- reading -------------------------------------------------------------------
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
        return StoreStats(
            active_series=self.head.active,
            samples=samples,
            bytes_per_sample=size / samples if samples else 0.0,
            memory_bytes=size,
            samples_appended=self._appended + self.head.samples_appended,
            wal_bytes=self._wal.total_bytes() if self._wal is not None else 0,
            last_flush=self.last_flush,
            last_checkpoint=self.last_checkpoint,
        )
