"""The metric side of a running tenantwatch: store, query backend, scrapes and pushes.

`build_metrics` only constructs; `MetricsRuntime.start()` opens the store (which locks its
directory), starts the flusher, the push refresher, the remote-write forwarder (remote
backend) and the scrape loops; `stop()` ends them in reverse order and closes the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

import structlog

from tenantwatch.config.metrics_model import MetricsConfig, ScrapeConfig
from tenantwatch.config.model import Config
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.admission import Admission, series_gate
from tenantwatch.metrics.backend import EmbeddedBackend, QueryBackend
from tenantwatch.metrics.discovery.jobs import ProviderFactory
from tenantwatch.metrics.discovery.manager import DiscoveryManager
from tenantwatch.metrics.http_auth import HttpAuth, auth_from_config, resolve_secret
from tenantwatch.metrics.limits import IngestLimits, SeriesLimits
from tenantwatch.metrics.pushgateway import PushGateway
from tenantwatch.metrics.rejections import Rejections
from tenantwatch.metrics.remote import Auth, BasicAuth, BearerToken, RemoteBackend
from tenantwatch.metrics.remote_forward import RemoteWriteForwarder
from tenantwatch.metrics.retention import TenantRetention
from tenantwatch.metrics.scrape import ScrapeManager
from tenantwatch.metrics.scrape_targets import ScrapeJob
from tenantwatch.metrics.store import MetricStore
from tenantwatch.types import Labels, Sample

log = structlog.get_logger(__name__)

TenantTiers = Callable[[], Awaitable[Mapping[str, str]]]
RETENTION_REFRESH_S = 60.0
# Threads that unpack and parse pushed and remote-written bodies: at most this many
# requests are parsed at once, the others wait their turn (holding only their bodies).
PARSER_THREADS = 2
P = ParamSpec("P")
R = TypeVar("R")


class ForwardingAppender:
    """Writes to the store and queues the same samples for remote-write."""

    def __init__(self, store: MetricStore, forwarder: RemoteWriteForwarder) -> None:
        self.store = store
        self.forwarder = forwarder

    def append(self, labels: Labels, t: int, v: float) -> int:
        ref = self.store.append(labels, t, v)
        self.forwarder.enqueue(labels, t, v)
        return ref

    def append_ref(self, ref: int, t: int, v: float) -> None:
        self.store.append_ref(ref, t, v)  # raises UnknownSeriesRef first for a dropped ref
        self.forwarder.enqueue(self.store.labels_of(ref), t, v)

    def append_refs(self, refs: Sequence[int], t: int, vals: Sequence[float]) -> None:
        self.store.append_refs(refs, t, vals)  # all or nothing
        labels_of = self.store.labels_of
        self.forwarder.enqueue_many((labels_of(r), t, v) for r, v in zip(refs, vals, strict=True))

    def labels_of(self, ref: int) -> Labels:
        return self.store.labels_of(ref)

    @property
    def label_pairs(self) -> dict[tuple[str, str], tuple[str, str]]:
        return self.store.label_pairs

    def append_many(self, samples: Iterable[Sample], *, durable: bool = False) -> int:
        batch = list(samples)
        written = self.store.append_many(batch, durable=durable)
        self.forwarder.enqueue_many(batch)
        return written

    async def append_many_durable(
        self, samples: Iterable[Sample], *, admit: Admission | None = None
    ) -> int:
        batch = list(samples)
        written = await self.store.append_many_durable(batch, admit=admit)
        self.forwarder.enqueue_many(batch)
        return written


def remote_auth(auth: HttpAuth | None) -> Auth:
    """The remote backend's credentials, with files read now. Raise CredentialsError."""
    if auth is None:
        return None
    if auth.scheme == "Basic":
        return BasicAuth(auth.username or "", resolve_secret(auth))
    return BearerToken(resolve_secret(auth), scheme=auth.scheme)


