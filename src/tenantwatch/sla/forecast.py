"""Predictions with numpy only: linear trends (OLS, Theil-Sen), Holt's double exponential
smoothing, EWMA, robust MAD anomaly scores and a scaling recommendation.

Every forecast carries a 95 % band and a cold-start flag (fewer than COLD_START points:
the numbers are shown, but as a guess).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tenantwatch.promql.model import FloatArray

COLD_START = 10
Z95 = 1.96
MAD_SCALE = 0.6745  # Iglewicz and Hoaglin's modified z-score
ANOMALY_SCORE = 3.5
_THEIL_SEN_POINTS = 400  # pairwise slopes are O(n^2): evenly thinned beyond this


@dataclass(frozen=True)
class Forecast:
    value: float
    low: float
    high: float
    cold_start: bool


@dataclass(frozen=True)
class Trend:
    slope: float  # per second
    intercept: float  # value at t = 0
    residual_std: float
    n: int
    t_mean: float
    sxx: float

    def at(self, t: float) -> Forecast:
        """The trend's value at t (seconds), with its 95 % prediction band."""
        value = self.intercept + self.slope * t
        if self.n < 3 or self.sxx == 0:
            return Forecast(value, -math.inf, math.inf, True)
        spread = self.residual_std * math.sqrt(1 + 1 / self.n + (t - self.t_mean) ** 2 / self.sxx)
        return Forecast(value, value - Z95 * spread, value + Z95 * spread, self.n < COLD_START)


def _trend(t: FloatArray, v: FloatArray, slope: float, intercept: float) -> Trend:
    residuals = v - (intercept + slope * t)
    dof = max(len(t) - 2, 1)
    t_mean = float(t.mean()) if len(t) else 0.0
    sxx = float(((t - t_mean) ** 2).sum())
    std = float(math.sqrt(float((residuals**2).sum()) / dof))
    return Trend(slope, intercept, std, len(t), t_mean, sxx)


def ols(t: FloatArray, v: FloatArray) -> Trend:
    """Least squares, as PromQL's predict_linear fits."""
    t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
    if len(t) < 2 or float(np.ptp(t)) == 0:
        return _trend(t, v, 0.0, float(v.mean()) if len(v) else math.nan)
    slope, intercept = np.polyfit(t, v, 1)
    return _trend(t, v, float(slope), float(intercept))


def theil_sen(t: FloatArray, v: FloatArray) -> Trend:
    """The median of pairwise slopes: a trend that a few outliers do not bend."""
    t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
    if len(t) > _THEIL_SEN_POINTS:
        keep = np.linspace(0, len(t) - 1, _THEIL_SEN_POINTS).round().astype(int)
        t_fit, v_fit = t[keep], v[keep]
    else:
        t_fit, v_fit = t, v
    i, j = np.triu_indices(len(t_fit), k=1)
    dt = t_fit[j] - t_fit[i]
    ok = dt != 0
    if not ok.any():
        return _trend(t, v, 0.0, float(np.median(v)) if len(v) else math.nan)
    slope = float(np.median((v_fit[j] - v_fit[i])[ok] / dt[ok]))
    intercept = float(np.median(v - slope * t))
    return _trend(t, v, slope, intercept)


def ewma(v: FloatArray, alpha: float) -> FloatArray:
    """Exponentially weighted moving average (the first value starts it)."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    out = np.empty(len(v))
    level = float(v[0]) if len(v) else 0.0
    for k, x in enumerate(np.asarray(v, dtype=float).tolist()):
        level = alpha * x + (1 - alpha) * level
        out[k] = level
    return out


def holt(v: FloatArray, horizon: int, *, alpha: float = 0.5, beta: float = 0.3) -> Forecast:
    """Holt's linear method: level and trend smoothed, `horizon` steps ahead; the band
    grows with the one-step errors' spread and the square root of the horizon."""
    v = np.asarray(v, dtype=float)
    if len(v) < 2:
        value = float(v[0]) if len(v) else math.nan
        return Forecast(value, -math.inf, math.inf, True)
    level, trend = float(v[0]), float(v[1] - v[0])
    errors = []
    for x in v[1:].tolist():
        errors.append(x - (level + trend))
        new_level = alpha * x + (1 - alpha) * (level + trend)
        trend = beta * (new_level - level) + (1 - beta) * trend
        level = new_level
    value = level + horizon * trend
    spread = Z95 * float(np.std(errors)) * math.sqrt(max(horizon, 1))
    return Forecast(value, value - spread, value + spread, len(v) < COLD_START)


def mad_scores(v: FloatArray) -> FloatArray:
    """Modified z-scores: 0.6745 (x - median) / MAD; |score| > 3.5 is an anomaly. A series
    with no spread scores 0 everywhere but for the values off its median (inf)."""
    v = np.asarray(v, dtype=float)
    median = float(np.median(v))
    mad = float(np.median(np.abs(v - median)))
    if mad == 0:
        out = np.zeros_like(v)
        off = v != median
        out[off] = np.copysign(np.inf, (v - median)[off])
        return out
    return MAD_SCALE * (v - median) / mad


@dataclass(frozen=True)
class Scaling:
    replicas: int
    recommended: int
    action: str  # "keep", "scale up", "scale down"


def scaling(replicas: int, forecast_peak: float, target_utilisation: float) -> Scaling:
    """ceil(replicas x peak / target), kept as is while within 10 % of the target."""
    if not 0 < target_utilisation <= 1 or replicas < 1:
        raise ValueError("target utilisation must be in (0, 1] and replicas at least 1")
    if abs(forecast_peak - target_utilisation) <= 0.1 * target_utilisation:
        return Scaling(replicas, replicas, "keep")
    wanted = max(1, math.ceil(replicas * forecast_peak / target_utilisation))
    action = "keep" if wanted == replicas else ("scale up" if wanted > replicas else "scale down")
    return Scaling(replicas, wanted, action)
