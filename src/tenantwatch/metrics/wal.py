"""The metric store's files: write-ahead log segments, checkpoints, and their record format.

A store directory holds:
  LOCK                       locked (flock) by the process that has the store open
  wal/00000001, ...          segments: an 8-byte magic, then records
  checkpoint.00000007        every series as of the end of segment 7; segments <= 7 are gone
  checkpoint.00000007.tmp    a checkpoint being written; ignored and removed at open

Every record is framed as u32 payload length | u32 CRC-32 of (type byte + payload) |
u8 type | payload, so a torn or zero-filled tail is detected and ends the segment.
  SERIES  (1): zstd(JSON [[ref, [[name, value], ...]], ...])
  SAMPLES (2): u32 count | zstd(refs as deltas, int64 | timestamps as deltas, int64 |
               values, float64)
  META    (3): JSON object (a checkpoint's first record)
  BLOCK   (4): up to a few thousand series of a checkpoint (see encode_block)
  END     (5): JSON object (a checkpoint's last record; a checkpoint without it is torn)
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import cramjam
import numpy as np

from tenantwatch import jsonio
from tenantwatch.promql.model import FloatArray, IntArray
from tenantwatch.types import Labels

SERIES, SAMPLES, META, BLOCK, END = 1, 2, 3, 4, 5
SEGMENT_MAGIC = b"TWWAL01\n"
CHECKPOINT_MAGIC = b"TWCKP01\n"
_HEADER = struct.Struct("<IIB")
_MAX_RECORD = 1 << 30
_ZSTD_LEVEL = 1
# A record keeps strings as UTF-8; lone surrogates (never produced by our parsers, but
# possible from Python callers) survive a round trip instead of failing a flush.
_UTF8_ERRORS = "surrogatepass"


class StoreFileError(Exception):
    """A store file that cannot be read or written, with the path and the reason."""


# -- records -------------------------------------------------------------------------
def frame(kind: int, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(bytes((kind,))))
    return _HEADER.pack(len(payload), crc, kind) + payload


def _unframe(buf: memoryview, offset: int) -> tuple[int, memoryview, int] | None:
    """The record at offset as (type, payload, next offset); None when torn or corrupt."""
    end = offset + _HEADER.size
    if end > len(buf):
        return None
    length, crc, kind = _HEADER.unpack_from(buf, offset)
    if length > _MAX_RECORD or end + length > len(buf):
        return None
    payload = buf[end : end + length]
    if zlib.crc32(payload, zlib.crc32(bytes((kind,)))) != crc:
        return None
    return kind, payload, end + length


def encode_series(series: Sequence[tuple[int, Labels]]) -> bytes:
    text = jsonio.dumps([[ref, labels] for ref, labels in series], compact=True)
    return frame(SERIES, bytes(cramjam.zstd.compress(text.encode(), _ZSTD_LEVEL)))


def decode_series(payload: memoryview) -> list[tuple[int, Labels]]:
    rows = jsonio.loads(bytes(cramjam.zstd.decompress(bytes(payload))))
    return [(int(ref), tuple((str(k), str(v)) for k, v in labels)) for ref, labels in rows]


def encode_samples(refs: bytes, ts: bytes, vals: bytes) -> bytes:
    """A SAMPLES record from the raw bytes of int64 refs, int64 timestamps, float64 values."""
    r = np.frombuffer(refs, dtype=np.int64)
    t = np.frombuffer(ts, dtype=np.int64)
    body = np.diff(r, prepend=0).tobytes() + np.diff(t, prepend=0).tobytes() + vals
    packed = bytes(cramjam.zstd.compress(body, _ZSTD_LEVEL))
    return frame(SAMPLES, struct.pack("<I", len(r)) + packed)


def decode_samples(payload: memoryview) -> tuple[IntArray, IntArray, FloatArray]:
    (n,) = struct.unpack_from("<I", payload)
    body = bytes(cramjam.zstd.decompress(bytes(payload[4:])))
    if len(body) != 24 * n:
        raise ValueError(f"samples record holds {len(body)} bytes for {n} samples")
    refs = np.cumsum(np.frombuffer(body, dtype=np.int64, count=n))
    ts = np.cumsum(np.frombuffer(body, dtype=np.int64, count=n, offset=8 * n))
    vals = np.frombuffer(body, dtype=np.float64, count=n, offset=16 * n)
    return refs, ts, vals


# -- checkpoint blocks ---------------------------------------------------------------
_BLOCK_HEAD = struct.Struct("<IIQQ")  # series, strings, labels, samples


@dataclass(frozen=True, slots=True)
class SeriesSnapshot:
    ref: int
    labels: Labels
    ts: IntArray
    vals: FloatArray


def encode_block(series: Sequence[SeriesSnapshot]) -> bytes:
    """A BLOCK record: a string table, per-series refs, label ids and counts, then all
    timestamps (delta-coded) and values, zstd-compressed."""
    strings: dict[str, int] = {}
    label_ids: list[int] = []
    nlabels: list[int] = []
    for s in series:
        nlabels.append(len(s.labels))
        for k, v in s.labels:
            label_ids.append(strings.setdefault(k, len(strings)))
            label_ids.append(strings.setdefault(v, len(strings)))
    encoded = [s.encode("utf-8", _UTF8_ERRORS) for s in strings]
    ts = np.concatenate([s.ts for s in series]) if series else np.empty(0, np.int64)
    vals = np.concatenate([s.vals for s in series]) if series else np.empty(0, np.float64)
    body = b"".join(
        [
            np.array([len(e) for e in encoded], dtype=np.uint32).tobytes(),
            b"".join(encoded),
            np.array([s.ref for s in series], dtype=np.int64).tobytes(),
            np.array(nlabels, dtype=np.uint32).tobytes(),
            np.array(label_ids, dtype=np.uint32).tobytes(),
            np.array([len(s.ts) for s in series], dtype=np.int64).tobytes(),
            np.diff(ts.astype(np.int64), prepend=0).tobytes(),
            vals.astype(np.float64).tobytes(),
        ]
    )
    head = _BLOCK_HEAD.pack(len(series), len(encoded), len(label_ids), len(ts))
    return frame(BLOCK, head + bytes(cramjam.zstd.compress(body, _ZSTD_LEVEL)))


class _Reader:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.at = 0

    def take(self, dtype: type[np.generic], count: int) -> np.ndarray:
        out = np.frombuffer(self.body, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out

    def raw(self, size: int) -> bytes:
        out = self.body[self.at : self.at + size]
        self.at += size
        return out


def decode_block(payload: memoryview) -> list[SeriesSnapshot]:
    nseries, nstrings, nids, nsamples = _BLOCK_HEAD.unpack_from(payload)
    r = _Reader(bytes(cramjam.zstd.decompress(bytes(payload[_BLOCK_HEAD.size :]))))
    lengths = r.take(np.uint32, nstrings).tolist()
    strings = [r.raw(n).decode("utf-8", _UTF8_ERRORS) for n in lengths]
    refs = r.take(np.int64, nseries).tolist()
    nlabels = r.take(np.uint32, nseries).tolist()
    ids = r.take(np.uint32, nids).tolist()
    counts = r.take(np.int64, nseries)
    ts = np.cumsum(r.take(np.int64, nsamples))
    vals = r.take(np.float64, nsamples)
    if r.at != len(r.body):
        raise ValueError("block size does not match its header")
    ends = np.cumsum(counts).tolist()
    out = []
    at = 0
    start = 0
    for ref, nl, end in zip(refs, nlabels, ends, strict=True):
        pairs = ids[at : at + 2 * nl]
        labels = tuple((strings[pairs[i]], strings[pairs[i + 1]]) for i in range(0, 2 * nl, 2))
        out.append(SeriesSnapshot(ref, labels, ts[start:end], vals[start:end]))
        at += 2 * nl
        start = end
    return out


# -- segments -----------------------------------------------------------------------
def segment_path(wal_dir: Path, number: int) -> Path:
    return wal_dir / f"{number:08d}"


def list_segments(wal_dir: Path) -> list[tuple[int, Path]]:
    """Segment files in order, by number."""
    if not wal_dir.is_dir():
        return []
    found = [(int(p.name), p) for p in wal_dir.iterdir() if p.name.isdigit()]
    return sorted(found)


@dataclass(frozen=True, slots=True)
class SegmentRead:
    records: list[tuple[int, memoryview]]
    valid_bytes: int
    problem: str | None  # why reading stopped early (torn or corrupt tail), None when clean


def read_segment(path: Path) -> SegmentRead:
    data = memoryview(path.read_bytes())
    if len(data) < len(SEGMENT_MAGIC):
        return SegmentRead([], 0, "shorter than its header" if len(data) else None)
    if bytes(data[: len(SEGMENT_MAGIC)]) != SEGMENT_MAGIC:
        return SegmentRead([], 0, "not a tenantwatch WAL segment (bad magic)")
    offset = len(SEGMENT_MAGIC)
    records: list[tuple[int, memoryview]] = []
    while offset < len(data):
        got = _unframe(data, offset)
        if got is None:
            return SegmentRead(records, offset, f"torn or corrupt record at byte {offset}")
        kind, payload, offset = got
        records.append((kind, payload))
    return SegmentRead(records, offset, None)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Wal:
    """Appends framed records to numbered segments; not thread-safe (the store locks)."""

    def __init__(self, wal_dir: Path, *, segment_bytes: int = 64 << 20) -> None:
        self.dir = wal_dir
        self.segment_bytes = segment_bytes
        self._fd: int | None = None
        self._number = 0
        self._size = 0
        self._sizes: dict[int, int] = {}

    @property
    def current(self) -> int:
        return self._number

    def total_bytes(self) -> int:
        return sum(self._sizes.values())

    def start(self, number: int) -> None:
        """Begin writing segment `number` (a new, empty file) and make it durable."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for n, p in list_segments(self.dir):
            self._sizes.setdefault(n, p.stat().st_size)
        self._close_fd()
        path = segment_path(self.dir, number)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        try:
            _write_all(fd, SEGMENT_MAGIC)
            os.fsync(fd)
            fsync_dir(self.dir)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._number, self._size = fd, number, len(SEGMENT_MAGIC)
        self._sizes[number] = self._size

    def log(self, records: Sequence[bytes], *, sync: bool = True) -> None:
        """Write records to the current segment (rotating first when it is full)."""
        if not records:
            return
        if self._fd is None:
            raise StoreFileError(f"{self.dir}: the WAL is not open")
        if self._size >= self.segment_bytes:
            self.start(self._number + 1)
            assert self._fd is not None
        data = b"".join(records)
        _write_all(self._fd, data)
        self._size += len(data)
        self._sizes[self._number] = self._size
        if sync:
            os.fdatasync(self._fd)

    def cut(self) -> int:
        """Start the next segment; return the number of the one just finished."""
        done = self._number
        self.start(done + 1)
        return done

    def remove_upto(self, number: int) -> None:
        """Delete segments numbered <= number (a checkpoint covers them)."""
        for n, path in list_segments(self.dir):
            if n <= number and n != self._number:
                path.unlink(missing_ok=True)
                self._sizes.pop(n, None)
        fsync_dir(self.dir)

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
        self._close_fd()


