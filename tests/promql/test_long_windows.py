"""Long windows take the exact C sum; it agrees with Prometheus' Kahan loop."""

from __future__ import annotations

import numpy as np
import pytest

from tenantwatch.promql import rangefn


@pytest.mark.parametrize("seed", range(5))
def test_the_exact_sum_agrees_with_the_kahan_loop(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    vals = np.concatenate(
        [rng.normal(1e6, 1e4, 6000), rng.uniform(-1e-3, 1e-3, 3000), [1e15, -1e15]]
    )
    fast_sum, fast_mean = rangefn._fsum(vals), rangefn._mean(vals)
    fast_max, fast_min = rangefn._max(vals), rangefn._min(vals)
    monkeypatch.setattr(rangefn, "LONG_WINDOW", 10**9)
    assert fast_sum == pytest.approx(rangefn._fsum(vals), rel=1e-15, abs=1e-9)
    assert fast_mean == pytest.approx(rangefn._mean(vals), rel=1e-15)
    assert (fast_max, fast_min) == (rangefn._max(vals), rangefn._min(vals))


def test_windows_with_nan_or_inf_keep_the_loop() -> None:
    vals = np.ones(5000)
    vals[7] = np.nan
    assert np.isnan(rangefn._fsum(vals))
    vals[7] = np.inf
    assert rangefn._mean(vals) == np.inf
    assert rangefn._max(vals) == np.inf
