"""One series' samples as bytes, for on-disk blocks: vectorised, lossless, compact after zstd.

Timestamps: the first one and the first delta, then delta-of-delta in the narrowest signed integer type that
holds them (a scraper's 15 s with a few ms of jitter needs int16, often int8). Values,
one of two ways, chosen per chunk:
- DECIMAL: when every finite value is an integer count of 10^-k for some k <= 9 (counters,
  most gauges: bytes, connections, a latency in ms), the integers, delta- or
  delta-of-delta-coded (whichever fits the narrower type). Values that are not finite
  (NaN, Prometheus' stale marker, infinities) are kept exactly as exceptions.
- XOR: otherwise each value's IEEE bits XORed with the previous value's (Gorilla's idea),
  stored as 8 byte planes so the zero high bytes of slowly changing values sit together.
Every value round-trips bit for bit (the stale marker's payload included). The bytes are
not compressed here: a block compresses pages of many series together (block_format.py).

Layout: header | timestamps | values [| exception positions u32 | exception bits u64]
  header: u32 n, i64 first t, i64 first delta, u8 ts width, u8 mode (0 XOR, 1 DECIMAL,
          2 DECIMAL dod), u8 value width, u8 k, u32 exceptions, i64 first integer,
          i64 first integer delta (the firsts live in the header, so they do not widen
          the type of the small differences that follow)
"""

from __future__ import annotations

import struct

import numpy as np

from tenantwatch.promql.model import FloatArray, IntArray

HEADER = struct.Struct("<IqqBBBBIqq")
XOR, DECIMAL, DECIMAL_DOD = 0, 1, 2
_WIDTHS = ((1, np.int8, 2**7), (2, np.int16, 2**15), (4, np.int32, 2**31))
_DTYPES = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
_EXACT = float(2**53)
_MAX_K = 9


def _narrow(x: IntArray) -> tuple[int, bytes]:
    """x in the narrowest integer type that holds it: (bytes per item, raw bytes)."""
    if not len(x):
        return 1, b""
    lo, hi = int(x.min()), int(x.max())
    for width, dtype, bound in _WIDTHS:
        if -bound <= lo and hi < bound:
            return width, x.astype(dtype).tobytes()
    return 8, x.tobytes()


def _widen(buf: memoryview, width: int, count: int, offset: int) -> IntArray:
    return np.frombuffer(buf, dtype=_DTYPES[width], count=count, offset=offset).astype(np.int64)


def _decimal(vals: FloatArray) -> tuple[int, IntArray] | None:
    """(k, integers) with integers / 10^k == vals bit for bit, or None."""
    if not len(vals):
        return 0, np.empty(0, np.int64)
    if float(np.abs(vals).max()) >= _EXACT:
        return None
    bits = vals.view(np.uint64)
    ints = vals.astype(np.int64)
    if np.array_equal(ints.astype(np.float64).view(np.uint64), bits):  # whole numbers
        return 0, ints
    for k in range(1, _MAX_K + 1):
        scale = float(10**k)
        scaled = np.round(vals * scale)
        if np.abs(scaled).max() >= _EXACT:
            return None
        ints = scaled.astype(np.int64)
        if np.array_equal((ints / scale).view(np.uint64), bits):
            return k, ints
    return None


