"""Counts of push and remote-write requests refused by a limit, and of their samples."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from tenantwatch.metrics.limits import REASONS, Rejected


class Rejections:
    """By reason (limits.REASONS): refused requests, and the samples they carried (when
    they were counted: a body refused for its size was never parsed)."""

    def __init__(self) -> None:
        self.requests = dict.fromkeys(REASONS, 0)
        self.samples = dict.fromkeys(REASONS, 0)
        self._lock = threading.Lock()

    def count(self, rejected: Rejected) -> None:
        with self._lock:
            self.requests[rejected.reason] = self.requests.get(rejected.reason, 0) + 1
            self.samples[rejected.reason] = self.samples.get(rejected.reason, 0) + rejected.samples

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        """(requests, samples) by reason, as they stand now."""
        with self._lock:
            return dict(self.requests), dict(self.samples)


class RejectionsCollector(Collector):
    """`tenantwatch_samples_rejected_total{reason}` and
    `tenantwatch_ingest_requests_rejected_total{reason}` for /metrics."""

    def __init__(self, rejections: Rejections) -> None:
        self.rejections = rejections

    def collect(self) -> Iterator[Metric]:
        samples = CounterMetricFamily(
            "tenantwatch_samples_rejected",
            "Pushed and remote-written samples refused (with their whole request), by the "
            "limit that refused them.",
            labels=["reason"],
        )
        requests = CounterMetricFamily(
            "tenantwatch_ingest_requests_rejected",
            "Push and remote-write requests refused by a limit, by the limit.",
            labels=["reason"],
        )
        by_request, by_sample = self.rejections.snapshot()
        for reason, value in by_sample.items():
            samples.add_metric([reason], value)
        for reason, value in by_request.items():
            requests.add_metric([reason], value)
        yield samples
        yield requests

    def describe(self) -> Iterator[Metric]:
        return iter(())
