"""The health-check side of a running tenantwatch: scheduler, executor and ping intake."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog

from tenantwatch.config.model import CheckRunnerConfig
from tenantwatch.domain.check_judge import heartbeat_run
from tenantwatch.domain.checks import Check, CheckKind, CheckRun
from tenantwatch.domain.probe_targets import target_host
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.services.checks import CheckService, RecordOutcome
from tenantwatch.services.ports import CheckExecutor
from tenantwatch.workers.check_samples import SampleSink, SampleTailer
from tenantwatch.workers.checks import CheckScheduler
from tenantwatch.workers.pings import PingIntake

log = structlog.get_logger(__name__)
PRUNE_EVERY_S = 3600.0
RUN_NOW_CONCURRENCY = 32  # checks at once when a tenant's checks are run on request


class CheckEngine:
    """Schedules and runs checks with `executor` (the runtime passes the probe executor)."""

    def __init__(
        self,
        service: CheckService,
        tiers: TierCatalog,
        config: CheckRunnerConfig,
        executor: CheckExecutor,
        *,
        sink: SampleSink | None = None,
        claim: bool = False,
    ) -> None:
        self.service = service
        self.config = config
        self.tailer = SampleTailer(service, sink) if sink is not None else None
        self.executor = executor
        self.scheduler = CheckScheduler(
            service,
            self.executor,
            tiers,
            host_of=target_host,
            claim=claim,
            concurrency=config.concurrency,
            per_host=config.per_host_concurrency,
        )
        self.pings = PingIntake(service, burst=config.ping_burst, rate=config.ping_rate)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self, *, schedule: bool = True, samples: bool = False) -> None:
        """Start the scheduler (and pruning) and/or writing stored results as samples."""
        if self._tasks:
            return
        self._stop = asyncio.Event()
        if samples and self.tailer is not None:
            await self.tailer.start_at_end()
            self._tasks.append(
                asyncio.create_task(self.tailer.run(self._stop), name="check samples")
            )
        if schedule:
            self._tasks += [
                asyncio.create_task(self.scheduler.run(self._stop), name="check scheduler"),
                asyncio.create_task(self._prune_forever(), name="check pruning"),
            ]
            log.info("checks started", worker=self.scheduler.worker, claim=self.scheduler.claim)

    async def stop(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.pings.close()
        await self.executor.close()

    async def run_now(self, checks: Sequence[Check]) -> tuple[list[CheckRun], RecordOutcome]:
        """Run the given checks at once (heartbeats are judged), record and return them."""
        probed = [c for c in checks if c.kind is not CheckKind.HEARTBEAT]
        beats = [c for c in checks if c.kind is CheckKind.HEARTBEAT]
        limit = asyncio.Semaphore(min(self.config.concurrency, RUN_NOW_CONCURRENCY))

        async def one(check: Check) -> CheckRun:
            async with limit:
                return await self.executor.run(check)

        runs = list(await asyncio.gather(*(one(c) for c in probed)))
        if beats:
            states = await self.service.heartbeat_states([c.id for c in beats])
            now = self.executor.clock()
            runs += [heartbeat_run(c, states[c.id], now) for c in beats if c.id in states]
        outcome = await self.service.record(runs)
        return runs, outcome

    async def _prune_forever(self) -> None:
        while not self._stop.is_set():
            try:
                removed = await self.service.prune(self.config.results_retention)
                if removed:
                    log.info("pruned check results", removed=removed)
            except Exception as exc:
                log.warning("cannot prune check results", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), PRUNE_EVERY_S)
