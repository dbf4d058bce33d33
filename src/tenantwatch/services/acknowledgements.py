"""Acknowledging and resolving alerts by hand (seed 002); an acknowledgement is passed on
to PagerDuty for each group the alert was paged in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.alertmanager.dispatch import Dispatcher
from tenantwatch.alertmanager.notice_plan import plan_pagerduty_acks
from tenantwatch.alertmanager.outgoing import Enqueue
from tenantwatch.alertmanager.records import AlertRecord, received
from tenantwatch.domain.flapping import FlapConfig
from tenantwatch.services.alert_store import AlertStore
from tenantwatch.services.errors import Invalid


class Acknowledgements:
    def __init__(
        self,
        config: AlertmanagerConfig,
        store: AlertStore,
        dispatcher: Dispatcher,
        send: Enqueue,
        *,
        external_url: str,
        flap_config: FlapConfig,
        now: Callable[[], float],
        changed: Callable[[], None],
    ) -> None:
        """`send` queues notifications; `changed()` tells the dispatch loop to look again."""
        self.config = config
        self.store = store
        self.dispatcher = dispatcher
        self.send = send
        self.external_url = external_url
        self.flap_config = flap_config
        self.now = now
        self.changed = changed
        self._lock = asyncio.Lock()

    async def acknowledge(
        self, record: AlertRecord, who: str, notes: str | None, until: float | None
    ) -> AlertRecord:
        """Acknowledge a firing alert, until a time or until it resolves; Invalid when it
        is resolved or `until` has passed."""
        now = self.now()
        if record.alert.resolved_at(now):
            raise Invalid("the alert is resolved; only a firing alert can be acknowledged")
        if until is not None and until <= now:
            raise Invalid("acknowledge until a time in the future", field="until")
        fresh = replace(record, ack_at=now, ack_by=who, ack_until=until, ack_notes=notes)
        await self.store.save_record(fresh)
        acks = plan_pagerduty_acks(
            fresh, self.dispatcher.groups(), self.config, self.external_url, now
        )
        if acks:
            await self.send(acks)
        return fresh

    async def resolve(self, record: AlertRecord, who: str, notes: str | None) -> AlertRecord:
        """End a firing alert now, with who did it and why; Invalid when it is resolved."""
        now = self.now()
        if record.alert.resolved_at(now):
            raise Invalid("the alert is already resolved")
        ended = replace(record.alert, ends_at=now, updated_at=now, timeout=False)
        fresh, _ = received(record, ended, record.source, now, self.flap_config)
        fresh = replace(fresh, resolved_by=who, resolution_notes=notes)
        await self.store.save_record(fresh)
        async with self._lock:
            self.dispatcher.insert(ended, now)
        self.changed()
        return fresh
