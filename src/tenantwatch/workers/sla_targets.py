"""Writes every tenant's SLA targets into the metric store every interval, and its current
month's compliance, budget left and availability, measured every `measure_every_s` and
written again each interval so instant queries always see them (sla/series.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog

from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.tiers import SlaTargets, TierCatalog
from tenantwatch.services.sla import SlaService
from tenantwatch.services.sla_credits import SlaCredits
from tenantwatch.services.tenants import TenantService
from tenantwatch.sla.report import TenantReport
from tenantwatch.sla.series import result_samples, target_samples
from tenantwatch.types import Sample

log = structlog.get_logger(__name__)


class SlaTargetWriter:
    def __init__(
        self,
        tenants: TenantService,
        tiers: TierCatalog,
        sink: Callable[[list[Sample]], None],
        *,
        interval_s: float = 60.0,
        sla: SlaService | None = None,
        credits: SlaCredits | None = None,
        measure_every_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenants = tenants
        self.tiers = tiers
        self.sink = sink
        self.interval_s = interval_s
        self.sla = sla
        self.credits = credits
        self.measure_every_s = measure_every_s
        self.clock = clock
        self.reports: list[TenantReport] = []
        self._measured_at: float | None = None

    async def measure(self) -> None:
        """Measure every tenant's month to date (the results the series carry) and write
        the credit ledger."""
        if self.sla is None:
            return
        self.reports = list((await self.sla.platform_report(SYSTEM, "monthly")).tenants)
        self._measured_at = self.clock()
        if self.credits is not None:
            await self.credits.record(self.reports)

    async def write_once(self) -> int:
        """Write the current targets of every tenant; return how many samples."""
        targets: dict[str, SlaTargets] = {
            t.id: self.tiers.effective_sla(t.tier, t.sla_overrides)
            for t in await self.tenants.all(SYSTEM)
        }
        now = self.clock()
        if self._measured_at is None or now - self._measured_at >= self.measure_every_s:
            await self.measure()
        t_ms = int(now * 1000)
        samples = target_samples(targets, t_ms) + result_samples(self.reports, t_ms)
        self.sink(samples)
        return len(samples)

    async def run(self, stop: asyncio.Event) -> None:
        """write_once every interval until stop is set; a failure is logged and retried."""
        while not stop.is_set():
            try:
                await self.write_once()
            except Exception as exc:  # the next round may succeed
                log.warning("cannot write SLA target series", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)
