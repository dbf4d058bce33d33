"""Chunks round-trip every sample bit for bit, and pick the compact form for real data."""

from __future__ import annotations

import numpy as np
import pytest

from tenantwatch.metrics import chunk_codec

STALE = np.array([0x7FF0000000000002], dtype=np.uint64).view(np.float64)[0]
RNG = np.random.default_rng(7)
N = 480
TS = (1_700_000_000_000 + np.arange(N) * 15_000 + RNG.integers(0, 25, N)).astype(np.int64)


def roundtrip(ts: np.ndarray, vals: np.ndarray) -> bytes:
    chunk = chunk_codec.encode(ts, vals)
    got_ts, got_vals = chunk_codec.decode(chunk)
    assert np.array_equal(got_ts, ts)
    assert np.array_equal(got_vals.view(np.uint64), vals.view(np.uint64))
    return chunk


def mode(chunk: bytes) -> int:
    return int(chunk_codec.HEADER.unpack_from(chunk)[4])


@pytest.mark.parametrize(
    ("name", "vals", "expected"),
    [
        ("counter", np.cumsum(RNG.integers(0, 40, N)).astype(float), {chunk_codec.DECIMAL}),
        ("steady counter", np.arange(N) * 300.0, {chunk_codec.DECIMAL_DOD}),
        ("cents", np.round(RNG.uniform(0, 100, N), 2), {chunk_codec.DECIMAL}),
        ("noise", RNG.normal(size=N), {chunk_codec.XOR}),
        ("constant", np.full(N, 1.0), {chunk_codec.DECIMAL, chunk_codec.DECIMAL_DOD}),
        ("huge", np.full(N, 2.0**60), {chunk_codec.XOR}),
        ("negative zero", np.array([-0.0, 0.0] * (N // 2)), {chunk_codec.XOR}),
    ],
)
def test_values_round_trip_in_the_expected_form(
    name: str, vals: np.ndarray, expected: set[int]
) -> None:
    chunk = roundtrip(TS, vals)
    assert mode(chunk) in expected, name


def test_stale_markers_and_infinities_are_exceptions_in_decimal_chunks() -> None:
    vals = np.cumsum(RNG.integers(0, 40, N)).astype(float)
    vals[[0, 10, N - 1]] = [np.inf, STALE, STALE]
    chunk = roundtrip(TS, vals)
    assert mode(chunk) != chunk_codec.XOR
    assert len(chunk) < 3 * N  # still narrow: one byte per delta, not eight per value


def test_mostly_non_finite_values_fall_back_to_xor() -> None:
    vals = np.full(N, STALE)
    vals[::7] = 1.5
    assert mode(roundtrip(TS, vals)) == chunk_codec.XOR


def test_empty_single_and_irregular_chunks_round_trip() -> None:
    roundtrip(np.empty(0, np.int64), np.empty(0))
    roundtrip(np.array([5], dtype=np.int64), np.array([2.5]))
    ts = np.array([-(2**40), 0, 1, 2**40, 2**41], dtype=np.int64)
    roundtrip(ts, np.array([1e300, -1e-300, np.nan, -np.inf, 3.0]))


def test_scrape_timestamps_take_one_byte_per_sample() -> None:
    chunk = chunk_codec.encode(TS, np.arange(N) * 30.0)
    assert len(chunk) < chunk_codec.HEADER.size + 2 * N


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="3 timestamps but 2 values"):
        chunk_codec.encode(np.arange(3), np.arange(2.0))
