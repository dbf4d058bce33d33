"""Latency objectives from classic histogram buckets (cumulative counts by `le`).

"X % of requests within N ms" is histogram_fraction(0, N) and a p95 is
histogram_quantile(0.95): the PromQL engine's own bucket arithmetic (exact at bucket
bounds, linear inside a bucket), so a figure in a report equals the one a query shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tenantwatch.promql.histogram import bucket_fraction, bucket_quantile

Buckets = Sequence[tuple[float, float]]  # (le, cumulative count); +Inf holds the total


def _checked(buckets: Buckets) -> list[tuple[float, float]]:
    ordered = sorted(buckets)
    if not ordered or not math.isinf(ordered[-1][0]):
        raise ValueError("a histogram needs its +Inf bucket (the total count)")
    return ordered


def share_within(buckets: Buckets, threshold: float) -> float | None:
    """The share (0-1) of observations at or below threshold; None without observations."""
    share = bucket_fraction(-math.inf, threshold, _checked(buckets))
    return None if math.isnan(share) else share


def quantile(q: float, buckets: Buckets) -> float:
    """histogram_quantile(q, ...) over one histogram's buckets."""
    return bucket_quantile(q, _checked(buckets))[0]
