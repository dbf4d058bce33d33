"""tenantwatch's own metrics, on an explicit prometheus_client registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch import __version__


class PoolCollector(Collector):
    """Database connection pool figures, read at scrape time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool: Any = self._engine.pool
        figures = {
            "size": "configured pool size",
            "checkedout": "connections in use",
            "checkedin": "idle connections in the pool",
            "overflow": "connections beyond the pool size",
        }
        for attr, help_text in figures.items():
            method = getattr(pool, attr, None)
            if callable(method):
                yield GaugeMetricFamily(
                    f"tenantwatch_db_pool_{attr}",
                    f"Database pool: {help_text}.",
                    value=float(method()),
                )


class Telemetry:
    """The HTTP server's metrics. Route labels are route templates or "<unmatched>"
    (web/middleware.py route_template), never request paths."""

    def __init__(self, engine: AsyncEngine | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "tenantwatch_http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "tenantwatch_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "tenantwatch_http_requests_in_flight",
            "HTTP requests being answered.",
            registry=self.registry,
        )
        build = Gauge(
            "tenantwatch_build_info",
            "Always 1; labelled with the running version.",
            ["version"],
            registry=self.registry,
        )
        build.labels(__version__).set(1)
        # process_resident_memory_bytes and python_gc_collections_total, as the default
        # registry of Prometheus' Python client has them: memory after refused bodies
        ProcessCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        if engine is not None:
            self.registry.register(PoolCollector(engine))
