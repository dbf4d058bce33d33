"""Error budgets and burn rates, as the SRE Workbook (chapter 5), Sloth and Pyrra compute
them. T is the target (0.999), P the period, B = 1 - T the error budget fraction."""

from __future__ import annotations

import math
from dataclasses import dataclass


def budget_fraction(target: float) -> float:
    if not 0 < target < 1:
        raise ValueError(f"an SLO target must be between 0 and 1 (exclusive), got {target}")
    return 1 - target


def burn_rate(error_ratio: float, target: float) -> float:
    """How fast the budget is spent: 1 spends exactly the budget over the period."""
    return error_ratio / budget_fraction(target)


def budget_remaining(error_ratio: float, target: float) -> float:
    """1 - e(P)/B: the share of the period's budget left; negative when overspent."""
    return 1 - burn_rate(error_ratio, target)


def allowed_downtime_s(target: float, period_s: float) -> float:
    """The downtime a time-based objective allows over a period (0.999 over 30 d: 43.2 min)."""
    return budget_fraction(target) * period_s


def exhaustion_s(period_s: float, rate: float) -> float:
    """Time to spend a whole period's budget at a constant burn rate (P / BR)."""
    return math.inf if rate <= 0 else period_s / rate


def forecast_exhaustion_s(remaining: float, period_s: float, rate: float) -> float:
    """Time until the remaining budget is spent at the current burn rate."""
    if remaining <= 0:
        return 0.0
    return math.inf if rate <= 0 else remaining * period_s / rate


def burn_factor(budget_share: float, period_s: float, long_window_s: float) -> float:
    """The burn rate at which `budget_share` of the period's budget goes in the long window
    (Sloth: 2 % in 1 h of 30 d is 14.4)."""
    return budget_share * period_s / long_window_s


@dataclass(frozen=True)
class BurnAlert:
    severity: str  # "page" or "ticket"
    long_window_s: int
    short_window_s: int
    budget_share: float
    factor: float
    feasible: bool  # False: even 100 % errors burn slower, it can never fire


# The Workbook's multiwindow, multi-burn-rate table (short window = long / 12)
WINDOWS: tuple[tuple[str, int, int, float], ...] = (
    ("page", 3600, 300, 0.02),
    ("page", 6 * 3600, 1800, 0.05),
    ("ticket", 86400, 2 * 3600, 0.10),
    ("ticket", 3 * 86400, 6 * 3600, 0.10),
)


def burn_alerts(target: float, period_s: float) -> list[BurnAlert]:
    """The four alerts for an objective, each with its factor and whether it can fire."""
    ceiling = 1 / budget_fraction(target)
    out = []
    for severity, long_s, short_s, share in WINDOWS:
        factor = burn_factor(share, period_s, long_s)
        out.append(BurnAlert(severity, long_s, short_s, share, factor, factor < ceiling))
    return out
