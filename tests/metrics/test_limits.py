"""Ingest limits: Prometheus' label-limit wording, Go's %g, series budgets per tenant."""

from __future__ import annotations

import math

import pytest

from tenantwatch.configuration import parse_config
from tenantwatch.domain.tiers import BUILTIN_TIERS, DEFAULT_MAX_SERIES, TierCatalog
from tenantwatch.metrics.limits import (
    IngestLimits,
    Rejected,
    SeriesLimits,
    check_label_limits,
    same_value,
)
from tenantwatch.promql.model import STALE_NAN, labels_of

LIMITS = IngestLimits(label_limit=4, label_name_length_limit=16, label_value_length_limit=20)


def test_label_sets_within_the_limits_pass() -> None:
    check_label_limits(labels_of({"__name__": "up", "job": "a" * 20, "x" * 16: "v"}), LIMITS)


def test_too_many_labels_is_refused_in_prometheus_words() -> None:
    labels = labels_of({"__name__": "up", "a": "1", "b": "2", "c": "3", "d": "4"})
    with pytest.raises(Rejected) as caught:
        check_label_limits(labels, LIMITS)
    assert str(caught.value) == ("label_limit exceeded (metric: up, number of labels: 5, limit: 4)")
    assert (caught.value.reason, caught.value.status) == ("label_limit", 400)


def test_a_long_label_name_is_refused_in_prometheus_words() -> None:
    with pytest.raises(Rejected) as caught:
        check_label_limits(labels_of({"__name__": "up", "n" * 17: "v"}), LIMITS)
    assert str(caught.value) == (
        "label_name_length_limit exceeded (metric: up, label name: nnnnnnnnnnnnnnnnn, "
        "length: 17, limit: 16)"
    )


def test_a_long_label_value_is_refused_quoted_and_cut_at_50() -> None:
    value = "v" * 60
    with pytest.raises(Rejected) as caught:
        check_label_limits(labels_of({"__name__": "up", "path": value}), LIMITS)
    assert str(caught.value) == (
        'label_value_length_limit exceeded (metric: up, label name: path, value: "'
        + "v" * 50
        + '", length: 60, limit: 20)'
    )
    assert caught.value.reason == "label_value_length_limit"


def test_lengths_are_counted_in_utf8_bytes_as_prometheus_counts_them() -> None:
    # 10 characters, 30 bytes
    with pytest.raises(Rejected, match="length: 30, limit: 20"):
        check_label_limits(labels_of({"__name__": "up", "v": "€" * 10}), LIMITS)
    check_label_limits(labels_of({"__name__": "up", "v": "é" * 10}), LIMITS)  # 20 bytes


def test_a_stale_marker_is_not_the_same_value_as_another_nan() -> None:
    assert same_value(math.nan, math.nan)
    assert not same_value(STALE_NAN, math.nan)
    assert not same_value(0.0, -0.0)
    assert same_value(2.0, 2.0)


def test_series_budgets_come_from_the_tier_and_a_tenants_own_override() -> None:
    config = parse_config(
        "tiers:\n"
        "  tiny: {max_series: 5}\n"
        "  bare: {}\n"
        "  pro-plus: {base: professional}\n"
        "tenants:\n"
        "  - {id: acme, name: Acme, tier: tiny}\n"
        "  - {id: bravo, name: Bravo, tier: basic, limits: {max_series: 7}}\n",
        "tw.yml",
        {},
    )
    catalog = TierCatalog.with_custom(config.custom_tiers())
    assert catalog.tiers["bare"].max_series == DEFAULT_MAX_SERIES
    assert catalog.tiers["pro-plus"].max_series == BUILTIN_TIERS["professional"].max_series
    limits = SeriesLimits(catalog, default=100, overrides={"bravo": 7})
    limits.update({"acme": "tiny", "bravo": "basic", "carol": "enterprise"})
    assert limits.by_tenant == {"acme": 5, "bravo": 7, "carol": 500_000}
    assert limits.tenant_of(labels_of({"__name__": "up", "tenant": "acme"})) == "acme"
    # unknown tenants and untenanted series share the default budget
    assert limits.tenant_of(labels_of({"__name__": "up", "tenant": "zed"})) is None
    assert limits.tenant_of(labels_of({"__name__": "up"})) is None


def test_built_in_tiers_keep_more_series_the_higher_they_are() -> None:
    basic, pro, ent = (BUILTIN_TIERS[n].max_series for n in ("basic", "professional", "enterprise"))
    assert 0 < basic < pro < ent
