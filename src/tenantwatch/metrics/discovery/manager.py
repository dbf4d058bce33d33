"""Runs the discovery providers of every scrape job and hands each job's groups to scraping.

The latest groups are kept per (job, provider, source). After a change, `on_update(job,
groups)` is called with all of the job's groups, at most once per `debounce` seconds
(Prometheus: 5 s), so a burst of pod events costs one update. The list is complete: a
source missing from it has no targets (an emptied source is in the next list once, with
no targets, and left out after that). `apply` takes a new configuration: providers whose
job and section did not change keep running (and keep their groups); the others stop,
and new ones start.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog

from tenantwatch.config.metrics_model import ScrapeConfig
from tenantwatch.metrics.discovery.jobs import (
    ProviderFactory,
    ProviderKey,
    SdConfig,
    provider_configs,
)
from tenantwatch.metrics.discovery.provider import Provider
from tenantwatch.metrics.target_groups import TargetGroup

log = structlog.get_logger(__name__)

OnUpdate = Callable[[str, list[TargetGroup]], Awaitable[None] | None]


@dataclass(slots=True)
class _Running:
    groups: dict[str, TargetGroup] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


class DiscoveryManager:
    """Runs providers and hands on groups; see the module docstring. Plug it into scraping
    with `DiscoveryManager(scrape_manager.update_groups)`, then `await apply(jobs)` at start
    and on every reload, and `await stop()` at shutdown."""

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
        self._lock = asyncio.Lock()  # a reload waits for the one before it

    async def apply(self, scrape_configs: Sequence[ScrapeConfig]) -> None:
        """Run exactly the providers these jobs need; unchanged ones keep running. Jobs that
        are gone get one last update with no groups."""
        async with self._lock:
            await self._apply(scrape_configs)

    async def _apply(self, scrape_configs: Sequence[ScrapeConfig]) -> None:
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
        async with self._lock:
            await self._stop_all()

    async def _stop_all(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
            self._sender = None
        for key in list(self._running):
            await self._stop(key)

    def groups(self, job: str) -> list[TargetGroup]:
        """The job's latest groups, provider by provider."""
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