# -- checkpoint files ----------------------------------------------------------------
def checkpoint_name(segment: int) -> str:
    return f"checkpoint.{segment:08d}"


def list_checkpoints(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for p in directory.glob("checkpoint.*"):
        suffix = p.name.removeprefix("checkpoint.")
        if suffix.isdigit():
            found.append((int(suffix), p))
    return sorted(found)


def write_checkpoint(
    directory: Path, segment: int, meta: dict[str, Any], blocks: Iterator[bytes]
) -> Path:
    """Write checkpoint.<segment> atomically: a temp file, fsync, rename, fsync the dir."""
    final = directory / checkpoint_name(segment)
    tmp = final.with_name(final.name + ".tmp")
    totals = {"blocks": 0}
    try:
        with open(tmp, "wb") as f:
            f.write(CHECKPOINT_MAGIC)
            f.write(frame(META, jsonio.dumps({**meta, "segment": segment}).encode()))
            for block in blocks:
                f.write(block)
                totals["blocks"] += 1
            f.write(frame(END, jsonio.dumps(totals).encode()))
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)  # e.g. a full disk: give the space back
        raise
    os.replace(tmp, final)
    fsync_dir(directory)
    return final


def _read_record(f: BinaryIO, path: Path) -> tuple[int, memoryview]:
    head = f.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise StoreFileError(f"{path}: ends before its END record (torn checkpoint)")
    length, _, _ = _HEADER.unpack(head)
    if length > _MAX_RECORD:
        raise StoreFileError(f"{path}: record length {length} is corrupt")
    data = memoryview(head + f.read(length))
    got = _unframe(data, 0)
    if got is None:
        raise StoreFileError(f"{path}: checksum mismatch at byte {f.tell() - len(data)}")
    kind, payload, _ = got
    return kind, payload


def read_checkpoint(path: Path) -> tuple[dict[str, Any], Iterator[list[SeriesSnapshot]]]:
    """The checkpoint's metadata and an iterator over its blocks of series.

    Raises StoreFileError (possibly while iterating) when the file is corrupt or torn.
    """
    f = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    try:
        if f.read(len(CHECKPOINT_MAGIC)) != CHECKPOINT_MAGIC:
            raise StoreFileError(f"{path}: not a tenantwatch checkpoint (bad magic)")
        kind, payload = _read_record(f, path)
        if kind != META:
            raise StoreFileError(f"{path}: first record is not META")
        meta: dict[str, Any] = jsonio.loads(bytes(payload))
    except BaseException:
        f.close()
        raise

    def blocks() -> Iterator[list[SeriesSnapshot]]:
        with f:
            while True:
                kind, payload = _read_record(f, path)
                if kind == END:
                    return
                if kind != BLOCK:
                    raise StoreFileError(f"{path}: unexpected record type {kind}")
                try:
                    yield decode_block(payload)
                except (ValueError, cramjam.DecompressionError) as exc:
                    raise StoreFileError(f"{path}: unreadable block: {exc}") from exc

    return meta, blocks()
