"""Trends, smoothing, anomalies and scaling, against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from tenantwatch.sla import forecast

T = np.arange(50, dtype=float) * 60


def test_ols_finds_an_exact_line_and_its_band_narrows_on_it() -> None:
    trend = forecast.ols(T, 5 + 0.5 * T)
    assert trend.slope == pytest.approx(0.5) and trend.intercept == pytest.approx(5)
    at = trend.at(6000)
    assert at.value == pytest.approx(3005) and at.high - at.low == pytest.approx(0, abs=1e-6)
    assert not at.cold_start


def test_theil_sen_ignores_outliers_that_bend_least_squares() -> None:
    v = 2 + 0.1 * T
    v[[40, 45, 49]] = 5000
    assert forecast.theil_sen(T, v).slope == pytest.approx(0.1)
    assert abs(forecast.ols(T, v).slope - 0.1) > 0.01


def test_holt_follows_a_steady_trend_and_flags_a_cold_start() -> None:
    got = forecast.holt(10 + 2 * np.arange(30.0), horizon=5)
    assert got.value == pytest.approx(10 + 2 * 34)
    assert got.low <= got.value <= got.high
    assert forecast.holt(np.array([1.0, 2.0, 3.0]), 1).cold_start


def test_ewma_by_hand() -> None:
    assert forecast.ewma(np.array([10.0, 20.0, 30.0]), 0.5).tolist() == [10.0, 15.0, 22.5]
    with pytest.raises(ValueError, match="alpha"):
        forecast.ewma(np.array([1.0]), 0)


def test_mad_scores_mark_the_outlier() -> None:
    v = np.array([10.0, 11, 9, 10, 12, 10, 9, 11, 40])
    scores = forecast.mad_scores(v)
    assert np.flatnonzero(np.abs(scores) > forecast.ANOMALY_SCORE).tolist() == [8]
    assert scores[8] == pytest.approx(0.6745 * 30 / 1)


@pytest.mark.parametrize(
    ("peak", "recommended", "action"),
    [(0.9, 6, "scale up"), (0.72, 4, "keep"), (0.3, 2, "scale down")],
)
def test_scaling_recommendation(peak: float, recommended: int, action: str) -> None:
    got = forecast.scaling(4, peak, 0.7)
    assert (got.recommended, got.action) == (recommended, action)
