"""Seed 002's predictive insights from a tenant's hourly history (pure, numpy only):
trend, capacity forecast, scaling recommendation, potential issues and anomalies.

- trend: OLS (as predict_linear) and Theil-Sen slopes of hourly requests, as a change per
  day relative to the mean; "rising"/"falling" beyond 10 % a week, else "stable";
- capacity forecast: Holt's method a week ahead, with its 95 % band;
- scaling: seed 002's scale_up / scale_down / maintain from the CPU (or, without CPU
  figures, the request) trend, and ceil(replicas x forecast peak / target utilisation);
- anomalies: robust MAD scores above 3.5 in the last week;
- every part says `cold_start` when fewer than a day of hours back it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tenantwatch.promql.model import FloatArray
from tenantwatch.sla import forecast as fc

HOUR_S = 3600
WEEK_H = 168
COLD_START_HOURS = 24
TARGET_UTILISATION = 0.7
TREND_PER_WEEK = 0.10  # seed 002's "10 % increase trend"


@dataclass(frozen=True)
class Hourly:
    """One figure's hourly history: Unix seconds and values (NaN: no data that hour)."""

    t: FloatArray
    v: FloatArray

    def known(self) -> Hourly:
        keep = np.isfinite(self.v)
        return Hourly(self.t[keep], self.v[keep])


@dataclass(frozen=True)
class TrendOut:
    direction: str  # rising, falling, stable, unknown
    change_per_week: float | None  # relative to the mean (0.1 = +10 % a week)
    ols_slope_per_day: float | None
    theil_sen_slope_per_day: float | None
    cold_start: bool
    # predict_linear a week ahead (OLS) with its 95 % prediction band
    in_a_week: float | None = None
    in_a_week_low: float | None = None
    in_a_week_high: float | None = None


@dataclass(frozen=True)
class ForecastOut:
    figure: str
    horizon_hours: int
    value: float | None
    low: float | None
    high: float | None
    peak: float | None  # the highest of the next week's linear trend and Holt's value
    cold_start: bool


@dataclass(frozen=True)
class Anomaly:
    figure: str
    t: float
    value: float
    score: float


@dataclass(frozen=True)
class ScalingOut:
    action: str  # scale_up, scale_down, maintain (seed 002's words)
    current_replicas: int
    recommended_replicas: int
    basis: str


@dataclass(frozen=True)
class Insights:
    trend: TrendOut
    capacity_forecast: list[ForecastOut]
    scaling_recommendation: ScalingOut
    potential_issues: list[str] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def trend(h: Hourly) -> TrendOut:
    k = h.known()
    if len(k.t) < 3 or float(np.mean(k.v)) == 0:
        return TrendOut("unknown", None, None, None, True)
    ols = fc.ols(k.t, k.v)
    robust = fc.theil_sen(k.t, k.v)
    mean = float(np.mean(k.v))
    change = robust.slope * 7 * 86400 / abs(mean)
    direction = "stable"
    if change > TREND_PER_WEEK:
        direction = "rising"
    elif change < -TREND_PER_WEEK:
        direction = "falling"
    ahead = ols.at(float(k.t[-1]) + WEEK_H * HOUR_S)
    return TrendOut(
        direction,
        round(change, 4),
        ols.slope * 86400,
        robust.slope * 86400,
        len(k.t) < COLD_START_HOURS or ahead.cold_start,
        _finite(ahead.value),
        _finite(ahead.low),
        _finite(ahead.high),
    )


def capacity(figure: str, h: Hourly, horizon_h: int = WEEK_H) -> ForecastOut:
    k = h.known()
    if len(k.t) < 2:
        return ForecastOut(figure, horizon_h, None, None, None, None, True)
    holt = fc.holt(k.v, horizon_h)
    linear = fc.ols(k.t, k.v).at(float(k.t[-1]) + horizon_h * HOUR_S)
    peak = max(holt.value, linear.value, float(np.max(k.v[-min(len(k.v), WEEK_H) :])))
    return ForecastOut(
        figure,
        horizon_h,
        _finite(holt.value),
        _finite(holt.low),
        _finite(holt.high),
        _finite(peak),
        holt.cold_start or len(k.t) < COLD_START_HOURS,
    )


