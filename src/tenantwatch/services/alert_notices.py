"""Beyond Alertmanager: flapping notices and escalation of unacknowledged alerts, queued
for the outbox and recorded on the alerts."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

import structlog

from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.alertmanager.flush_plan import BuildFailure
from tenantwatch.alertmanager.notice_plan import plan_escalation, plan_flap_notice
from tenantwatch.alertmanager.outgoing import Enqueue, Outgoing
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.routing import receivers_of
from tenantwatch.alertmanager.suppression import silenced
from tenantwatch.domain.flapping import FlapConfig, flap_decision, next_evaluation, observe
from tenantwatch.services.alert_store import AlertStore
from tenantwatch.services.escalation import Escalator

# the alert manager logs under one name, wherever the message comes from
log = structlog.get_logger("tenantwatch.services.alerting")

TIERS_REFRESH_S = 60.0


def log_failures(failures: Sequence[BuildFailure]) -> None:
    for f in failures:
        log.error(
            "cannot build notification",
            receiver=f.receiver,
            integration=f.integration,
            error=f.error,
        )


class AlertNotices:
    def __init__(
        self,
        config: AlertmanagerConfig,
        store: AlertStore,
        send: Enqueue,
        *,
        external_url: str,
        flap_config: FlapConfig,
        escalator: Escalator | None = None,
        tenant_tiers: Callable[[], Awaitable[dict[str, str]]] | None = None,
    ) -> None:
        """`tenant_tiers()` gives each tenant's tier (escalation policies scale with it)."""
        self.config = config
        self.store = store
        self.send = send
        self.external_url = external_url
        self.flap_config = flap_config
        self.escalator = escalator
        self.tenant_tiers = tenant_tiers
        self.tiers: dict[str, str] = {}
        self._tiers_at = -1e18

    async def _queue(self, planned: tuple[list[Outgoing], list[BuildFailure]]) -> int:
        outgoing, failures = planned
        log_failures(failures)
        if outgoing:
            await self.send(outgoing)
        return len(outgoing)

    async def flap_notice(self, record: AlertRecord, decision: str, now: float) -> None:
        """Page once when an alert starts flapping, then digests, then 'stopped'."""
        receivers = receivers_of(self.config.route, record.alert.label_map())
        await self._queue(
            plan_flap_notice(record, decision, receivers, self.config, self.external_url, now)
        )

    async def reevaluate_flapping(self, now: float) -> None:
        """Look again at the alerts whose flap state is due: quiet ones stop flapping (and
        say so), flapping ones send their digest."""
        for record in list(self.store.records.values()):
            due = next_evaluation(record.flap, now, self.flap_config)
            if due is None or due > now:
                continue
            flap = observe(record.flap, False, now, self.flap_config)
            decision = flap_decision(record.flap, flap, now, self.flap_config)
            fresh = replace(record, flap=flap)
            await self.store.save_record(fresh)
            if decision in ("digest", "stopped"):
                await self.flap_notice(fresh, decision, now)

    async def escalate(self, now: float) -> int:
        """Send the escalation steps that are due for unacknowledged firing alerts; return
        how many notifications were queued."""
        if self.escalator is None:
            return 0
        if self.tenant_tiers is not None and now - self._tiers_at > TIERS_REFRESH_S:
            self._tiers_at = now
            with contextlib.suppress(Exception):  # keep the last known tiers
                self.tiers = await self.tenant_tiers()
        queued = 0
        for record in list(self.store.records.values()):
            if record.flapping or silenced(
                record.alert.label_map(), self.store.silences.values(), now
            ):
                continue
            for step in self.escalator.due(record, self.tiers, now):
                queued += await self._queue(
                    plan_escalation(
                        record,
                        step.sequence,
                        step.targets,
                        step.receivers,
                        self.config,
                        self.external_url,
                        now,
                    )
                )
                record = replace(record, escalated=record.escalated | {step.sequence})
                await self.store.save_record(record)
        return queued
