"""The metric store's own metrics (series, samples, bytes per sample, WAL) for /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tenantwatch.metrics.store import StoreStats

PREFIX = "tenantwatch_metric_store_"


class HasStats(Protocol):
    def stats(self) -> StoreStats: ...


def store_families(stats: StoreStats) -> list[Metric]:
    """The metric families for one StoreStats reading."""

    def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
        return GaugeMetricFamily(PREFIX + name, doc, value=value)

    out: list[Metric] = [
        gauge("active_series", "Series held in the store's head.", stats.active_series),
        gauge("samples", "Samples held in the store's head.", stats.samples),
        gauge(
            "bytes_per_sample",
            "Memory of the head (samples, series, index) divided by its samples.",
            stats.bytes_per_sample,
        ),
        CounterMetricFamily(
            PREFIX + "samples_appended",
            "Samples appended since the process started.",
            value=stats.samples_appended,
        ),
        gauge("wal_bytes", "Bytes of write-ahead log segments on disk.", stats.wal_bytes),
        gauge("blocks", "Blocks on disk (older samples, compressed).", stats.blocks),
        gauge("block_samples", "Samples held in blocks on disk.", stats.block_samples),
        gauge("block_bytes", "Bytes of blocks on disk.", stats.block_bytes),
    ]
    if stats.last_flush is not None:
        out.append(
            gauge(
                "last_flush_timestamp_seconds",
                "When buffered samples were last written and fsynced.",
                stats.last_flush,
            )
        )
    if stats.last_checkpoint is not None:
        out.append(
            gauge(
                "last_checkpoint_timestamp_seconds",
                "When the last checkpoint was completed.",
                stats.last_checkpoint,
            )
        )
    return out


class StoreCollector(Collector):
    """Register on a CollectorRegistry: `registry.register(StoreCollector(store))`."""

    def __init__(self, store: HasStats) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        yield from store_families(self.store.stats())

    def describe(self) -> Iterator[Metric]:
        # Without describe() the registry would call collect() at registration time.
        return iter(())