def anomalies(figure: str, h: Hourly, last_hours: int = WEEK_H) -> list[Anomaly]:
    k = h.known()
    if len(k.t) < COLD_START_HOURS:
        return []
    scores = fc.mad_scores(k.v)
    recent = k.t >= k.t[-1] - last_hours * HOUR_S
    hits = np.flatnonzero(recent & (np.abs(scores) > fc.ANOMALY_SCORE) & np.isfinite(scores))
    return [Anomaly(figure, float(k.t[i]), float(k.v[i]), round(float(scores[i]), 2)) for i in hits]


def scaling(cpu: Hourly | None, requests: Hourly, replicas: int = 1) -> ScalingOut:
    """Seed 002's predict_scaling_needs, with the replica count ceil(n x peak / target)."""
    basis = "cpu" if cpu is not None and len(cpu.known().t) >= 2 else "requests"
    series = cpu if basis == "cpu" and cpu is not None else requests
    t = trend(series)
    if t.change_per_week is None:
        return ScalingOut("maintain", replicas, replicas, f"{basis}: not enough history")
    action = "maintain"
    if t.change_per_week > TREND_PER_WEEK:
        action = "scale_up"
    elif t.change_per_week < -TREND_PER_WEEK:
        action = "scale_down"
    recommended = replicas
    if basis == "cpu":
        peak = capacity("cpu", series).peak
        if peak is not None and peak > 0:
            plan = fc.scaling(replicas, peak / 100, TARGET_UTILISATION)
            recommended = plan.recommended
    return ScalingOut(
        action, replicas, recommended, f"{basis} trend {t.change_per_week:+.1%} a week"
    )


def issues(
    request_trend: TrendOut,
    error_rate: Hourly,
    error_target_pct: float,
    budget_exhaustion_hours: float | None,
    period_left_hours: float,
) -> list[str]:
    """Plain sentences about what is coming (seed 002's identify_potential_issues)."""
    out = []
    if budget_exhaustion_hours is not None and budget_exhaustion_hours < period_left_hours:
        out.append(
            f"the availability error budget runs out in {budget_exhaustion_hours:.0f} h at "
            "the current burn rate, before the period ends"
        )
    recent = error_rate.known()
    if len(recent.v):
        last_day = recent.v[-min(24, len(recent.v)) :]
        if float(np.mean(last_day)) > error_target_pct:
            out.append(
                f"the error rate over the last day ({float(np.mean(last_day)):.2f} %) is above "
                f"the target {error_target_pct:g} %"
            )
    if request_trend.direction == "rising" and request_trend.change_per_week is not None:
        out.append(f"requests grow {request_trend.change_per_week:+.0%} a week")
    return out


def insights(
    requests: Hourly,
    error_rate: Hourly,
    cpu: Hourly | None,
    *,
    error_target_pct: float,
    budget_exhaustion_hours: float | None,
    period_left_hours: float,
    replicas: int = 1,
) -> Insights:
    t = trend(requests)
    figures: Sequence[tuple[str, Hourly | None]] = (("requests", requests), ("cpu", cpu))
    return Insights(
        trend=t,
        capacity_forecast=[capacity(name, h) for name, h in figures if h is not None],
        scaling_recommendation=scaling(cpu, requests, replicas),
        potential_issues=issues(
            t, error_rate, error_target_pct, budget_exhaustion_hours, period_left_hours
        ),
        anomalies=[
            *anomalies("requests", requests),
            *anomalies("error_rate", error_rate),
            *([] if cpu is None else anomalies("cpu", cpu)),
        ],
    )