class MetricsRuntime:
    def __init__(
        self,
        *,
        config: MetricsConfig,
        store: MetricStore,
        appender: MetricStore | ForwardingAppender,
        queries: QueryBackend,
        scrapes: ScrapeManager,
        push: PushGateway,
        retention: TenantRetention,
        forwarder: RemoteWriteForwarder | None = None,
        tenant_tiers: TenantTiers | None = None,
        series_limits: SeriesLimits | None = None,
        discovery: DiscoveryManager | None = None,
        scrape_configs: Sequence[ScrapeConfig] = (),
    ) -> None:
        self.config = config
        self.discovery = discovery
        self._scrape_configs = list(scrape_configs)
        self.limits = IngestLimits.of(config.limits)
        self.series_limits = series_limits
        self.rejections = Rejections()
        self._remote_write_admission = Admission(series=series_limits, duplicates=True)
        self._parser: ThreadPoolExecutor | None = None
        self.store = store
        self.appender = appender
        self.queries = queries
        self.scrapes = scrapes
        self.push = push
        self.retention = retention
        self.forwarder = forwarder
        self.tenant_tiers = tenant_tiers
        self.running = False
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Open the store and start every background task. Raise if the store is locked."""
        if self.running:
            return
        await self.refresh_retention()
        await asyncio.to_thread(self.store.open)
        loaded = await asyncio.to_thread(self.push.load)
        self._parser = ThreadPoolExecutor(PARSER_THREADS, thread_name_prefix="ingest-parser")
        self._stop = asyncio.Event()
        background = {
            "metrics flusher": self.store.run_flusher(self._stop),
            "push refresher": self.push.run_refresher(self._stop),
            "retention refresher": self._refresh_retention_forever(),
        }
        if self.forwarder is not None:
            background["remote-write forwarder"] = self.forwarder.run(self._stop)
        self._tasks = [asyncio.create_task(c, name=n) for n, c in background.items()]
        await self.scrapes.start()
        if self.discovery is not None:
            await self.discovery.apply(discovered_jobs(self._scrape_configs))
        self.running = True
        log.info(
            "metrics started",
            backend=self.config.backend,
            targets=len(self.scrapes.targets),
            push_groups=loaded,
        )

    async def stop(self) -> None:
        """Stop scraping and pushing, flush and close the store."""
        if not self.running:
            return
        self.running = False
        if self.discovery is not None:
            await self.discovery.stop()
        await self.scrapes.stop()
        self._stop.set()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.error("metrics task failed", error=repr(result))
        self._tasks = []
        if self._parser is not None:
            self._parser.shutdown(wait=False, cancel_futures=True)
            self._parser = None
        await asyncio.to_thread(self.store.close)
        if isinstance(self.queries, RemoteBackend):
            await self.queries.close()

    async def write(self, samples: list[Sample]) -> int:
        """Store samples durably (they survive a crash once this returns)."""
        return await self.appender.append_many_durable(samples)

    async def remote_write(self, samples: list[Sample]) -> int:
        """Store remote-written samples durably, all or none: limits.Rejected when they
        would pass a tenant's series limit or overwrite a stored sample with another
        value."""
        return await self.appender.append_many_durable(samples, admit=self._remote_write_admission)

    async def parse(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """fn(*args, **kwargs) in a parser thread, so the event loop stays free."""
        if self._parser is None:
            raise RuntimeError("the metric side is not started")
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._parser, call)

    async def reload(self, config: Config) -> None:
        """Take a reloaded config: scrape jobs (unchanged targets keep scraping), scrape and
        ingest limits, and the series limits' defaults. Where the store lives and which
        backend answers queries need a restart; a change there is logged and ignored."""
        fixed = ("backend", "url", "data_dir", "flush_interval", "remote_write_url")
        changed = [f for f in fixed if getattr(config.metrics, f) != getattr(self.config, f)]
        if changed:
            log.warning("metrics settings need a restart to change", settings=changed)
        else:
            self.config = config.metrics
        self.limits = IngestLimits.of(config.metrics.limits)
        if self.series_limits is not None:
            self.series_limits.default = config.metrics.limits.max_series
            self.series_limits.overrides = {
                t.id: t.limits.max_series for t in config.tenants if t.limits.max_series
            }
            await self.refresh_retention()
        await self.scrapes.set_jobs(scrape_jobs(config))
        self._scrape_configs = list(config.scrape_configs)
        if self.discovery is not None and self.running:
            await self.discovery.apply(discovered_jobs(self._scrape_configs))

    async def refresh_retention(self) -> None:
        """Read every tenant's tier again, for retention and series limits."""
        if self.tenant_tiers is None:
            return
        try:
            tiers = await self.tenant_tiers()
        except Exception as exc:  # keep the last known retention; try again later
            log.warning("cannot read tenant tiers for retention", error=str(exc))
            return
        self.retention.update(tiers)
        if self.series_limits is not None:
            self.series_limits.update(tiers)

    async def _refresh_retention_forever(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), RETENTION_REFRESH_S)
            if not self._stop.is_set():
                await self.refresh_retention()


