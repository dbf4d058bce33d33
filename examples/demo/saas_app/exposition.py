"""Running totals of the simulated metrics, exposed through prometheus_client's own registry."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from . import families as f
from .simulation import Key, Tick


class Totals(Collector):
    """Cumulative counters and histograms and the latest gauges, built by adding ticks."""

    def __init__(self) -> None:
        self.counters: dict[str, dict[Key, float]] = {}
        self.buckets: dict[str, dict[Key, list[int]]] = {}  # per bucket, not cumulative
        self.sums: dict[str, dict[Key, float]] = {}
        self.gauges: dict[str, dict[Key, float]] = {}

    def add(self, tick: Tick) -> None:
        for name, series in tick.counters.items():
            totals = self.counters.setdefault(name, {})
            for key, value in series.items():
                totals[key] = totals.get(key, 0.0) + value
        for name, observed in tick.histograms.items():
            buckets = self.buckets.setdefault(name, {})
            sums = self.sums.setdefault(name, {})
            for key, delta in observed.items():
                held = buckets.setdefault(key, [0] * len(delta.counts))
                for i, count in enumerate(delta.counts):
                    held[i] += count
                sums[key] = sums.get(key, 0.0) + delta.total
        for name, series in tick.gauges.items():
            self.gauges.setdefault(name, {}).update(series)

    def collect(self) -> Iterator[Metric]:
        for family in f.FAMILIES:
            if family.kind == "counter":
                counter = CounterMetricFamily(family.name, family.help, labels=family.labels)
                for key, value in sorted(self.counters.get(family.name, {}).items()):
                    counter.add_metric(key, value)
                yield counter
            elif family.kind == "gauge":
                gauge = GaugeMetricFamily(family.name, family.help, labels=family.labels)
                for key, value in sorted(self.gauges.get(family.name, {}).items()):
                    gauge.add_metric(key, value)
                yield gauge
            else:
                yield self._histogram(family)

    def _histogram(self, family: f.Family) -> HistogramMetricFamily:
        histogram = HistogramMetricFamily(family.name, family.help, labels=family.labels)
        bounds = [repr(float(b)) for b in family.buckets] + ["+Inf"]
        sums = self.sums.get(family.name, {})
        for key, counts in sorted(self.buckets.get(family.name, {}).items()):
            cumulative, running = [], 0
            for bound, count in zip(bounds, counts, strict=True):
                running += count
                cumulative.append((bound, float(running)))
            histogram.add_metric(key, cumulative, sum_value=sums.get(key, 0.0))
        return histogram


def new_registry(totals: Totals) -> CollectorRegistry:
    """Return a registry of its own holding only totals (no process or platform metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(totals)
    return registry


def render(registry: CollectorRegistry, accept: str) -> tuple[bytes, str]:
    """Return the body and content type for a scrape: OpenMetrics if asked for, else text 0.0.4."""
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type
