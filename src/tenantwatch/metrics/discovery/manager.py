"""Runs the discovery providers of every scrape job and hands each job's groups to scraping.

The latest groups are kept per (job, provider, source). After a change, `on_update(job,
groups)` is called with all of the job's groups, at most once per `debounce` seconds
(Prometheus: 5 s), so a burst of pod events costs one update. `apply` takes a new
configuration: providers whose job and section did not change keep running (and keep
their groups); the others stop, and new ones start.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from tenantwatch.config.discovery_model import FileSDConfig, HttpSDConfig, KubernetesSDConfig
from tenantwatch.config.metrics_model import ScrapeConfig, StaticConfig
from tenantwatch.metrics.discovery.file import FileProvider
from tenantwatch.metrics.discovery.http import HttpProvider
from tenantwatch.metrics.discovery.kubernetes.connection import SERVICE_ACCOUNT_DIR
from tenantwatch.metrics.discovery.kubernetes.provider import KubernetesProvider
from tenantwatch.metrics.discovery.provider import Provider, StaticProvider
from tenantwatch.metrics.target_groups import TargetGroup

log = structlog.get_logger(__name__)

OnUpdate = Callable[[str, list[TargetGroup]], Awaitable[None] | None]
SdConfig = FileSDConfig | HttpSDConfig | KubernetesSDConfig | tuple[StaticConfig, ...]


@dataclass(frozen=True, slots=True)
class ProviderKey:
    """One provider of one job: its section's kind and a digest of the section (secrets
    included, so a changed token restarts the provider; the digest keeps them out of a
    repr)."""

    job: str
    kind: str
    digest: str


@dataclass(slots=True)
class _Running:
    groups: dict[str, TargetGroup] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


def static_groups(configs: Sequence[StaticConfig]) -> list[TargetGroup]:
    """static_configs as groups sourced by index, as Prometheus' StaticConfig provider."""
    return [
        TargetGroup(
            str(i),
            tuple((("__address__", target),) for target in c.targets),
            tuple(sorted(c.labels.items())),
        )
        for i, c in enumerate(configs)
    ]


def provider_configs(job: ScrapeConfig) -> dict[ProviderKey, SdConfig]:
    """The providers a job needs, by key. A job always has its static provider (perhaps of
    no groups), so scraping hears of every job."""
    out: dict[ProviderKey, SdConfig] = {}
    static = tuple(job.static_configs)
    key = "[" + ",".join(c.model_dump_json() for c in static) + "]"
    out[ProviderKey(job.job_name, "static", _digest(key))] = static
    sections: list[tuple[str, Sequence[FileSDConfig | HttpSDConfig | KubernetesSDConfig]]] = [
        ("file", job.file_sd_configs),
        ("http", job.http_sd_configs),
        ("kubernetes", job.kubernetes_sd_configs),
    ]
    for kind, configs in sections:
        for config in configs:
            # the dump masks secrets: add their values, or two tokens would look the same
            dumped = config.model_dump_json() + repr(_secrets(config))
            out[ProviderKey(job.job_name, kind, _digest(dumped))] = config
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _secrets(config: FileSDConfig | HttpSDConfig | KubernetesSDConfig) -> tuple[str, ...]:
    if isinstance(config, FileSDConfig):
        return ()
    values = [config.bearer_token.get_secret_value() if config.bearer_token else ""]
    if config.basic_auth is not None and config.basic_auth.password is not None:
        values.append(config.basic_auth.password.get_secret_value())
    if config.authorization is not None and config.authorization.credentials is not None:
        values.append(config.authorization.credentials.get_secret_value())
    return tuple(values)


