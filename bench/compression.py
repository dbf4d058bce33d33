"""Block compression benchmark: candidate chunk encodings on real scrape data, beside Prometheus.

Three datasets, each series sampled every 15 s with the timestamps a scraper writes (one
scrape time per target for all its series: 15 s apart plus a few ms of jitter):

- demo: the demo app (examples/demo/saas_app) driven in process by a simulated clock, its
  totals read at every 15 s scrape, so the values come from the app's own processes (load,
  faults, diurnal curve). While a `down` fault makes /metrics answer 503, every series
  gets Prometheus' stale marker at that scrape.
- ingest: bench.ingest's target bodies (counters and gauges) for one target.
- om: bench/openmetrics_gen.py's families (histograms, counters, gauges).

Each dataset spans one day (the demo two hours with --quick). Series are cut into chunks
of 2 hours (480 samples) and of 1 day (5,760), and every candidate encodes every chunk,
either one chunk per zstd frame or pages of 16 or 64 series (one time range) sharing one
frame. Sizes count the encoded bytes of samples only (no labels); Prometheus' reference is
`promtool tsdb create-blocks-from openmetrics` on the same samples (blocks of 2 h, and one
block of 1 day), counted as chunks + index. Every candidate is checked to be lossless
(bit for bit, NaN payloads included).

    .venv/bin/python -m bench.compression [--series-scale 1] [--runs 3]
    .venv/bin/python -m bench.compression --quick
"""

from __future__ import annotations

import argparse
import io
import struct
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cramjam
import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from bench import ingest
from bench import openmetrics_gen as omg
from bench.common import BenchError, create_blocks, median, require_prometheus

STEP_MS = 15_000
DAY_MS = 86_400_000
CHUNK_2H = 480
CHUNK_1D = 5_760
STALE_NAN_BITS = 0x7FF0000000000002  # Prometheus' staleness marker
START_MS = 1_700_006_400_000  # a whole day (UTC): 2023-11-15T00:00:00Z

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Labels = tuple[tuple[str, str], ...]


# -- datasets -------------------------------------------------------------------------
@dataclass
class Dataset:
    """k series of n samples each: labels[i] (with __name__), ts[i], vals[i]."""

    name: str
    labels: list[Labels]
    ts: Ints
    vals: Floats

    @property
    def samples(self) -> int:
        return int(self.ts.size)


def scrape_times(rng: np.random.Generator, steps: int, start_ms: int) -> Ints:
    """One target's scrape timestamps: a fixed offset in the interval, then every 15 s
    plus |N(0, 3 ms)| of jitter (a scrape starts a little late, never early)."""
    offset = int(rng.integers(100, 14_000))
    jitter = np.rint(np.abs(rng.normal(0.0, 3.0, steps))).astype(np.int64)
    return start_ms + offset + np.arange(steps, dtype=np.int64) * STEP_MS + jitter


def _key(name: str, labels: dict[str, str]) -> Labels:
    return (("__name__", name), *sorted(labels.items()))


def demo_dataset(hours: float, seed: int = 1, start_ms: int = START_MS) -> Dataset:
    """The demo app's series over `hours`, simulated second by second with a fake clock and
    read at every scrape (as its /metrics would render them)."""
    from examples.demo.saas_app.app import Simulator
    from examples.demo.saas_app.tenants import load_config

    repo = Path(__file__).resolve().parents[1]
    tenants = load_config(repo / "examples" / "demo" / "tenantwatch.yml")
    steps = int(hours * 3600_000) // STEP_MS
    rng = np.random.default_rng(seed)
    ts = scrape_times(rng, steps, start_ms)
    now = [ts[0] / 1000.0 - 1.0]
    sim = Simulator(tenants, seed, clock=lambda: now[0])
    index: dict[Labels, int] = {}
    rows: list[Floats] = []
    stale = np.array([STALE_NAN_BITS], dtype=np.uint64).view(np.float64)[0]
    for step in range(steps):
        now[0] = ts[step] / 1000.0
        sim.advance()
        down = sim.app_down() is not None
        for metric in sim.registry.collect():
            for s in metric.samples:
                key = _key(s.name, dict(s.labels))
                at = index.get(key)
                if at is None:
                    if step:
                        raise BenchError(f"demo series {key} appeared after the first scrape")
                    at = index[key] = len(rows)
                    rows.append(np.empty(steps, dtype=np.float64))
                rows[at][step] = stale if down else s.value
    vals = np.vstack(rows)
    return Dataset("demo", list(index), np.broadcast_to(ts, vals.shape).copy(), vals)


