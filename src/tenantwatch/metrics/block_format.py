"""An immutable on-disk block: every series' samples of one time window, compressed.

blocks/<id>/ holds
  chunks    pages, each a zstd frame of consecutive series' chunks (chunk_codec.py), for
            three kinds: raw samples and the 1 m and 1 h rollups (rollup.downsample);
            2 h blocks fresh from the head hold raw samples only (their rollups are
            computed when read, and stored once they are merged into larger blocks)
  index     magic, u32 JSON length, JSON {series, pages per kind}, then zstd of the arrays:
            refs (int64, ascending: the store's series refs), per kind each series' page
            and offset in its decoded page (int32), and per kind the pages' file offset
            (int64), length and CRC-32 (uint32)
  labels    zstd(JSON [[ref, labels], ...]): for `tsdb analyze` and to rebuild the series
            registry when the head's checkpoint is lost; queries never read it
  meta.json the window [mint, maxt), level, parents, counts and sizes; written last
A block is written under <id>.tmp/, fsynced, then renamed: a directory without meta.json
or with the .tmp suffix is half-written and is removed at open. Reads are buffered
(os.pread), so resident memory holds only the index arrays, not the samples.
"""

from __future__ import annotations

import itertools
import os
import shutil
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cramjam
import numpy as np

from tenantwatch import jsonio
from tenantwatch.metrics import chunk_codec
from tenantwatch.metrics.rollup import HOUR_MS, MINUTE_MS, downsample, is_counter
from tenantwatch.metrics.wal import fsync_dir
from tenantwatch.promql.model import FloatArray, IntArray
from tenantwatch.types import Labels

INDEX_MAGIC = b"TWBLK01\n"
KINDS: tuple[int, ...] = (0, MINUTE_MS, HOUR_MS)  # raw, then rollup steps
PAGE_BYTES = 1 << 16  # decoded bytes per page, about
ZSTD_LEVEL = 3
_LEN = struct.Struct("<I")


class BlockError(Exception):
    """A block that cannot be read: corrupt, truncated or of another format."""


@dataclass(frozen=True)
class BlockMeta:
    id: str
    mint: int  # the window, ms: mint <= t < maxt
    maxt: int
    level: int  # 0: cut from the head; n: merged n times
    parents: tuple[str, ...] = ()  # every block merged into this one, transitively
    series: int = 0
    samples: int = 0
    min_time: int = 0  # the samples' own bounds
    max_time: int = 0
    bytes: int = 0  # chunks + index
    rollup_samples: int = 0

    def to_json(self) -> str:
        return jsonio.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BlockMeta:
        raw = jsonio.loads(text)
        if not isinstance(raw, dict):
            raise BlockError("meta.json is not an object")
        raw["parents"] = tuple(raw.get("parents", ()))
        return cls(**raw)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _KindPages:
    page_of: list[int] = field(default_factory=list)
    offset_in: list[int] = field(default_factory=list)
    page_at: list[int] = field(default_factory=list)
    page_len: list[int] = field(default_factory=list)
    page_crc: list[int] = field(default_factory=list)
    pending: list[bytes] = field(default_factory=list)
    pending_bytes: int = 0


