"""Rollups: what they keep, when select reads them, and how close rate() stays."""

from __future__ import annotations

import numpy as np
import pytest

from tenantwatch.metrics.rollup import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    RollupCache,
    choose_step,
    downsample,
)
from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.model import STALE_NAN, FloatArray, IntArray, Matcher, labels_of

T0 = 1_800_000_000_000 - 40 * DAY_MS


def extrapolated_rate(
    ts: IntArray, vals: FloatArray, start: int, end: int, *, is_rate: bool
) -> float | None:
    """Prometheus' extrapolatedRate for counters over (start, end] (REFERENCE.md 4.3)."""
    keep = (ts > start) & (ts <= end)
    t, v = ts[keep], vals[keep]
    if len(t) < 2:
        return None
    result = float(v[-1] - v[0])
    drops = v[1:] < v[:-1]
    result += float(v[:-1][drops].sum())
    to_start = (t[0] - start) / 1000
    to_end = (end - t[-1]) / 1000
    sampled = (t[-1] - t[0]) / 1000
    avg = sampled / (len(t) - 1)
    if to_start >= 1.1 * avg:
        to_start = avg / 2
    if result > 0 and v[0] >= 0:
        to_start = min(to_start, sampled * (v[0] / result))
    if to_end >= 1.1 * avg:
        to_end = avg / 2
    factor = (sampled + to_start + to_end) / sampled
    if is_rate:
        factor /= (end - start) / 1000
    return result * factor


def total_increase(vals: FloatArray) -> float:
    drops = vals[1:] < vals[:-1]
    return float(vals[-1] - vals[0] + vals[:-1][drops].sum())


def counter(days: float, *, seed: int, resets_every: int = 5000) -> tuple[IntArray, FloatArray]:
    """A 15 s counter with jittered scrapes, bursty increments and periodic resets."""
    rng = np.random.default_rng(seed)
    n = int(days * DAY_MS / 15_000)
    ts = T0 + np.arange(n, dtype=np.int64) * 15_000 + rng.integers(-500, 500, n)
    inc = rng.poisson(40, n).astype(float)
    vals = np.empty(n)
    total = 0.0
    for i in range(n):
        total = 0.0 if i % resets_every == resets_every - 1 else total + inc[i]
        vals[i] = total
    return ts, vals


def test_it_keeps_the_last_sample_of_each_bucket_and_only_real_samples() -> None:
    ts = np.array([0, 10, 59_999, 60_000, 61_000, 200_000], dtype=np.int64)
    vals = np.array([1.0, 5.0, 3.0, 4.0, 9.0, 2.0])
    got_ts, got_vals = downsample(ts, vals, MINUTE_MS, counter=False)
    assert got_ts.tolist() == [59_999, 61_000, 200_000]
    assert got_vals.tolist() == [3.0, 9.0, 2.0]


def test_a_counter_keeps_both_sides_of_every_reset() -> None:
    ts = np.array([0, 10, 20, 30, 40, 70_000], dtype=np.int64)
    vals = np.array([1.0, 100.0, 2.0, 150.0, 160.0, 170.0])
    got_ts, got_vals = downsample(ts, vals, MINUTE_MS, counter=True)
    assert got_ts.tolist() == [10, 20, 40, 70_000]
    assert got_vals.tolist() == [100.0, 2.0, 160.0, 170.0]
    # the increase from the first kept sample is exact, although the counter passed its
    # old peak after the reset (keeping only the pre-reset sample would give 70)
    assert total_increase(vals[1:]) == total_increase(got_vals) == 170.0


def test_stale_markers_do_not_hide_a_reset() -> None:
    ts = np.arange(5, dtype=np.int64) * 10
    vals = np.array([50.0, 60.0, STALE_NAN, 3.0, 4.0])
    got_ts, _ = downsample(ts, vals, MINUTE_MS, counter=True)
    assert got_ts.tolist() == [10, 30, 40]