def ingest_dataset(
    hours: float, targets: int = 1, tenants: int = 5, seed: int = 2, start_ms: int = START_MS
) -> Dataset:
    """bench.ingest's targets: the same values TargetBody.render writes, per scrape."""
    steps = int(hours * 3600_000) // STEP_MS
    rng = np.random.default_rng(seed)
    labels: list[Labels] = []
    ts_rows, val_rows = [], []
    epochs = np.arange(steps, dtype=np.float64)[None, :]
    for t in range(targets):
        body = ingest.TargetBody(t, tenants)
        for line in body.lines:
            name, _, rest = line.prefix.strip().partition("{")
            pairs = [p.split("=", 1) for p in rest.rstrip("}").split('",') if p]
            labels.append(
                _key(name, {k: v.strip('"') for k, v in pairs})
                + ((("instance", f"target-{t}"),) if targets > 1 else ())
            )
        counter = body.counter[:, None]
        vals = np.where(
            counter,
            np.floor(body.base[:, None] + body.rate[:, None] * epochs),
            np.round(body.base[:, None] / 1000 + 10 * np.sin(epochs / 7 + body.rate[:, None]), 3),
        )
        val_rows.append(vals)
        ts_rows.append(np.broadcast_to(scrape_times(rng, steps, start_ms), vals.shape))
    return Dataset("ingest", labels, np.vstack(ts_rows), np.vstack(val_rows))