@dataclass(frozen=True, slots=True)
class ProviderFactory:
    """Builds the provider of a section. `base_dir` is where relative file_sd paths start
    (the config file's directory, as in Prometheus); `env` holds KUBERNETES_SERVICE_HOST
    and _PORT for in-cluster discovery (the entry point passes its environment)."""

    base_dir: Path = Path(".")
    env: Mapping[str, str] = field(default_factory=dict)
    file_poll_interval: float = 1.0
    service_account_dir: Path = SERVICE_ACCOUNT_DIR

    def __call__(self, config: SdConfig) -> Provider:
        if isinstance(config, tuple):
            return StaticProvider(static_groups(config))
        if isinstance(config, FileSDConfig):
            return FileProvider(
                config, base_dir=self.base_dir, poll_interval=self.file_poll_interval
            )
        if isinstance(config, HttpSDConfig):
            return HttpProvider(config)
        return KubernetesProvider(config, env=self.env, account_dir=self.service_account_dir)


class DiscoveryManager:
    def __init__(
        self,
        on_update: OnUpdate,
        *,
        debounce: float = 5.0,
        factory: Callable[[SdConfig], Provider] | None = None,
        restart_delay: float = 5.0,
    ) -> None:
        self.on_update = on_update
        self.debounce = debounce
        self.factory = factory or ProviderFactory()
        self.restart_delay = restart_delay
        self._running: dict[ProviderKey, _Running] = {}
        self._jobs: list[str] = []
        self._dirty: dict[str, None] = {}
        self._changed = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None

    async def apply(self, scrape_configs: Sequence[ScrapeConfig]) -> None:
        """Run exactly the providers these jobs need; unchanged ones keep running. Jobs that
        are gone get one last update with no groups."""
        wanted: dict[ProviderKey, SdConfig] = {}
        for job in scrape_configs:
            wanted.update(provider_configs(job))
        for key in [k for k in self._running if k not in wanted]:
            await self._stop(key)
            self._mark(key.job)
        for key, config in wanted.items():
            if key not in self._running:
                self._start(key, config)
        jobs = [job.job_name for job in scrape_configs]
        for job_name in self._jobs:
            if job_name not in jobs:
                self._mark(job_name)
        self._jobs = jobs
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_loop())

    async def stop(self) -> None:
        """Stop every provider and the sender; no update is called after this returns."""
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
            self._sender = None
        for key in list(self._running):
            await self._stop(key)

    def groups(self, job: str) -> list[TargetGroup]:
        """The job's latest groups, provider by provider (the order of the config)."""
        return [
            group
            for key, running in self._running.items()
            if key.job == job
            for group in running.groups.values()
        ]

    def _start(self, key: ProviderKey, config: SdConfig) -> None:
        running = _Running()
        self._running[key] = running
        running.task = asyncio.create_task(self._run(key, config, running))

    async def _stop(self, key: ProviderKey) -> None:
        task = self._running.pop(key).task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self, key: ProviderKey, config: SdConfig, running: _Running) -> None:
        def send(groups: Sequence[TargetGroup]) -> None:
            for group in groups:
                running.groups[group.source] = group
            self._mark(key.job)

        while True:
            try:
                await self.factory(config).run(send)
                return
            except asyncio.CancelledError:
                raise
            except Exception:  # a provider's bug must not end discovery for the job
                log.exception("discovery_provider_failed", job=key.job, kind=key.kind)
            await asyncio.sleep(self.restart_delay)

    def _mark(self, job: str) -> None:
        self._dirty[job] = None
        self._changed.set()

    async def _send_loop(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            jobs, self._dirty = list(self._dirty), {}
            for job in jobs:
                groups = self.groups(job) if job in self._jobs else []
                try:
                    result = self.on_update(job, groups)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("discovery_update_failed", job=job)
                self._forget_empty(job)
            await asyncio.sleep(self.debounce)

    def _forget_empty(self, job: str) -> None:
        # an emptied source has been handed on once; keeping it would grow with every pod
        for key, running in self._running.items():
            if key.job == job:
                for source in [s for s, g in running.groups.items() if not g.targets]:
                    del running.groups[source]
