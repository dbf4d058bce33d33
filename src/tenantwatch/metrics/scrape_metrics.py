"""The scrape manager's own metrics for /metrics: targets by health, dropped targets, scrapes,
failures and series refused by the tenant's series cap."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tenantwatch.metrics.scrape import ScrapeManager


class ScrapeCollector(Collector):
    """Read at scrape time from the running loops."""

    def __init__(self, manager: ScrapeManager) -> None:
        self.manager = manager

    def collect(self) -> Iterator[Metric]:
        loops = self.manager.loops()
        health: Counter[tuple[str, str]] = Counter()
        for loop in loops:
            state = "unknown" if loop.last is None else ("up" if loop.last.up else "down")
            health[(loop.target.job, state)] += 1
        targets = GaugeMetricFamily(
            "tenantwatch_scrape_targets",
            "Scrape targets by job and the health of their last scrape.",
            labels=["job", "health"],
        )
        for (job, state), count in sorted(health.items()):
            targets.add_metric([job, state], count)
        yield targets
        dropped = GaugeMetricFamily(
            "tenantwatch_scrape_targets_dropped",
            "Discovered targets that relabelling dropped (or that could not be built), by job.",
            labels=["job"],
        )
        for job, count in sorted(Counter(d.job for d in self.manager.dropped()).items()):
            dropped.add_metric([job], count)
        yield dropped
        scrapes = CounterMetricFamily(
            "tenantwatch_scrapes", "Scrapes made since the process started, by job.", labels=["job"]
        )
        failures = CounterMetricFamily(
            "tenantwatch_scrape_failures",
            "Scrapes that failed (up 0) since the process started, by job.",
            labels=["job"],
        )
        refused = CounterMetricFamily(
            "tenantwatch_scrape_series_refused",
            "Scraped series not stored because their tenant was at its series cap, by job "
            "(counted at each scrape that brought them).",
            labels=["job"],
        )
        by_job: dict[str, list[int]] = {}
        for loop in loops:
            counts = by_job.setdefault(loop.target.job, [0, 0, 0])
            counts[0] += loop.scrapes
            counts[1] += loop.failures
            counts[2] += loop.refused
        for job, (made, failed, refusals) in sorted(by_job.items()):
            scrapes.add_metric([job], made)
            failures.add_metric([job], failed)
            refused.add_metric([job], refusals)
        yield scrapes
        yield failures
        yield refused

    def describe(self) -> Iterator[Metric]:
        return iter(())
