"""Latency objectives from buckets, and quantiles as histogram_quantile gives them."""

from __future__ import annotations

import math

import pytest

from tenantwatch.sla.latency import quantile, share_within

BUCKETS = [(0.1, 50.0), (0.25, 80.0), (0.5, 95.0), (1.0, 99.0), (math.inf, 100.0)]


def test_share_within_a_bucket_bound_is_exact() -> None:
    assert share_within(BUCKETS, 0.5) == 0.95
    assert share_within(BUCKETS, 0.1) == 0.5


def test_share_within_a_bucket_is_interpolated() -> None:
    assert share_within(BUCKETS, 0.175) == pytest.approx(0.65)  # half way from 50 to 80
    assert share_within(BUCKETS, 0.05) == pytest.approx(0.25)  # the first bucket from 0
    assert share_within(BUCKETS, 5.0) == 0.99  # past the last finite bound


def test_no_observations_and_no_inf_bucket() -> None:
    assert share_within([(0.1, 0.0), (math.inf, 0.0)], 0.1) is None
    with pytest.raises(ValueError, match=r"\+Inf bucket"):
        share_within([(0.1, 5.0)], 0.1)


def test_quantiles_match_histogram_quantile() -> None:
    # rank 95 of 100 falls on the 0.5 bound; rank 90 is 2/3 into (0.25, 0.5]
    assert quantile(0.95, BUCKETS) == pytest.approx(0.5)
    assert quantile(0.9, BUCKETS) == pytest.approx(0.25 + 0.25 * (10 / 15))
    assert quantile(0.999, BUCKETS) == 1.0  # in the +Inf bucket: the last finite bound
    assert quantile(1.5, BUCKETS) == math.inf