def scrape_jobs(config: Config) -> list[ScrapeJob]:
    """The scrape jobs of a validated config."""
    return [ScrapeJob.of(job, config.metrics) for job in config.scrape_configs]


def discovered_jobs(configs: Sequence[ScrapeConfig]) -> list[ScrapeConfig]:
    """The jobs for service discovery: without their static_configs, which the scrape
    manager holds itself (each job's static groups would otherwise come twice)."""
    return [job.model_copy(update={"static_configs": []}) for job in configs]


def store_directory(data_dir: Path, config: MetricsConfig) -> Path:
    return config.data_dir if config.data_dir is not None else data_dir / "metrics"


def build_metrics(
    data_dir: Path,
    config: Config,
    tiers: TierCatalog,
    *,
    tenant_tiers: TenantTiers | None = None,
    config_dir: Path = Path("."),
    environ: Mapping[str, str] | None = None,
) -> MetricsRuntime:
    """Construct the metric side; nothing is opened until start(). Relative file_sd paths
    start at config_dir; in-cluster Kubernetes discovery reads environ."""
    metrics = config.metrics
    retention = TenantRetention(tiers, sla_history_s=config.sla.history_retention)
    retention.update({t.id: t.tier for t in config.tenants})
    series_limits = SeriesLimits(
        tiers,
        default=metrics.limits.max_series,
        overrides={t.id: t.limits.max_series for t in config.tenants if t.limits.max_series},
    )
    series_limits.update({t.id: t.tier for t in config.tenants})
    store = MetricStore(
        store_directory(data_dir, metrics),
        flush_interval_s=metrics.flush_interval,
        retention_ms=retention,
    )
    queries: QueryBackend
    forwarder: RemoteWriteForwarder | None = None
    appender: MetricStore | ForwardingAppender = store
    if metrics.backend == "remote":
        assert metrics.url is not None
        auth = remote_auth(auth_from_config(metrics.auth))
        # the remote backend engineer's client; it answers every query the engine would
        queries = RemoteBackend(metrics.url, auth=auth)
        if metrics.forwards_writes:
            write_url = metrics.remote_write_url or metrics.url.rstrip("/") + "/api/v1/write"
            forwarder = RemoteWriteForwarder(write_url, auth)
            appender = ForwardingAppender(store, forwarder)
    else:
        queries = EmbeddedBackend(
            store,
            max_samples=config.metrics.query.max_samples,
            max_concurrency=config.metrics.query.max_concurrency,
        )
    scrapes = ScrapeManager(
        appender, jobs=scrape_jobs(config), gate=series_gate(series_limits, store.head)
    )
    push = PushGateway(
        appender,
        store_directory(data_dir, metrics) / "push",
        refresh_interval=metrics.scrape_interval,
        admission=Admission(series=series_limits),
    )
    return MetricsRuntime(
        config=metrics,
        store=store,
        appender=appender,
        queries=queries,
        scrapes=scrapes,
        push=push,
        retention=retention,
        forwarder=forwarder,
        tenant_tiers=tenant_tiers,
        series_limits=series_limits,
        discovery=DiscoveryManager(
            scrapes.update_groups,
            factory=ProviderFactory(base_dir=config_dir, env=dict(environ or {})),
        ),
        scrape_configs=config.scrape_configs,
    )