@pytest.mark.parametrize(
    ("span", "max_step", "expected"),
    [
        (2 * DAY_MS, None, None),  # the caller did not allow a rollup: raw
        (2 * DAY_MS, MINUTE_MS, MINUTE_MS),
        (DAY_MS, MINUTE_MS, None),  # not long enough
        (31 * DAY_MS, MINUTE_MS, MINUTE_MS),  # hour rollup too coarse for the caller
        (31 * DAY_MS, HOUR_MS, HOUR_MS),
        (10 * DAY_MS, HOUR_MS, MINUTE_MS),
        (10 * DAY_MS, 30_000, None),
    ],
)
def test_the_rollup_rule(span: int, max_step: int | None, expected: int | None) -> None:
    assert choose_step(T0, T0 + span, max_step) == expected


@pytest.mark.parametrize("step", [MINUTE_MS, HOUR_MS])
def test_rate_over_windows_of_ten_steps_or_more_stays_within_tolerance(step: int) -> None:
    """The documented bound: |rollup - raw| <= 2 * step / window, relative."""
    ts, vals = counter(12 if step == HOUR_MS else 2, seed=step)
    r_ts, r_vals = downsample(ts, vals, step, counter=True)
    assert len(r_ts) < len(ts) / 3
    windows = [10 * step, 30 * step, 100 * step]
    worst = 0.0
    for window in windows:
        for end in range(int(ts[0]) + window, int(ts[-1]), window // 3 + 7_777):
            for is_rate in (True, False):
                raw = extrapolated_rate(ts, vals, end - window, end, is_rate=is_rate)
                rolled = extrapolated_rate(r_ts, r_vals, end - window, end, is_rate=is_rate)
                assert raw is not None
                assert rolled is not None
                error = abs(rolled - raw) / raw
                assert error <= 2 * step / window, (window, end, raw, rolled)
                worst = max(worst, error * window / step)
    assert worst > 0  # the rollup does change something; the bound is not vacuous


def test_select_reads_the_rollup_only_when_allowed_and_the_span_is_long() -> None:
    store = MetricStore(None)
    store.open()
    labels = labels_of({"__name__": "req_total"})
    ts, vals = counter(3, seed=1)
    store.append_many([(labels, int(t), float(v)) for t, v in zip(ts, vals, strict=True)])
    m = [Matcher.of("__name__", "=", "req_total")]
    mint, maxt = int(ts[0]), int(ts[-1])
    assert len(store.select(m, mint, maxt)[0].ts) == len(ts)
    rolled = store.select(m, mint, maxt, max_step_ms=MINUTE_MS)[0]
    expected_ts, _ = downsample(ts, vals, MINUTE_MS, counter=True)
    assert rolled.ts.tolist() == expected_ts.tolist()
    short = store.select(m, maxt - HOUR_MS, maxt, max_step_ms=MINUTE_MS)[0]
    assert len(short.ts) == int(np.sum(ts >= maxt - HOUR_MS))  # short span: raw


def test_the_cache_extends_with_new_buckets_and_rebuilds_after_a_rewrite() -> None:
    store = MetricStore(None)
    store.open()
    labels = labels_of({"__name__": "g"})
    ref = store.append(labels, T0, 0.0)
    for i in range(1, 4 * 24 * 60):
        store.append_ref(ref, T0 + i * 30_000, float(i))
    series = store.head.series_by_id(ref)
    assert series is not None
    cache = RollupCache()

    def rolled() -> list[int]:
        return cache.window(series, MINUTE_MS, 0, 2**62)[0].tolist()

    def expected() -> list[int]:
        return downsample(series.ts, series.vals, MINUTE_MS, counter=False)[0].tolist()

    assert rolled() == expected()
    for i in range(4 * 24 * 60, 4 * 24 * 60 + 10):
        store.append_ref(ref, T0 + i * 30_000, float(i))
    assert rolled() == expected()
    store.append_ref(ref, T0 + 45_000, -1.0)  # out of order into a rolled-up bucket
    assert rolled() == expected()
    assert cache.window(series, MINUTE_MS, T0, T0 + 59_999)[1].tolist() == [-1.0]
