"""The alert manager's loop: load its state, then run a tick whenever a group falls due,
something changed, escalation is to be looked at, or maintenance is due."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from tenantwatch.services.alerting import ESCALATION_TICK_S, MAINTENANCE_S, AlertingService

log = structlog.get_logger("tenantwatch.services.alerting")


def wait_s(next_due: float | None, now: float, escalating: bool) -> float:
    """How long the loop may sleep at `now`: until the next group is due, at most
    MAINTENANCE_S, and at most ESCALATION_TICK_S while escalation is on."""
    wait = MAINTENANCE_S if next_due is None else max(0.0, min(next_due - now, MAINTENANCE_S))
    if escalating:
        wait = min(wait, ESCALATION_TICK_S)
    return wait


class AlertManagerWorker:
    def __init__(self, service: AlertingService) -> None:
        self.service = service
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the alert manager's state and start dispatching."""
        svc = self.service
        await svc.load()
        self._task = asyncio.create_task(self._run(), name="alert dispatcher")
        log.info("alert manager started", alerts=len(svc.records), silences=len(svc.silences))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        svc = self.service
        while True:
            wait = wait_s(svc.dispatcher.next_due(), svc.now(), svc.escalator is not None)
            if wait > 0:
                svc.changed.clear()
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the
                # cancel of stop() when the event is set at the same moment
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await svc.changed.wait()
            try:
                await svc.tick(svc.now())
            except Exception as exc:  # never let one bad flush stop the loop
                log.exception("alert dispatch failed", error=repr(exc))
                await asyncio.sleep(1.0)