class BlockWriter:
    """Writes one block; add() series in any order of refs, then finish()."""

    def __init__(
        self,
        root: Path,
        block_id: str,
        mint: int,
        maxt: int,
        level: int,
        *,
        rollups: bool = True,
        parents: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.final = root / block_id
        self.tmp = root / f"{block_id}.tmp"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self.meta = BlockMeta(block_id, mint, maxt, level, parents)
        self._chunks = open(self.tmp / "chunks", "wb")  # noqa: SIM115 - closed in finish
        self._at = 0
        self._kinds = [_KindPages() for _ in (KINDS if rollups else KINDS[:1])]
        self._refs: list[int] = []
        self._labels: list[tuple[int, Labels]] = []
        self._samples = 0
        self._rollup_samples = 0
        self._min = 2**63 - 1
        self._max = -(2**63)

    def add(self, ref: int, labels: Labels, ts: IntArray, vals: FloatArray) -> None:
        """One series' samples in the window (ascending, unique timestamps)."""
        if not len(ts):
            return
        if self._refs and ref <= self._refs[-1]:
            raise ValueError(f"series refs must ascend ({ref} after {self._refs[-1]})")
        self._refs.append(ref)
        self._labels.append((ref, labels))
        self._samples += len(ts)
        self._min = min(self._min, int(ts[0]))
        self._max = max(self._max, int(ts[-1]))
        counter = is_counter(labels)
        for kind, step in zip(self._kinds, KINDS, strict=False):
            if step:
                r_ts, r_vals = downsample(ts, vals, step, counter=counter)
                self._rollup_samples += len(r_ts)
                chunk = chunk_codec.encode(r_ts, r_vals)
            else:
                chunk = chunk_codec.encode(ts, vals)
            kind.page_of.append(len(kind.page_at))
            kind.offset_in.append(kind.pending_bytes)
            kind.pending.append(chunk)
            kind.pending_bytes += len(chunk)
            if kind.pending_bytes >= PAGE_BYTES:
                self._seal(kind)

    def _seal(self, kind: _KindPages) -> None:
        if not kind.pending:
            return
        page = bytes(cramjam.zstd.compress(b"".join(kind.pending), ZSTD_LEVEL))
        self._chunks.write(page)
        kind.page_at.append(self._at)
        kind.page_len.append(len(page))
        kind.page_crc.append(zlib.crc32(page))
        self._at += len(page)
        kind.pending, kind.pending_bytes = [], 0

    def finish(self) -> BlockMeta | None:
        """Make the block durable and visible; None (and nothing on disk) when empty."""
        for kind in self._kinds:
            self._seal(kind)
        self._chunks.close()
        if not self._refs:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return None
        arrays = [np.array(self._refs, dtype=np.int64).tobytes()]
        header: dict[str, Any] = {"series": len(self._refs), "pages": []}
        for kind in self._kinds:
            header["pages"].append(len(kind.page_at))
            arrays += [
                np.array(kind.page_of, dtype=np.int32).tobytes(),
                np.array(kind.offset_in, dtype=np.int32).tobytes(),
                np.array(kind.page_at, dtype=np.int64).tobytes(),
                np.array(kind.page_len, dtype=np.uint32).tobytes(),
                np.array(kind.page_crc, dtype=np.uint32).tobytes(),
            ]
        head = jsonio.dumps(header, compact=True).encode()
        body = bytes(cramjam.zstd.compress(b"".join(arrays), ZSTD_LEVEL))
        index = INDEX_MAGIC + _LEN.pack(len(head)) + head + _LEN.pack(zlib.crc32(body)) + body
        (self.tmp / "index").write_bytes(index)
        labels = jsonio.dumps([[r, list(map(list, ls))] for r, ls in self._labels], compact=True)
        (self.tmp / "labels").write_bytes(bytes(cramjam.zstd.compress(labels.encode(), 3)))
        meta = BlockMeta(
            self.meta.id,
            self.meta.mint,
            self.meta.maxt,
            self.meta.level,
            self.meta.parents,
            series=len(self._refs),
            samples=self._samples,
            min_time=self._min,
            max_time=self._max,
            bytes=self._at + len(index),
            rollup_samples=self._rollup_samples,
        )
        (self.tmp / "meta.json").write_text(meta.to_json())
        for name in ("chunks", "index", "labels", "meta.json"):
            _fsync_file(self.tmp / name)
        fsync_dir(self.tmp)
        os.rename(self.tmp, self.final)
        fsync_dir(self.root)
        return meta

    def abort(self) -> None:
        self._chunks.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class PageCache:
    """The most recently decoded pages of every block, bounded by count."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[int, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int, int]) -> bytes | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[int, int, int], page: bytes) -> None:
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


PAGES = PageCache()
_serial = iter(range(1, 2**62))


@dataclass(frozen=True)
class _Kind:
    page_of: np.ndarray
    offset_in: np.ndarray
    page_at: np.ndarray
    page_len: np.ndarray
    page_crc: np.ndarray


class Block:
    """An open block: its meta, the index arrays in memory, the chunks read on demand.

    Immutable and safe from any thread. The chunks file stays open while the object
    lives, so a block removed by compaction still answers the queries that hold it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.meta = BlockMeta.from_json((path / "meta.json").read_text())
            raw = (path / "index").read_bytes()
        except (OSError, ValueError, TypeError) as exc:
            raise BlockError(f"{path.name}: {exc}") from exc
        if raw[: len(INDEX_MAGIC)] != INDEX_MAGIC:
            raise BlockError(f"{path.name}: index is not a tenantwatch block index")
        try:
            at = len(INDEX_MAGIC)
            (hlen,) = _LEN.unpack_from(raw, at)
            header = jsonio.loads(raw[at + 4 : at + 4 + hlen])
            at += 4 + hlen
            (crc,) = _LEN.unpack_from(raw, at)
            body = raw[at + 4 :]
            if zlib.crc32(body) != crc:
                raise BlockError(f"{path.name}: index checksum mismatch")
            arrays = bytes(cramjam.zstd.decompress(body))
            n = int(header["series"])
            pos = 0

            def take(dtype: type[np.generic], count: int) -> np.ndarray:
                nonlocal pos
                out = np.frombuffer(arrays, dtype=dtype, count=count, offset=pos)
                pos += out.nbytes
                return out

            self.refs = take(np.int64, n)
            kinds = []
            for pages in header["pages"]:
                kinds.append(
                    _Kind(
                        take(np.int32, n),
                        take(np.int32, n),
                        take(np.int64, pages),
                        take(np.uint32, pages),
                        take(np.uint32, pages),
                    )
                )
            self._kinds = tuple(kinds)
        except (ValueError, KeyError, TypeError, struct.error, cramjam.DecompressionError) as exc:
            raise BlockError(f"{path.name}: unreadable index: {exc}") from exc
        size = (path / "chunks").stat().st_size
        expected = self.meta.bytes - len(raw)
        if size != expected:
            raise BlockError(f"{path.name}: chunks hold {size} bytes, meta says {expected}")
        self._file = open(path / "chunks", "rb")  # noqa: SIM115 - lives with the block
        self._serial = next(_serial)

    @property
    def id(self) -> str:
        return self.meta.id

    def positions(self, refs: np.ndarray) -> np.ndarray:
        """For each ref, its position in this block, or -1 when the block lacks it."""
        at = np.searchsorted(self.refs, refs)
        at = np.minimum(at, len(self.refs) - 1)
        found = self.refs[at] == refs
        return np.where(found, at, -1)

    def _page(self, kind: int, page: int) -> bytes:
        key = (self._serial, kind, page)
        got = PAGES.get(key)
        if got is not None:
            return got
        table = self._kinds[kind]
        length = int(table.page_len[page])
        raw = os.pread(self._file.fileno(), length, int(table.page_at[page]))
        if len(raw) != length or zlib.crc32(raw) != int(table.page_crc[page]):
            raise BlockError(f"{self.path.name}: page {page} is corrupt")
        got = bytes(cramjam.zstd.decompress(raw))
        PAGES.put(key, got)
        return got

    def chunk(
        self, position: int, kind: int = 0, counter: bool = False
    ) -> tuple[IntArray, FloatArray]:
        """The samples (kind 0) or a rollup (kind 1: 1 m, 2: 1 h) of the series at position;
        `counter` says how to roll up a block that stores no rollups."""
        if kind >= len(self._kinds):
            ts, vals = self.chunk(position)
            return downsample(ts, vals, KINDS[kind], counter=counter)
        table = self._kinds[kind]
        page = self._page(kind, int(table.page_of[position]))
        offset = int(table.offset_in[position])
        return chunk_codec.decode(memoryview(page)[offset:])

    def labels(self) -> list[tuple[int, Labels]]:
        """Every series' ref and labels (reads the labels file)."""
        raw = bytes(cramjam.zstd.decompress((self.path / "labels").read_bytes()))
        return [
            (int(ref), tuple((str(k), str(v)) for k, v in pairs))
            for ref, pairs in jsonio.loads(raw)
        ]

    def index_bytes(self) -> int:
        return self.refs.nbytes + sum(
            sum(a.nbytes for a in (k.page_of, k.offset_in, k.page_at, k.page_len, k.page_crc))
            for k in self._kinds
        )


def kind_of_step(step: int | None) -> int:
    return 0 if not step else KINDS.index(step)


def merge_pieces(pieces: Sequence[tuple[IntArray, FloatArray]]) -> tuple[IntArray, FloatArray]:
    """One series from pieces in priority order: on equal timestamps the later piece wins."""
    pieces = [p for p in pieces if len(p[0])]
    if not pieces:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    if len(pieces) == 1:
        return pieces[0]
    ordered = all(int(a[0][-1]) < int(b[0][0]) for a, b in itertools.pairwise(pieces))
    ts = np.concatenate([p[0] for p in pieces])
    vals = np.concatenate([p[1] for p in pieces])
    if ordered:
        return ts, vals
    order = np.argsort(ts, kind="stable")
    ts, vals = ts[order], vals[order]
    keep = np.ones(len(ts), dtype=bool)
    keep[:-1] = ts[1:] != ts[:-1]
    return ts[keep], vals[keep]
