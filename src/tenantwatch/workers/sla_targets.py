"""Writes every tenant's SLA targets into the metric store, every interval (sla/series.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog

from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.tiers import SlaTargets, TierCatalog
from tenantwatch.services.tenants import TenantService
from tenantwatch.sla.series import target_samples
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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenants = tenants
        self.tiers = tiers
        self.sink = sink
        self.interval_s = interval_s
        self.clock = clock

    async def write_once(self) -> int:
        """Write the current targets of every tenant; return how many samples."""
        targets: dict[str, SlaTargets] = {
            t.id: self.tiers.effective_sla(t.tier, t.sla_overrides)
            for t in await self.tenants.all(SYSTEM)
        }
        samples = target_samples(targets, int(self.clock() * 1000))
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
