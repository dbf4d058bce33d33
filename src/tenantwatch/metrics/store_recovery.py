"""Opening a store directory: its LOCK, the newest readable checkpoint and the WAL after it."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path

import cramjam
import numpy as np

from tenantwatch.metrics import wal as walfile
from tenantwatch.metrics.blocks import BlockSet
from tenantwatch.metrics.head import Head
from tenantwatch.metrics.rollup import RollupCache
from tenantwatch.types import Labels

_REPLAY_BATCH = 1 << 22


class StoreInUse(walfile.StoreFileError):
    """Another process has the store directory open."""


@dataclass
class OpenReport:
    """What open() found: for logs and tests."""

    checkpoint: str | None = None
    series: int = 0
    samples_replayed: int = 0
    segments: int = 0
    blocks: int = 0
    problems: list[str] = field(default_factory=list)


class StoreRecovery:
    """MetricStore's recovery from its files (its state is set up by MetricStore.__init__)."""

    head: Head
    blockset: BlockSet
    rollups: RollupCache
    open_report: OpenReport
    _wal: walfile.Wal | None
    _lock_fd: int | None

    def _recover(self, directory: Path) -> None:
        self.head = Head()  # the files are the truth (this object may be reopened)
        self.rollups.forget()
        self.open_report = OpenReport()
        for tmp in directory.glob("checkpoint.*.tmp"):
            tmp.unlink()
            self.open_report.problems.append(f"removed unfinished checkpoint {tmp.name}")
        self.open_report.problems += self.blockset.open()
        self.open_report.blocks = len(self.blockset.current)
        covered = self._load_checkpoint(directory)
        last = self._replay(directory / "wal", covered)
        self._register_block_series()
        self._wal = walfile.Wal(directory / "wal")
        self._wal.start(max(last, covered) + 1)

    def _register_block_series(self) -> None:
        """Series that blocks hold and the head does not know (its checkpoint was lost)
        are registered from the blocks' label files."""
        blocks = self.blockset.current
        if not blocks:
            return
        top = max(int(b.refs[-1]) for b in blocks if len(b.refs)) + 1
        known = np.zeros(max(top, self.head.next_id), dtype=bool)
        known[[s.id for s in self.head.all_series()]] = True
        for block in reversed(blocks):
            missing = block.refs[~known[block.refs]].tolist()
            if not missing:
                continue
            wanted = set(missing)
            for ref, labels in block.labels():
                if ref in wanted and self.head.series_by_id(ref) is None:
                    if self.head.lookup(labels) is not None:
                        self.open_report.problems.append(
                            f"block {block.id}: series ref {ref} {labels!r} known by another ref"
                        )
                        continue
                    self.head.create(labels, ref)
                    known[ref] = True
        self.head.reserve_ids(top)

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