def om_dataset(
    hours: float, tenants: int = 3, endpoints: int = 6, seed: int = 3, start_ms: int = START_MS
) -> Dataset:
    """bench/openmetrics_gen.py's families at a small scale, over `hours`. Every tenant is
    its own target (its own scrape times); the platform's series share one more."""
    minutes = int(hours * 60)
    end_ms = start_ms + (minutes * 60_000 // STEP_MS - 1) * STEP_MS
    scale = omg.Scale(tenants, endpoints, minutes, minutes)
    rng = np.random.default_rng(seed)
    steps = minutes * 60_000 // STEP_MS
    times: dict[str, Ints] = {}
    labels: list[Labels] = []
    ts_rows: list[Ints] = []
    val_rows: list[Floats] = []
    for fam in omg.families(scale, end_ms, seed):
        for block in fam.blocks:
            if block.end_ms != end_ms or block.values.shape[1] != steps:
                continue  # mobius_active_customers a week earlier
            for lab, row in zip(block.labels, block.values, strict=True):
                target = lab.get("tenant", "")
                if target not in times:
                    times[target] = scrape_times(rng, steps, start_ms)
                labels.append(_key(block.name, lab))
                ts_rows.append(times[target])
                val_rows.append(np.asarray(row, dtype=np.float64))
    return Dataset("om", labels, np.vstack(ts_rows), np.vstack(val_rows))


def chunks(data: Dataset, length: int) -> tuple[Ints, Floats]:
    """Every series cut into chunks of `length` samples, ordered time range by time range
    (all series' first chunks, then all second chunks, ...), as a block stores them."""
    k, n = data.ts.shape
    per = n // length
    ts = data.ts[:, : per * length].reshape(k, per, length).transpose(1, 0, 2).reshape(-1, length)
    vals = (
        data.vals[:, : per * length].reshape(k, per, length).transpose(1, 0, 2).reshape(-1, length)
    )
    return np.ascontiguousarray(ts), np.ascontiguousarray(vals)


# -- encodings ------------------------------------------------------------------------
_PAGE = struct.Struct("<IIB")  # series, samples per series, a codec-specific byte
_DTYPES: tuple[type[np.signedinteger[Any]], ...] = (np.int8, np.int16, np.int32, np.int64)


def _narrowest(values: Ints) -> int:
    """Index into _DTYPES of the narrowest signed type holding every value."""
    if values.size == 0:
        return 0
    lo, hi = int(values.min()), int(values.max())
    for code, dt in enumerate(_DTYPES):
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return code
    return 3


def _zstd(data: bytes, level: int) -> bytes:
    return bytes(cramjam.zstd.compress(data, level))


def _unzstd(data: bytes | memoryview) -> bytes:
    return bytes(cramjam.zstd.decompress(bytes(data)))


class _Reader:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.at = 0

    def take(self, dtype: Any, count: int) -> NDArray[Any]:
        out = np.frombuffer(self.body, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out


def _dod_encode(ts: Ints) -> tuple[int, list[bytes]]:
    """Timestamps as first value, first delta (int64) and delta-of-delta (narrowest)."""
    dod = np.diff(ts, n=2, axis=1)
    code = _narrowest(dod)
    first = np.ascontiguousarray(ts[:, 0])
    delta = ts[:, 1] - ts[:, 0]
    return code, [first.tobytes(), delta.tobytes(), dod.astype(_DTYPES[code]).tobytes()]


def _dod_decode(r: _Reader, code: int, k: int, n: int) -> Ints:
    first = r.take(np.int64, k)
    delta = r.take(np.int64, k)
    dod = r.take(_DTYPES[code], k * (n - 2)).reshape(k, n - 2).astype(np.int64)
    deltas = np.empty((k, n - 1), dtype=np.int64)
    deltas[:, 0] = delta
    np.cumsum(dod, axis=1, out=deltas[:, 1:])
    deltas[:, 1:] += delta[:, None]
    out = np.empty((k, n), dtype=np.int64)
    out[:, 0] = first
    np.cumsum(deltas, axis=1, out=out[:, 1:])
    out[:, 1:] += first[:, None]
    return out


def _xor_split(vals: Floats) -> bytes:
    """Each value's bits XORed with the previous value's, stored as 8 byte planes."""
    bits = vals.view(np.uint64)
    x = bits.copy()
    x[:, 1:] ^= bits[:, :-1]
    return x.reshape(-1).view(np.uint8).reshape(-1, 8).T.tobytes()


def _xor_unsplit(r: _Reader, k: int, n: int) -> Floats:
    planes = r.take(np.uint8, 8 * k * n).reshape(8, k * n)
    x = np.ascontiguousarray(planes.T).view(np.uint64).reshape(k, n)
    return np.bitwise_xor.accumulate(x, axis=1).view(np.float64)


class Codec:
    """Encodes one page (k series x n samples, one time range) into bytes and back."""

    name = ""

    def encode(self, ts: Ints, vals: Floats) -> bytes:
        raise NotImplementedError

    def decode(self, blob: bytes) -> tuple[Ints, Floats]:
        raise NotImplementedError


class DeltaRaw(Codec):
    """a. delta timestamps (int64) + raw float64, zstd: roughly today's WAL/checkpoint."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.name = f"a delta+raw zstd{level}"

    def encode(self, ts: Ints, vals: Floats) -> bytes:
        k, n = ts.shape
        body = np.diff(ts, axis=1, prepend=0).tobytes() + vals.tobytes()
        return _PAGE.pack(k, n, 0) + _zstd(body, self.level)

    def decode(self, blob: bytes) -> tuple[Ints, Floats]:
        k, n, _ = _PAGE.unpack_from(blob)
        r = _Reader(_unzstd(memoryview(blob)[_PAGE.size :]))
        ts = np.cumsum(r.take(np.int64, k * n).reshape(k, n), axis=1)
        return ts, r.take(np.float64, k * n).reshape(k, n)


class DodXor(Codec):
    """b. delta-of-delta timestamps (narrowest int) + XOR values as 8 byte planes, zstd."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.name = f"b dod+xor-bss zstd{level}"

    def encode(self, ts: Ints, vals: Floats) -> bytes:
        k, n = ts.shape
        code, parts = _dod_encode(ts)
        parts.append(_xor_split(vals))
        return _PAGE.pack(k, n, code) + _zstd(b"".join(parts), self.level)

    def decode(self, blob: bytes) -> tuple[Ints, Floats]:
        k, n, code = _PAGE.unpack_from(blob)
        r = _Reader(_unzstd(memoryview(blob)[_PAGE.size :]))
        ts = _dod_decode(r, code, k, n)
        return ts, _xor_unsplit(r, k, n)


MAX_DECIMALS = 9
_EXACT = float(2**53)
_COUNTS = struct.Struct("<II")  # exceptions, rows that fall back to XOR


def decimal_exponents(vals: Floats) -> tuple[NDArray[np.int8], NDArray[np.bool_]]:
    """Per row, the smallest e <= 9 with round(v * 10^e) / 10^e == v for every finite value
    (and |v * 10^e| < 2^53), or -1; and where the values are exceptions (not finite, or
    -0.0, whose sign a scaled integer cannot keep)."""
    exc = ~np.isfinite(vals) | ((vals == 0) & np.signbit(vals))
    safe = np.where(exc, 0.0, vals)
    exps = np.full(vals.shape[0], -1, dtype=np.int8)
    todo = np.arange(vals.shape[0])
    for e in range(MAX_DECIMALS + 1):
        if todo.size == 0:
            break
        scale = 10.0**e
        v = safe[todo]
        with np.errstate(over="ignore", invalid="ignore"):
            r = np.round(v * scale)
            ok = ((r / scale == v) & (np.abs(r) < _EXACT)).all(axis=1)
        exps[todo[ok]] = e
        todo = todo[~ok]
    return exps, exc


class DodDecimal(Codec):
    """c. delta-of-delta timestamps + decimal-scaled values, then per series delta or
    delta-of-delta (whichever has the smaller largest magnitude) in the narrowest int
    type; non-finite values (stale markers) as exceptions; series with no exponent <= 9
    fall back to b's XOR planes. zstd."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.name = f"c dod+decimal zstd{level}"

    def encode(self, ts: Ints, vals: Floats) -> bytes:
        k, n = ts.shape
        tcode, parts = _dod_encode(ts)
        exps, exc = decimal_exponents(vals)
        scaled = exps >= 0
        exc &= scaled[:, None]
        scale = 10.0 ** np.maximum(exps, 0).astype(np.float64)
        ints = np.round(np.where(exc, 0.0, vals) * scale[:, None])
        ints[~scaled] = 0.0
        iv = ints.astype(np.int64)
        if exc.any():  # an exception repeats the previous integer, so its deltas are 0
            pos = np.where(exc, 0, np.arange(n)[None, :])
            np.maximum.accumulate(pos, axis=1, out=pos)
            iv = np.take_along_axis(iv, pos, axis=1)
        d1 = np.diff(iv, axis=1)
        d2 = np.diff(d1, axis=1)
        order2 = np.abs(d2).max(axis=1, initial=0) < np.abs(d1[:, 1:]).max(axis=1, initial=0)
        rest = np.where(order2[:, None], d2, d1[:, 1:])
        vcode = _narrowest(rest)
        where = np.flatnonzero(exc).astype(np.uint32)
        fallback = np.flatnonzero(~scaled)
        parts += [
            exps.tobytes(),
            order2.astype(np.int8).tobytes(),
            np.ascontiguousarray(iv[:, 0]).tobytes(),
            np.ascontiguousarray(d1[:, 0]).tobytes(),
            rest.astype(_DTYPES[vcode]).tobytes(),
            where.tobytes(),
            vals.reshape(-1)[where].tobytes(),
            fallback.astype(np.uint32).tobytes(),
            _xor_split(vals[fallback]) if fallback.size else b"",
        ]
        head = _PAGE.pack(k, n, tcode | vcode << 4) + _COUNTS.pack(where.size, fallback.size)
        return head + _zstd(b"".join(parts), self.level)

    def decode(self, blob: bytes) -> tuple[Ints, Floats]:
        k, n, codes = _PAGE.unpack_from(blob)
        nexc, nfb = _COUNTS.unpack_from(blob, _PAGE.size)
        r = _Reader(_unzstd(memoryview(blob)[_PAGE.size + _COUNTS.size :]))
        ts = _dod_decode(r, codes & 15, k, n)
        exps = r.take(np.int8, k)
        order2 = r.take(np.int8, k).astype(bool)
        first = r.take(np.int64, k)
        delta = r.take(np.int64, k)
        rest = r.take(_DTYPES[codes >> 4], k * (n - 2)).reshape(k, n - 2).astype(np.int64)
        deltas = np.empty((k, n - 1), dtype=np.int64)
        deltas[:, 0] = delta
        deltas[:, 1:] = rest
        if order2.any():
            deltas[order2] = np.cumsum(deltas[order2], axis=1)
        iv = np.empty((k, n), dtype=np.int64)
        iv[:, 0] = first
        np.cumsum(deltas, axis=1, out=iv[:, 1:])
        iv[:, 1:] += first[:, None]
        scale = 10.0 ** np.maximum(exps, 0).astype(np.float64)
        vals = iv.astype(np.float64) / scale[:, None]
        where = r.take(np.uint32, nexc)
        vals.reshape(-1)[where] = r.take(np.float64, nexc)
        fallback = r.take(np.uint32, nfb)
        if nfb:
            vals[fallback] = _xor_unsplit(r, nfb, n)
        return ts, vals


class ParquetCodec(Codec):
    """d. Parquet (pyarrow): DELTA_BINARY_PACKED timestamps, BYTE_STREAM_SPLIT values, zstd."""

    def __init__(self, level: int) -> None:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

        self.pa, self.pq = pa, pq
        self.level = level
        self.name = f"d parquet zstd{level}"

    def encode(self, ts: Ints, vals: Floats) -> bytes:
        k, n = ts.shape
        table = self.pa.table({"t": ts.reshape(-1), "v": vals.reshape(-1)})
        sink = io.BytesIO()
        self.pq.write_table(
            table,
            sink,
            compression="zstd",
            compression_level=self.level,
            use_dictionary=False,
            write_statistics=False,
            column_encoding={"t": "DELTA_BINARY_PACKED", "v": "BYTE_STREAM_SPLIT"},
        )
        return _PAGE.pack(k, n, 0) + sink.getvalue()

    def decode(self, blob: bytes) -> tuple[Ints, Floats]:
        k, n, _ = _PAGE.unpack_from(blob)
        table = self.pq.read_table(self.pa.BufferReader(memoryview(blob)[_PAGE.size :]))
        ts = table.column("t").to_numpy().reshape(k, n)
        return ts, table.column("v").to_numpy().reshape(k, n)


def codecs(console: Console | None = None) -> list[Codec]:
    out: list[Codec] = [DeltaRaw(1), DeltaRaw(3)]
    out += [DodXor(level) for level in (1, 3, 9)]
    out += [DodDecimal(level) for level in (1, 3, 9)]
    try:
        out += [ParquetCodec(level) for level in (1, 3, 9)]
    except ImportError:
        if console is not None:
            console.print(
                "[yellow]d (Parquet) skipped: pyarrow is not installed "
                "(`.venv/bin/pip install pyarrow`; it is not a project dependency)[/yellow]"
            )
    return out


# -- measuring --------------------------------------------------------------------------
@dataclass
class Measure:
    bytes: int = 0
    samples: int = 0
    encode_s: float = 0.0
    decode_s: float = 0.0

    @property
    def bytes_per_sample(self) -> float:
        return self.bytes / self.samples if self.samples else float("nan")

    @property
    def encode_msps(self) -> float:
        return self.samples / self.encode_s / 1e6 if self.encode_s > 0 else float("nan")

    @property
    def decode_msps(self) -> float:
        return self.samples / self.decode_s / 1e6 if self.decode_s > 0 else float("nan")


def _pages(ts: Ints, vals: Floats, page: int) -> Iterator[tuple[Ints, Floats]]:
    for at in range(0, ts.shape[0], page):
        yield ts[at : at + page], vals[at : at + page]


def same_bits(a: Floats, b: Floats) -> bool:
    return a.shape == b.shape and bool((a.view(np.uint64) == b.view(np.uint64)).all())


def measure(codec: Codec, ts: Ints, vals: Floats, page: int, runs: int) -> Measure:
    """Encode every page of (ts, vals) `runs` times (median seconds), decode likewise, and
    check the round trip is exact."""
    pages = list(_pages(ts, vals, page))
    enc_times, dec_times = [], []
    blobs: list[bytes] = []
    for _ in range(runs):
        started = time.perf_counter()
        blobs = [codec.encode(t, v) for t, v in pages]
        enc_times.append(time.perf_counter() - started)
    decoded: list[tuple[Ints, Floats]] = []
    for _ in range(runs):
        started = time.perf_counter()
        decoded = [codec.decode(b) for b in blobs]
        dec_times.append(time.perf_counter() - started)
    for (t, v), (t2, v2) in zip(pages, decoded, strict=True):
        if not (np.array_equal(t, t2) and same_bits(v, v2)):
            raise BenchError(f"{codec.name} (pages of {page}) does not decode what it encoded")
    return Measure(sum(len(b) for b in blobs), int(ts.size), median(enc_times), median(dec_times))


def write_openmetrics(data: Dataset, path: Path, limit: int | None = None) -> int:
    """data (its first `limit` samples per series) as OpenMetrics, series after series;
    returns the samples written."""
    written = 0
    with path.open("w", encoding="utf-8", buffering=4 << 20) as out:
        for labels, ts, vals in zip(data.labels, data.ts, data.vals, strict=True):
            name = labels[0][1]
            inner = ",".join(f'{k}="{v}"' for k, v in labels[1:])
            key = f"{name}{{{inner}}}" if inner else name
            t = ts[:limit].tolist()
            v = vals[:limit].tolist()
            out.write(
                "".join(
                    f"{key} {x!r} {ms // 1000}.{ms % 1000:03d}\n"
                    for x, ms in zip(v, t, strict=True)
                )
            )
            written += len(t)
        out.write("# EOF\n")
    return written


def prometheus_bytes(
    data: Dataset, workdir: Path, block_hours: int, limit: int | None
) -> tuple[int, int, int]:
    """(chunks bytes, index bytes, samples) of promtool's blocks of data's first `limit`
    samples per series, with blocks of block_hours."""
    om = workdir / f"{data.name}-{block_hours}h.om"
    samples = write_openmetrics(data, om, limit)
    out = workdir / f"{data.name}-{block_hours}h-prometheus"
    try:
        create_blocks(om, out, block_hours=block_hours)
    finally:
        om.unlink()
    chunk_bytes = sum(p.stat().st_size for p in out.glob("*/chunks/*"))
    index_bytes = sum(p.stat().st_size for p in out.glob("*/index"))
    return chunk_bytes, index_bytes, samples


@dataclass
class Cell:
    measure: Measure
    prometheus_bps: float

    @property
    def ratio(self) -> float:
        return self.measure.bytes_per_sample / self.prometheus_bps


@dataclass
class Report:
    datasets: list[tuple[str, int, int]]  # name, series, samples
    chunk_lengths: list[int]
    # (dataset, chunk length) -> (chunks bytes/sample, chunks+index bytes/sample)
    prometheus: dict[tuple[str, int], tuple[float, float]] = field(default_factory=dict)
    # (codec name, page, chunk length) -> dataset -> Cell
    cells: dict[tuple[str, int, int], dict[str, Cell]] = field(default_factory=dict)
    # (chunk length, page) -> bytes/sample of timestamps alone when every series of a
    # page has its own target (its own jitter), encoded as b and c encode them
    own_timestamps: dict[tuple[int, int], float] = field(default_factory=dict)


def own_timestamps_cost(length: int, page: int, pages: int = 10, seed: int = 5) -> float:
    """Bytes per sample of timestamps alone for pages whose series all come from different
    targets: the datasets' series share their target's scrape times, and within a page
    zstd stores a repeated timestamp column almost for free; a block whose pages mix
    targets pays this instead."""
    rng = np.random.default_rng(seed)
    ts = np.vstack([scrape_times(rng, length, START_MS) for _ in range(page * pages)])
    return measure(DodXor(3), ts, np.zeros(ts.shape), page, 1).bytes_per_sample


def run(
    *,
    demo_hours: float,
    day_hours: float,
    ingest_tenants: int,
    om_tenants: int,
    pages: Sequence[int],
    runs: int,
    workdir: Path,
    console: Console,
    only: Callable[[Codec], bool] = lambda c: True,
) -> Report:
    require_prometheus()
    started = time.perf_counter()
    datasets = [
        demo_dataset(demo_hours),
        ingest_dataset(day_hours, tenants=ingest_tenants),
        om_dataset(day_hours, tenants=om_tenants),
    ]
    console.log(f"datasets built in {time.perf_counter() - started:.1f} s")
    lengths = [CHUNK_2H, CHUNK_1D]
    report = Report([(d.name, d.vals.shape[0], d.samples) for d in datasets], lengths)
    for length in lengths:
        for page in pages:
            report.own_timestamps[(length, page)] = own_timestamps_cost(length, page)
    all_codecs = [c for c in codecs(console) if only(c)]
    for data in datasets:
        for length in lengths:
            if data.vals.shape[1] < length:
                continue
            hours = length * STEP_MS // 3_600_000
            chunk_b, index_b, samples = prometheus_bytes(data, workdir, hours, length)
            prom = (chunk_b / samples, (chunk_b + index_b) / samples)
            report.prometheus[(data.name, length)] = prom
            console.log(
                f"{data.name}: {data.vals.shape[0]} series; prometheus {hours} h block: "
                f"{prom[1]:.3f} bytes/sample ({prom[0]:.3f} in chunks)"
            )
            ts, vals = chunks(data, length)
            for codec in all_codecs:
                for page in pages:
                    m = measure(codec, ts, vals, page, runs)
                    report.cells.setdefault((codec.name, page, length), {})[data.name] = Cell(
                        m, prom[1]
                    )
                console.log(
                    f"  {codec.name} ({length} samples): "
                    f"{report.cells[(codec.name, pages[-1], length)][data.name].measure.bytes_per_sample:.3f} "
                    f"bytes/sample in pages of {pages[-1]}"
                )
    return report


def print_report(report: Report, console: Console) -> None:
    names = [d[0] for d in report.datasets]
    table = Table(
        title="Chunk encodings: bytes/sample, x Prometheus (chunks+index), encode / decode M samples/s"
    )
    table.add_column("candidate")
    table.add_column("page", justify="right")
    table.add_column("chunk", justify="right")
    for name in names:
        table.add_column(f"{name} B/s", justify="right")
        table.add_column("x prom", justify="right")
        table.add_column("enc/dec", justify="right")
    for length in report.chunk_lengths:
        label = "2 h" if length == CHUNK_2H else "1 d"
        prom: list[str] = []
        for name in names:
            found = report.prometheus.get((name, length))
            prom += [f"{found[1]:.3f}", "1.00", f"({found[0]:.3f})"] if found else ["", "", ""]
        table.add_row("e prometheus (chunks)", "", label, *prom)
        for (codec, page, chunk_len), by_data in report.cells.items():
            if chunk_len != length:
                continue
            row: list[str] = []
            for name in names:
                cell = by_data.get(name)
                if cell is None:
                    row += ["", "", ""]
                    continue
                m = cell.measure
                row += [
                    f"{m.bytes_per_sample:.3f}",
                    f"{cell.ratio:.2f}",
                    f"{m.encode_msps:.0f}/{m.decode_msps:.0f}",
                ]
            table.add_row(codec, str(page), label, *row)
        table.add_section()
    console.print(table)
    console.print(
        "Datasets: "
        + ", ".join(f"{n} {k:,} series x {s // k:,} samples" for n, k, s in report.datasets)
        + ". B/s: encoded bytes per sample (samples only, no labels); x prom: against "
        "Prometheus' block of the same samples counted as chunks + index (its chunks alone "
        "in brackets on its row); enc/dec: millions of samples per second, one core."
    )
    if report.own_timestamps:
        console.print(
            "Series of one target share its timestamps, which a page stores almost for free; "
            "when every series of a page has its own target, timestamps alone cost "
            + ", ".join(
                f"{v:.3f} ({'2 h' if n == CHUNK_2H else '1 d'}, page {p})"
                for (n, p), v in sorted(report.own_timestamps.items())
            )
            + " bytes/sample (b's and c's encoding)."
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo-hours", type=float, default=24.0)
    parser.add_argument("--hours", type=float, default=24.0, help="span of ingest and om")
    parser.add_argument("--ingest-tenants", type=int, default=5, help="(199 series each)")
    parser.add_argument("--om-tenants", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median)")
    parser.add_argument("--quick", action="store_true", help="demo over 2 h, smaller datasets")
    parser.add_argument("--workdir", type=Path, help="keep promtool's blocks here")
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 170), log_path=False)
    kwargs: dict[str, Any] = {
        "demo_hours": 2.0 if args.quick else args.demo_hours,
        "day_hours": args.hours,
        "ingest_tenants": 1 if args.quick else args.ingest_tenants,
        "om_tenants": 1 if args.quick else args.om_tenants,
        "pages": (1, 16, 64),
        "runs": 1 if args.quick else args.runs,
        "console": console,
    }
    try:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            report = run(workdir=args.workdir, **kwargs)
        else:
            with tempfile.TemporaryDirectory(prefix="tenantwatch-bench-compression-") as tmp:
                report = run(workdir=Path(tmp), **kwargs)
    except (BenchError, ValueError) as exc:
        console.print(f"[red]bench.compression: {exc}[/red]")
        return 2
    print_report(report, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
