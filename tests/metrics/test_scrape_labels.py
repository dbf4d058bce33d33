"""Prometheus' scrape labelling rules, offsets and schedule, as pure functions."""

from __future__ import annotations

import pytest

from tenantwatch.metrics.scrape_labels import (
    ACCEPT_HEADER,
    first_delay,
    next_tick,
    report_labels,
    report_values,
    sample_labels,
    scrape_offset,
    target_labels,
)
from tenantwatch.promql.model import labels_of

TARGET = target_labels("app", "10.0.0.1:9100", {"tenant": "acme"})


def test_target_labels_are_job_instance_and_static_labels() -> None:
    assert dict(TARGET) == {"job": "app", "instance": "10.0.0.1:9100", "tenant": "acme"}


def test_static_labels_may_override_job_and_instance() -> None:
    labels = target_labels("app", "10.0.0.1:9100", {"instance": "db-primary"})
    assert dict(labels)["instance"] == "db-primary"


def test_target_labels_are_added_to_an_exposed_series() -> None:
    exposed = labels_of({"__name__": "http_requests_total", "code": "200"})
    assert dict(sample_labels(exposed, TARGET, honor_labels=False)) == {
        "__name__": "http_requests_total",
        "code": "200",
        "job": "app",
        "instance": "10.0.0.1:9100",
        "tenant": "acme",
    }


def test_without_honor_labels_a_clashing_label_becomes_exported() -> None:
    exposed = labels_of({"__name__": "x", "job": "batch", "tenant": "globex"})
    labels = dict(sample_labels(exposed, TARGET, honor_labels=False))
    assert labels["job"] == "app"
    assert labels["exported_job"] == "batch"
    assert labels["tenant"] == "acme"
    assert labels["exported_tenant"] == "globex"


def test_exported_prefixes_stack_when_the_exported_name_is_taken() -> None:
    exposed = labels_of({"__name__": "x", "job": "a", "exported_job": "b"})
    labels = dict(sample_labels(exposed, TARGET, honor_labels=False))
    assert (labels["job"], labels["exported_job"], labels["exported_exported_job"]) == (
        "app",
        "b",
        "a",
    )


def test_with_honor_labels_the_exposed_labels_win() -> None:
    exposed = labels_of({"__name__": "x", "job": "batch", "tenant": "globex"})
    labels = dict(sample_labels(exposed, TARGET, honor_labels=True))
    assert labels["job"] == "batch"
    assert labels["tenant"] == "globex"
    assert labels["instance"] == "10.0.0.1:9100"
    assert "exported_job" not in labels


def test_an_equal_exposed_label_is_not_exported() -> None:
    exposed = labels_of({"__name__": "x"})
    assert sample_labels(exposed, TARGET, honor_labels=False) == labels_of(
        {"__name__": "x", **dict(TARGET)}
    )


def test_report_series_carry_the_target_labels() -> None:
    assert dict(report_labels("up", TARGET)) == {"__name__": "up", **dict(TARGET)}


def test_report_values_of_a_failed_scrape() -> None:
    values = dict(report_values(up=False, duration_s=1.5, scraped=0, added=0))
    assert values == {
        "up": 0.0,
        "scrape_duration_seconds": 1.5,
        "scrape_samples_scraped": 0.0,
        "scrape_samples_post_metric_relabeling": 0.0,
        "scrape_series_added": 0.0,
    }


def test_offsets_are_stable_and_spread_within_the_interval() -> None:
    offsets = [scrape_offset(f"http://host-{i}:9100/metrics", 15.0) for i in range(200)]
    assert offsets == [scrape_offset(f"http://host-{i}:9100/metrics", 15.0) for i in range(200)]
    assert all(0 <= o < 15.0 for o in offsets)
    # spread: every third of the interval gets a fair share
    for third in range(3):
        share = sum(1 for o in offsets if third * 5 <= o < (third + 1) * 5)
        assert 40 < share < 95


@pytest.mark.parametrize(
    ("now", "offset", "delay"),
    [(100.0, 4.0, 9.0), (105.0, 4.0, 4.0), (109.0, 4.0, 0.0), (110.0, 4.0, 14.0)],
)
def test_the_first_scrape_lands_on_the_targets_phase(
    now: float, offset: float, delay: float
) -> None:
    assert first_delay(now, 15.0, offset) == pytest.approx(delay)
    assert (now + delay) % 15.0 == pytest.approx(offset)


def test_missed_ticks_are_skipped_not_queued() -> None:
    assert next_tick(100.0, 100.5, 15.0) == 115.0
    assert next_tick(100.0, 147.0, 15.0) == 160.0
    assert next_tick(100.0, 90.0, 15.0) == 100.0


def test_the_accept_header_prefers_openmetrics_then_text_like_prometheus_3() -> None:
    parts = ACCEPT_HEADER.split(",")
    assert parts[0].startswith("application/openmetrics-text;version=1.0.0")
    assert "text/plain;version=0.0.4;q=0.3" in parts
    assert parts[-1] == "*/*;q=0.2"
