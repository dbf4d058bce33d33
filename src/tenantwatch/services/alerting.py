"""The alert manager: Alertmanager's pipeline, tenant-aware, with durable state.

Alerts arrive from the rule manager, from `POST /api/v2/alerts` (Prometheus, vmalert,
Grafana) and from seed 002's custom alerts. Each is merged into the store as
Alertmanager does, persisted, and handed to the dispatcher, which groups it per route and
flushes groups on their timers (workers/alert_manager.py runs the loop). A flush is
planned by alertmanager/flush_plan.py; what is sent is put in the durable outbox before
the notification log records it. On start the alerts, silences and notification log are
loaded back, so groups re-form and nothing already sent is sent again. Silences,
acknowledgements, flapping and escalation notices and the API's reports are services of
their own, reached from here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog

from tenantwatch.alertmanager import nflog
from tenantwatch.alertmanager.alert import AmAlert, admit_posted, put
from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.alertmanager.dispatch import Dispatcher, Flush
from tenantwatch.alertmanager.flush_plan import plan_flushes
from tenantwatch.alertmanager.notice_plan import FLAP_NOTICES
from tenantwatch.alertmanager.outgoing import Enqueue, Outgoing
from tenantwatch.alertmanager.records import SEVERITIES, AlertRecord, received
from tenantwatch.alertmanager.routing import receivers_of
from tenantwatch.alertmanager.silences import Silence
from tenantwatch.domain.flapping import FlapConfig, FlapDecision
from tenantwatch.rules.alerting import OutgoingAlert
from tenantwatch.services.acknowledgements import Acknowledgements
from tenantwatch.services.alert_notices import AlertNotices, log_failures
from tenantwatch.services.alert_reports import AlertReports
from tenantwatch.services.alert_store import AlertRepo, AlertStore
from tenantwatch.services.errors import NotFound
from tenantwatch.services.escalation import Escalator
from tenantwatch.services.silences import SilenceService

__all__ = ["AlertingService", "Enqueue", "Incoming", "Outgoing"]

log = structlog.get_logger(__name__)

MAINTENANCE_S = 30.0
ESCALATION_TICK_S = 5.0
RESOLVED_KEEP_S = 15 * 60.0  # resolved alerts stay listed (and re-sendable) this long


@dataclass(frozen=True, slots=True)
class Incoming:
    """An alert as posted (Alertmanager's PostableAlert), before it is admitted."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float | None
    ends_at: float | None
    generator_url: str = ""


class AlertingService:
    """Receives alerts, runs one round of dispatch at a time (`tick`) and answers reads;
    silences, acknowledgements, notices and reports are its parts, each a service."""

    def __init__(
        self,
        config: AlertmanagerConfig,
        repo: AlertRepo,
        enqueue: Enqueue,
        *,
        external_url: str,
        now: Callable[[], float] = time.time,
        flap_config: FlapConfig | None = None,
        escalator: Escalator | None = None,
        tenant_tiers: Callable[[], Awaitable[dict[str, str]]] | None = None,
    ) -> None:
        """`enqueue` puts notifications in the outbox; `tenant_tiers()` gives each
        tenant's tier for escalation."""
        self.config = config
        self.flap_config = flap_config or FlapConfig()
        self.escalator = escalator
        self.enqueue = enqueue
        self.external_url = external_url
        self.now = now
        self.store = AlertStore(repo)
        self.dispatcher = Dispatcher(config.route)
        self.changed = asyncio.Event()  # set when the dispatch loop should look again
        self.silencing = SilenceService(self.store, now, self.changed.set)
        self.acks = Acknowledgements(
            config,
            self.store,
            self.dispatcher,
            self._send,
            external_url=external_url,
            flap_config=self.flap_config,
            now=now,
            changed=self.changed.set,
        )
        self.notices = AlertNotices(
            config,
            self.store,
            self._send,
            external_url=external_url,
            flap_config=self.flap_config,
            escalator=escalator,
            tenant_tiers=tenant_tiers,
        )
        self.reports = AlertReports(config, self.store, self.dispatcher)
        self._last_maintenance = 0.0
        self._escalated_at = -1e18

    async def _send(self, items: Sequence[Outgoing]) -> None:
        await self.enqueue(items)  # looked up now, so every part follows a new `enqueue`

    @property
    def records(self) -> dict[str, AlertRecord]:
        return self.store.records

    @property
    def silences(self) -> dict[str, Silence]:
        return self.store.silences

    @property
    def nflog(self) -> dict[str, nflog.Entry]:
        return self.store.nflog

    async def load(self) -> None:
        """Read the state back and re-form the groups of the stored alerts."""
        now = self.now()
        await self.store.load(now)
        for record in self.records.values():
            self.dispatcher.insert(record.alert, now)

    # -- receiving ---------------------------------------------------------------------------
    async def post(
        self, items: Sequence[Incoming], *, tenant: str | None = None, source: str = "api"
    ) -> list[str]:
        """Store and dispatch the valid alerts; return the problems of the invalid ones."""
        now = self.now()
        problems: list[str] = []
        accepted: list[AmAlert] = []
        timeout_s = self.config.resolve_timeout_s
        for item in items:
            labels = item.labels
            if tenant is not None and any(labels.values()):  # without labels it is refused
                labels = {**labels, "tenant": tenant}  # a tenant's key raises its own alerts
            admitted = admit_posted(
                labels,
                item.annotations,
                item.starts_at,
                item.ends_at,
                item.generator_url,
                now,
                timeout_s,
            )
            if isinstance(admitted, str):
                problems.append(admitted)
            else:
                accepted.append(admitted)
        if accepted:
            await self._store(accepted, source, now)
        return problems

    async def _store(self, alerts: Sequence[AmAlert], source: str, now: float) -> None:
        """Merge, persist (group commit), then dispatch: nothing is acted on before it is
        durable, and concurrent POSTs share one transaction."""
        fresh: dict[str, AlertRecord] = {}
        notices: list[tuple[str, FlapDecision]] = []
        for alert in alerts:
            before = fresh.get(alert.fingerprint) or self.records.get(alert.fingerprint)
            merged = put(before.alert if before else None, alert)
            record, decision = received(before, merged, source, now, self.flap_config)
            fresh[alert.fingerprint] = record
            if decision in FLAP_NOTICES:
                notices.append((alert.fingerprint, decision))
        await self.store.commit_records(fresh)
        for fp, decision in notices:
            await self.notices.flap_notice(self.records[fp], decision, now)
        for fp in fresh:
            latest = self.records.get(fp)
            if latest is not None:  # the latest version, whichever POST stored it
                self.dispatcher.insert(latest.alert, now)
        self.changed.set()

    async def receive_rule_alerts(
        self, alerts: Sequence[OutgoingAlert], tenant: str | None
    ) -> None:
        """Alerts from the rule manager, as Prometheus would POST them."""
        items = [
            Incoming(a.labels, a.annotations, a.starts_at, a.ends_at, a.generator_url)
            for a in alerts
        ]
        problems = await self.post(items, tenant=tenant, source="rules")
        for problem in problems:
            log.warning("rule alert refused", problem=problem)

    # -- one round of the dispatch loop ------------------------------------------------------
    async def tick(self, now: float) -> int:
        """Flush every due group; return how many notifications were queued."""
        queued = 0
        due = self.dispatcher.due(now)
        if due:
            queued += await self._flush_all(due, now)
        await self.silencing.end_resolved(now)
        # escalation delays are minutes: look every ESCALATION_TICK_S, not on every POST's
        # wake-up (each look visits every alert)
        if self.escalator is not None and now - self._escalated_at >= ESCALATION_TICK_S:
            self._escalated_at = now
            queued += await self.notices.escalate(now)
        if now - self._last_maintenance >= MAINTENANCE_S:
            self._last_maintenance = now
            await self._maintain(now)
        return queued

    async def _flush_all(self, flushes: Sequence[Flush], now: float) -> int:
        """Flush the due groups together: their notifications go to the outbox in one
        write, then the notification log records them in one write."""
        planned = plan_flushes(flushes, self.config, self.store.view(), self.external_url, now)
        log_failures(planned.failures)
        if planned.outgoing:
            await self.enqueue(planned.outgoing)
        if planned.log:
            await self.store.write_log(planned.log)
        for flush in flushes:
            self.dispatcher.flushed(flush, now)
        return len(planned.outgoing)

    async def _maintain(self, now: float) -> None:
        self.dispatcher.maintenance(now)
        await self.notices.reevaluate_flapping(now)
        gone = [
            fp
            for fp, r in self.records.items()
            if r.alert.resolved_at(now) and now - r.alert.ends_at > RESOLVED_KEEP_S
        ]
        if gone:
            await self.store.forget_records(gone)
        expired = [k for k, e in self.nflog.items() if e.expires_at <= now]
        if expired:
            await self.store.forget_log(expired)

    # -- reading -----------------------------------------------------------------------------
    def visible(self, tenant: str | None) -> list[AlertRecord]:
        return [r for r in self.records.values() if tenant is None or r.tenant_id == tenant]

    def firing(self, tenant: str | None, now: float) -> list[AlertRecord]:
        """The alerts that fire now (acknowledged or not; silenced ones too, as in
        Alertmanager's list), most severe first, then the longest firing."""
        order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
        rows = [r for r in self.visible(tenant) if r.status(now) != "resolved"]
        rows.sort(key=lambda r: (order.get(r.severity or "", 9), r.alert.starts_at, r.fingerprint))
        return rows

    def record(self, fingerprint: str, tenant: str | None) -> AlertRecord:
        """The alert; NotFound when there is none, or it is another tenant's."""
        r = self.records.get(fingerprint)
        if r is None or (tenant is not None and r.tenant_id != tenant):
            raise NotFound(f"no alert {fingerprint!r}")
        return r

    def receivers_of(self, labels: Mapping[str, str]) -> list[str]:
        return receivers_of(self.config.route, labels)

    # -- people's actions (services/alert_actions.py records who did them) ---------------------
    async def save_silence(self, silence: Silence) -> str:
        return await self.silencing.save(silence)

    def silence_status(self, s: Silence) -> str:
        return self.silencing.state(s)

    async def acknowledge(
        self, fingerprint: str, tenant: str | None, who: str, notes: str | None, until: float | None
    ) -> AlertRecord:
        return await self.acks.acknowledge(self.record(fingerprint, tenant), who, notes, until)

    async def resolve(
        self, fingerprint: str, tenant: str | None, who: str, notes: str | None
    ) -> AlertRecord:
        return await self.acks.resolve(self.record(fingerprint, tenant), who, notes)
