"""ScrapeCache with metric_relabel_configs, per-scrape limits and a series gate, on a real
store: what is stored, what a failed scrape leaves, and that repeated scrapes stay cached."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tenantwatch.metrics.relabel import RelabelRule, parse_rule
from tenantwatch.metrics.scrape_cache import ScrapeCache, ScrapeLimitExceeded
from tenantwatch.metrics.scrape_labels import target_labels
from tenantwatch.metrics.scrape_targets import ScrapeLimits
from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.model import Matcher, is_stale, labels_of
from tenantwatch.types import Labels

TARGET = target_labels("app", "app-1:9100", {"tenant": "acme"})
T0 = 1_700_000_000_000
BODY = 'go_goroutines 7\nhttp_requests_total{code="200",path="/a"} 3\nhttp_requests_total{code="500",path="/a"} 1\n'


@pytest.fixture
def store() -> MetricStore:
    s = MetricStore(None)
    s.open()
    return s


def rules(*specs: dict[str, object]) -> tuple[RelabelRule, ...]:
    return tuple(parse_rule(spec) for spec in specs)


def cache(
    relabel: Sequence[RelabelRule] = (),
    limits: ScrapeLimits = ScrapeLimits(),
    gate: object = None,
) -> ScrapeCache:
    return ScrapeCache(
        TARGET,
        honor_labels=False,
        honor_timestamps=True,
        metric_relabel=relabel,
        limits=limits,
        gate=gate,  # type: ignore[arg-type]
    )


def stored(store: MetricStore) -> dict[Labels, list[float]]:
    found = store.select([Matcher.of("__name__", "=~", ".+")], 0, 2**62)
    return {s.labels: [float(v) for v in s.vals] for s in found}


def names(store: MetricStore) -> set[str]:
    return {dict(labels)["__name__"] for labels in stored(store)}


def test_a_dropped_series_is_never_stored_and_counts_as_scraped_not_kept(
    store: MetricStore,
) -> None:
    c = cache(rules({"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"}))
    first = c.ingest(store, BODY, T0, openmetrics=False)
    assert (first.scraped, first.post_relabel, first.added) == (3, 2, 2)
    second = c.ingest(store, BODY.replace(" 3\n", " 4\n"), T0 + 15_000, openmetrics=False)
    assert (second.scraped, second.post_relabel, second.added) == (3, 2, 0)
    assert names(store) == {"http_requests_total"}
    assert c._fast  # the steady state still takes the one-pass path


def test_rules_see_the_target_labels_and_can_rewrite_and_drop_them(store: MetricStore) -> None:
    c = cache(
        rules(
            {"source_labels": ["tenant", "code"], "separator": "/", "target_label": "key"},
            {"action": "labeldrop", "regex": "path|instance"},
            {"source_labels": ["code"], "regex": "5..", "action": "drop"},
        )
    )
    c.ingest(store, BODY, T0, openmetrics=False)
    assert stored(store) == {
        labels_of({"__name__": "go_goroutines", "job": "app", "tenant": "acme", "key": "acme/"}): [
            7.0
        ],
        labels_of(
            {
                "__name__": "http_requests_total",
                "job": "app",
                "tenant": "acme",
                "code": "200",
                "key": "acme/200",
            }
        ): [3.0],
    }


def test_a_new_series_next_to_dropped_ones_is_stored(store: MetricStore) -> None:
    c = cache(rules({"source_labels": ["code"], "regex": "500", "action": "drop"}))
    c.ingest(store, BODY, T0, openmetrics=False)
    c.ingest(store, BODY, T0 + 15_000, openmetrics=False)
    result = c.ingest(
        store,
        BODY + 'http_requests_total{code="404",path="/a"} 2\n',
        T0 + 30_000,
        openmetrics=False,
    )
    assert (result.scraped, result.post_relabel, result.added) == (4, 3, 1)
    assert len(stored(store)) == 3


def test_over_the_sample_limit_the_scrape_fails_whole_and_stores_nothing(
    store: MetricStore,
) -> None:
    c = cache(limits=ScrapeLimits(sample_limit=2))
    with pytest.raises(ScrapeLimitExceeded, match=r"^sample limit exceeded$") as caught:
        c.ingest(store, BODY, T0, openmetrics=False)
    assert (caught.value.scraped, caught.value.kept) == (3, 3)
    assert stored(store) == {}


def test_the_sample_limit_counts_samples_after_metric_relabelling(store: MetricStore) -> None:
    c = cache(
        rules({"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"}),
        ScrapeLimits(sample_limit=2),
    )
    assert c.ingest(store, BODY, T0, openmetrics=False).post_relabel == 2


def test_a_scrape_over_the_limit_after_good_ones_marks_the_series_stale(
    store: MetricStore,
) -> None:
    c = cache(limits=ScrapeLimits(sample_limit=3))
    c.ingest(store, BODY, T0, openmetrics=False)
    with pytest.raises(ScrapeLimitExceeded):
        c.ingest(store, BODY + "extra 1\n", T0 + 15_000, openmetrics=False)
    c.fail(store, T0 + 15_000)
    assert "extra" not in names(store)
    values = stored(store)[labels_of({**dict(TARGET), "__name__": "go_goroutines"})]
    assert values[0] == 7.0 and is_stale(values[1])


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            ScrapeLimits(label_limit=4),
            "label_limit exceeded (metric: http_requests_total, number of labels: 6, limit: 4)",
        ),
        (
            ScrapeLimits(label_name_length_limit=7),  # __name__ counts, as in Prometheus
            "label_name_length_limit exceeded (metric: http_requests_total, label name: "
            "__name__, length: 8, limit: 7)",
        ),
        (
            ScrapeLimits(label_value_length_limit=18),
            "label_value_length_limit exceeded (metric: http_requests_total, label name: "
            '__name__, value: "http_requests_total", length: 19, limit: 18)',
        ),
    ],
)
def test_a_series_over_a_label_limit_fails_the_scrape_with_prometheus_message(
    store: MetricStore, limits: ScrapeLimits, message: str
) -> None:
    c = cache(limits=limits)
    body = 'http_requests_total{code="200",path="/a"} 3\n'
    for t in (T0, T0 + 15_000):  # the second time from the cached series
        with pytest.raises(ScrapeLimitExceeded) as caught:
            c.ingest(store, body, t, openmetrics=False)
        assert str(caught.value) == message
    assert stored(store) == {}


def test_a_rule_that_removes_the_name_fails_the_scrape(store: MetricStore) -> None:
    c = cache(rules({"action": "labeldrop", "regex": "__name__"}))
    with pytest.raises(ScrapeLimitExceeded, match=r"missing metric name \(__name__ label\)"):
        c.ingest(store, BODY, T0, openmetrics=False)


def test_the_gate_refuses_new_series_and_the_rest_is_stored(store: MetricStore) -> None:
    def gate(labels: Labels) -> str | None:
        return "no room" if dict(labels).get("code") == "500" else None

    c = cache(gate=gate)
    result = c.ingest(store, BODY, T0, openmetrics=False)
    assert (result.added, result.refused, result.refusal) == (2, 1, "no room")
    assert len(stored(store)) == 2
    again = c.ingest(store, BODY, T0 + 15_000, openmetrics=False)
    assert (again.added, again.refused) == (0, 1)
    assert all(len(v) == 2 for v in stored(store).values())
