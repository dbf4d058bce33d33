"""Keeps incidents in line with the alert manager: every few seconds what fires now is
reconciled with the incidents (new alerts open or join one, alerts gone resolve theirs),
and incidents not acknowledged within their response target escalate."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from tenantwatch.incidents import stats
from tenantwatch.services.alerting import AlertingService
from tenantwatch.services.incident_response import IncidentResponder
from tenantwatch.services.incidents import AlertEvent, IncidentService
from tenantwatch.types import Sample

log = structlog.get_logger(__name__)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def firing_events(alerting: AlertingService) -> list[AlertEvent]:
    """What the alert manager fires now, as incident intake events."""
    now = alerting.now()
    return [
        AlertEvent(
            fingerprint=r.fingerprint,
            labels=r.alert.label_map(),
            annotations=r.alert.annotation_map(),
            firing=True,
            starts_at=_at(r.alert.starts_at),
        )
        for r in alerting.firing(None, now)
    ]


class IncidentFeeder:
    def __init__(
        self,
        incidents: IncidentService,
        alerting: AlertingService,
        *,
        interval_s: float = 5.0,
        escalate_to: str = "on-call",
        sink: Callable[[list[Sample]], None] | None = None,
        responder: IncidentResponder | None = None,
    ) -> None:
        self.responder = responder
        self.incidents = incidents
        self.alerting = alerting
        self.sink = sink
        self.interval_s = interval_s
        self.escalate_to = escalate_to

    async def tick(self) -> int:
        """One round; return how many incidents changed."""
        changed = await self.incidents.reconcile(firing_events(self.alerting))
        if self.responder is not None:
            await self.responder.after(changed)
        escalated = await self.incidents.escalate_overdue(self.escalate_to)
        for inc in escalated:
            log.warning("incident escalated", incident=inc.id, severity=str(inc.severity))
        if self.sink is not None:
            now_ms = int(self.alerting.now() * 1000)
            self.sink(stats.samples(await self.incidents.recent(), now_ms))
        return len(changed) + len(escalated)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # the next round may succeed
                log.warning("cannot reconcile incidents", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)
