"""ScrapeCache: labels, timestamps, staleness and the all-or-nothing rule, on a real store."""

from __future__ import annotations

import math

import pytest

from tenantwatch.metrics.exposition import ExpositionError
from tenantwatch.metrics.scrape_cache import ScrapeCache
from tenantwatch.metrics.scrape_labels import target_labels
from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.model import Matcher, is_stale, labels_of
from tenantwatch.types import Labels

TARGET = target_labels("app", "app-1:9100", {"tenant": "acme"})
T0 = 1_700_000_000_000


def stored(store: MetricStore, name: str) -> dict[Labels, list[tuple[int, float]]]:
    found = store.select([Matcher.of("__name__", "=", name)], 0, 2**62)
    return {
        s.labels: [(int(t), float(v)) for t, v in zip(s.ts, s.vals, strict=True)] for s in found
    }


def series(name: str, **labels: str) -> Labels:
    return labels_of({"__name__": name, **dict(TARGET), **labels})


@pytest.fixture
def store() -> MetricStore:
    s = MetricStore(None)
    s.open()
    return s


def test_samples_get_the_scrape_time_and_the_target_labels(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    body = '# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 7\n'
    result = cache.ingest(store, body, T0, openmetrics=False)
    assert (result.scraped, result.added, result.stale) == (1, 1, 0)
    assert stored(store, "http_requests_total") == {
        series("http_requests_total", code="200"): [(T0, 7.0)]
    }


def test_a_repeated_scrape_appends_to_the_same_series_without_adding(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    body = 'a{x="1"} 1\na{x="2"} 2\n'
    cache.ingest(store, body, T0, openmetrics=False)
    result = cache.ingest(store, 'a{x="1"} 10\na{x="2"} 20\n', T0 + 15_000, openmetrics=False)
    assert (result.scraped, result.added) == (2, 0)
    assert stored(store, "a")[series("a", x="2")] == [(T0, 2.0), (T0 + 15_000, 20.0)]


def test_a_series_missing_from_the_next_scrape_gets_a_stale_marker(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    cache.ingest(store, 'a{x="1"} 1\na{x="2"} 2\n', T0, openmetrics=False)
    result = cache.ingest(store, 'a{x="1"} 1\n', T0 + 15_000, openmetrics=False)
    assert result.stale == 1
    points = stored(store, "a")[series("a", x="2")]
    assert points[0] == (T0, 2.0)
    assert points[1][0] == T0 + 15_000 and is_stale(points[1][1])
    # it is marked once, not again on every later scrape
    result = cache.ingest(store, 'a{x="1"} 1\n', T0 + 30_000, openmetrics=False)
    assert result.stale == 0


def test_a_series_that_returns_continues_after_its_stale_marker(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    cache.ingest(store, "a 1\nb 1\n", T0, openmetrics=False)
    cache.ingest(store, "a 1\n", T0 + 15_000, openmetrics=False)
    result = cache.ingest(store, "a 1\nb 5\n", T0 + 30_000, openmetrics=False)
    assert result.added == 1  # new to the cache again, but the same stored series
    points = stored(store, "b")[series("b")]
    assert [t for t, _ in points] == [T0, T0 + 15_000, T0 + 30_000]
    assert points[-1][1] == 5.0


def test_a_failed_scrape_marks_every_previous_series_stale(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    cache.ingest(store, "a 1\nb 2\n", T0, openmetrics=False)
    assert cache.fail(store, T0 + 15_000) == 2
    for name in ("a", "b"):
        [(t, v)] = stored(store, name)[series(name)][1:]
        assert t == T0 + 15_000 and is_stale(v)
    assert cache.fail(store, T0 + 30_000) == 0


def test_a_malformed_body_stores_nothing_and_names_the_line(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    cache.ingest(store, "a 1\n", T0, openmetrics=False)
    with pytest.raises(ExpositionError) as info:
        cache.ingest(store, "a 2\nb 3\nc{oops 4\n", T0 + 15_000, openmetrics=False)
    assert info.value.line == 3
    assert stored(store, "a")[series("a")] == [(T0, 1.0)]
    assert stored(store, "b") == {}


def test_an_explicit_timestamp_is_honoured_and_never_marked_stale(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    cache.ingest(store, f"a 1 {T0 - 60_000}\nb 2\n", T0, openmetrics=False)
    assert stored(store, "a")[series("a")] == [(T0 - 60_000, 1.0)]
    result = cache.ingest(store, "b 2\n", T0 + 15_000, openmetrics=False)
    assert result.stale == 0
    assert len(stored(store, "a")[series("a")]) == 1


def test_without_honor_timestamps_the_scrape_time_is_used(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=False)
    cache.ingest(store, f"a 1 {T0 - 60_000}\n", T0, openmetrics=False)
    assert stored(store, "a")[series("a")] == [(T0, 1.0)]


def test_openmetrics_timestamps_are_seconds(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    body = f"# TYPE a gauge\na 1 {(T0 - 5000) / 1000}\n# EOF\n"
    cache.ingest(store, body, T0, openmetrics=True)
    assert stored(store, "a")[series("a")] == [(T0 - 5000, 1.0)]


def test_honor_labels_keeps_the_exposed_job(store: MetricStore) -> None:
    exposed = 'pushed{job="batch",instance=""} 3\n'
    ScrapeCache(TARGET, honor_labels=True, honor_timestamps=True).ingest(
        store, exposed, T0, openmetrics=False
    )
    [labels] = stored(store, "pushed")
    assert dict(labels)["job"] == "batch"
    assert dict(labels)["instance"] == "app-1:9100"


def test_clashing_labels_are_exported_without_honor_labels(store: MetricStore) -> None:
    ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True).ingest(
        store, 'x{job="batch",tenant="globex"} 1\n', T0, openmetrics=False
    )
    [labels] = stored(store, "x")
    assert dict(labels)["tenant"] == "acme"
    assert dict(labels)["exported_tenant"] == "globex"
    assert dict(labels)["exported_job"] == "batch"


def test_special_values_are_stored(store: MetricStore) -> None:
    ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True).ingest(
        store, "a NaN\nb +Inf\nc -Inf\n", T0, openmetrics=False
    )
    assert math.isnan(stored(store, "a")[series("a")][0][1])
    assert stored(store, "b")[series("b")][0][1] == math.inf
    assert stored(store, "c")[series("c")][0][1] == -math.inf


def test_a_series_dropped_by_retention_is_appended_again_by_labels(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    cache.ingest(store, "a 1\n", T0, openmetrics=False)
    store.apply_retention(T0 + 30 * 86_400_000)  # everything is older than 15 d
    assert stored(store, "a") == {}
    cache.ingest(store, "a 2\n", T0 + 30 * 86_400_000, openmetrics=False)
    assert stored(store, "a") == {series("a"): [(T0 + 30 * 86_400_000, 2.0)]}


def test_the_cache_holds_only_the_last_scrapes_series(store: MetricStore) -> None:
    cache = ScrapeCache(TARGET, honor_labels=False, honor_timestamps=True)
    for i in range(5):
        cache.ingest(
            store, "".join(f'a{{i="{i}{j}"}} 1\n' for j in range(100)), T0 + i, openmetrics=False
        )
    assert len(cache) == 100