def encode(ts: IntArray, vals: FloatArray) -> bytes:
    """The chunk of ascending timestamps ts (int64 ms) and their float64 values."""
    n = len(ts)
    if n != len(vals):
        raise ValueError(f"{n} timestamps but {len(vals)} values")
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    vals = np.ascontiguousarray(vals, dtype=np.float64)
    if n == 0:
        return HEADER.pack(0, 0, 0, 1, XOR, 1, 0, 0, 0, 0)
    t0 = int(ts[0])
    dt0 = int(ts[1] - ts[0]) if n > 1 else 0
    steps = ts[1:] - ts[:-1]
    ts_width, ts_bytes = _narrow(steps[1:] - steps[:-1])
    firsts = (t0, dt0, ts_width)
    finite = np.isfinite(vals)
    exceptions = np.flatnonzero(~finite)
    filled = vals
    if len(exceptions):
        if len(exceptions) * 4 > n:  # mostly not numbers: not worth the exceptions
            return _xor(n, firsts, ts_bytes, vals)
        # a non-finite value repeats the previous finite one, so the deltas stay small
        positions = np.where(finite, np.arange(n), 0)
        np.maximum.accumulate(positions, out=positions)
        filled = np.where(finite, vals, vals[positions])
        filled = np.where(np.isfinite(filled), filled, 0.0)
    found = _decimal(filled)
    if found is None:
        return _xor(n, firsts, ts_bytes, vals)
    k, ints = found
    v0 = int(ints[0])
    dv0 = int(ints[1] - ints[0]) if n > 1 else 0
    deltas = ints[1:] - ints[:-1]
    d_width, d_bytes = _narrow(deltas)
    dd_width, dd_bytes = _narrow(deltas[1:] - deltas[:-1]) if d_width > 1 else (8, b"")
    mode, width, body = (
        (DECIMAL_DOD, dd_width, dd_bytes) if dd_width < d_width else (DECIMAL, d_width, d_bytes)
    )
    head = HEADER.pack(n, t0, dt0, ts_width, mode, width, k, len(exceptions), v0, dv0)
    extra = b""
    if len(exceptions):
        extra = exceptions.astype(np.uint32).tobytes() + vals[exceptions].view(np.uint64).tobytes()
    return head + ts_bytes + body + extra


def _xor(n: int, firsts: tuple[int, int, int], ts_bytes: bytes, vals: FloatArray) -> bytes:
    bits = vals.view(np.uint64)
    xored = bits ^ np.concatenate([np.zeros(1, np.uint64), bits[:-1]])
    planes = xored.view(np.uint8).reshape(n, 8).T.tobytes()
    t0, dt0, ts_width = firsts
    out: bytes = HEADER.pack(n, t0, dt0, ts_width, XOR, 8, 0, 0, 0, 0) + ts_bytes + planes
    return out


def decode(buf: bytes | memoryview) -> tuple[IntArray, FloatArray]:
    """The timestamps and values of a chunk made by encode."""
    view = memoryview(buf)
    n, t0, dt0, ts_width, mode, width, k, nexc, v0, dv0 = HEADER.unpack_from(view)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    at = HEADER.size
    ts = _integrate(_widen(view, ts_width, max(n - 2, 0), at), n, t0, dt0, twice=True)
    at += ts_width * max(n - 2, 0)
    if mode == XOR:
        planes = np.frombuffer(view, dtype=np.uint8, count=8 * n, offset=at)
        xored = np.ascontiguousarray(planes.reshape(8, n).T).view(np.uint64).reshape(n)
        return ts, np.bitwise_xor.accumulate(xored).view(np.float64)
    stored = n - 2 if mode == DECIMAL_DOD else n - 1
    stored = max(stored, 0)
    ints = _integrate(_widen(view, width, stored, at), n, v0, dv0, twice=mode == DECIMAL_DOD)
    at += width * stored
    vals = ints / float(10**k)
    if nexc:
        where = np.frombuffer(view, dtype=np.uint32, count=nexc, offset=at)
        bits = np.frombuffer(view, dtype=np.uint64, count=nexc, offset=at + 4 * nexc)
        vals.view(np.uint64)[where] = bits
    return ts, vals


def _integrate(diffs: IntArray, n: int, first: int, first_delta: int, *, twice: bool) -> IntArray:
    """Undo np.diff (n=2 when twice) given the first value and the first difference."""
    if twice:
        deltas = np.empty(max(n - 1, 0), np.int64)
        if n > 1:
            deltas[0] = first_delta
            np.cumsum(diffs, out=deltas[1:])
            deltas[1:] += first_delta
    else:
        deltas = diffs
    out = np.empty(n, np.int64)
    out[0] = first
    np.cumsum(deltas, out=out[1:])
    out[1:] += first
    return out
