"""The alert manager: Alertmanager's pipeline, tenant-aware, with durable state.

Alerts arrive from the rule manager, from `POST /api/v2/alerts` (Prometheus, vmalert,
Grafana) and from seed 002's custom alerts. Each is merged into the store as
Alertmanager does, persisted, and handed to the dispatcher, which groups it per route and
flushes groups on their timers. A flush goes through inhibition, time intervals, silences
and acknowledgements, then the notification log decides per integration whether anything
is new; what is sent is built into a request per channel and put in the durable outbox
before the notification log records it. On restart the alerts, silences and notification
log are loaded back, so groups re-form and nothing already sent is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import structlog

from tenantwatch import jsonio
from tenantwatch.alertmanager import nflog
from tenantwatch.alertmanager.alert import AmAlert, admit_posted, put
from tenantwatch.alertmanager.config import AlertmanagerConfig, Integration
from tenantwatch.alertmanager.dispatch import Dispatcher, Flush
from tenantwatch.alertmanager.notify_data import NotifyAlert, build_notify_data
from tenantwatch.alertmanager.notify_payloads import (
    OutboundRequest,
    build_pagerduty_ack,
    build_request,
)
from tenantwatch.alertmanager.notify_pipeline import notify_data, plan
from tenantwatch.alertmanager.records import SEVERITIES, AlertRecord, from_row, received, to_row
from tenantwatch.alertmanager.routing import Route
from tenantwatch.alertmanager.silences import Silence, apply_resolution, mutes, silence_state
from tenantwatch.alertmanager.silences import update as update_silence
from tenantwatch.domain.flapping import (
    FlapConfig,
    FlapDecision,
    flap_decision,
    next_evaluation,
    observe,
)
from tenantwatch.rules.alerting import OutgoingAlert
from tenantwatch.services.errors import Invalid, NotFound
from tenantwatch.services.escalation import Escalator
from tenantwatch.services.group_commit import GroupCommit
from tenantwatch.services.outgoing import Enqueue, Outgoing

__all__ = ["AlertingService", "Enqueue", "Incoming", "Outgoing"]

log = structlog.get_logger(__name__)

MAINTENANCE_S = 30.0
ESCALATION_TICK_S = 5.0
RESOLVED_KEEP_S = 15 * 60.0  # resolved alerts stay listed (and re-sendable) this long
NFLOG_RETENTION_S = 5 * 86400.0  # Alertmanager's --data.retention default (120h)


class RowStore(Protocol):
    async def upsert_many(self, rows: Sequence[Mapping[str, Any]]) -> None: ...

    async def load_all(self) -> list[dict[str, Any]]: ...

    async def delete_many(self, keys: Sequence[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class Incoming:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float | None
    ends_at: float | None
    generator_url: str = ""


def nflog_key(receiver: str, integration: str, group_key: str) -> str:
    raw = jsonio.dumps([receiver, integration, group_key], compact=True)
    return hashlib.sha256(raw.encode()).hexdigest()


class AlertingService:
    def __init__(
        self,
        config: AlertmanagerConfig,
        alerts: RowStore,
        silences: RowStore,
        notification_log: RowStore,
        enqueue: Enqueue,
        *,
        external_url: str,
        now: Callable[[], float] = time.time,
        flap_config: FlapConfig | None = None,
        escalator: Escalator | None = None,
        tenant_tiers: Callable[[], Awaitable[dict[str, str]]] | None = None,
    ) -> None:
        self.config = config
        self.flap_config = flap_config or FlapConfig()
        self.escalator = escalator
        self.tenant_tiers = tenant_tiers
        self.tiers: dict[str, str] = {}
        self._tiers_at = -1e18
        self.alert_store = alerts
        self.silence_store = silences
        self.nflog_store = notification_log
        self.enqueue = enqueue
        self.external_url = external_url
        self.now = now
        self.records: dict[str, AlertRecord] = {}
        self.silences: dict[str, Silence] = {}
        self.nflog: dict[str, nflog.Entry] = {}
        self.dispatcher = Dispatcher(config.route)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._group_commit: GroupCommit[dict[str, dict[str, Any]], None] = GroupCommit(
            self._write_rows
        )
        self._last_maintenance = 0.0
        self._escalated_at = -1e18

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        now = self.now()
        for row in await self.alert_store.load_all():
            record = from_row(row)
            self.records[record.fingerprint] = record
        for row in await self.silence_store.load_all():
            s = silence_from_row(row)
            self.silences[s.id] = s
        for row in await self.nflog_store.load_all():
            if row["expires_at"] > now:
                self.nflog[row["key"]] = nflog.Entry(
                    firing=frozenset(row["firing"]),
                    resolved=frozenset(row["resolved"]),
                    timestamp=row["at"],
                    expires_at=row["expires_at"],
                )
        for record in self.records.values():
            self.dispatcher.insert(record.alert, now)
        self._task = asyncio.create_task(self._run(), name="alert dispatcher")
        log.info("alert manager started", alerts=len(self.records), silences=len(self.silences))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

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
            if decision in ("page_flapping", "digest", "stopped"):
                notices.append((alert.fingerprint, decision))
        self.records.update(fresh)
        await self._commit({fp: to_row(r) for fp, r in fresh.items()})
        for fp, decision in notices:
            await self._flap_notice(self.records[fp], decision, now)
        for fp in fresh:
            latest = self.records.get(fp)
            if latest is not None:  # the latest version, whichever POST stored it
                self.dispatcher.insert(latest.alert, now)
        self._wake.set()

    async def _commit(self, rows: dict[str, dict[str, Any]]) -> None:
        """Write rows in the next group commit; return once they are durable."""
        await self._group_commit.submit(rows)

    async def _write_rows(self, batches: Sequence[dict[str, dict[str, Any]]]) -> list[None]:
        merged: dict[str, dict[str, Any]] = {}
        for rows in batches:
            merged.update(rows)  # the later version of an alert wins
        await self.alert_store.upsert_many(list(merged.values()))
        return [None] * len(batches)

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

    # -- the dispatch loop -------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            now = self.now()
            due = self.dispatcher.next_due()
            wait = MAINTENANCE_S if due is None else max(0.0, min(due - now, MAINTENANCE_S))
            if self.escalator is not None:
                wait = min(wait, ESCALATION_TICK_S)
            if wait > 0:
                self._wake.clear()
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the
                # cancel of stop() when the event is set at the same moment
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
            try:
                await self.tick(self.now())
            except Exception as exc:  # never let one bad flush stop the loop
                log.exception("alert dispatch failed", error=repr(exc))
                await asyncio.sleep(1.0)

    async def tick(self, now: float) -> int:
        """Flush every due group; return how many notifications were queued."""
        queued = 0
        due = self.dispatcher.due(now)
        if due:
            queued += await self._flush_all(due, now)
        await self._end_silences_on_resolve(now)
        # escalation delays are minutes: look every ESCALATION_TICK_S, not on every POST's
        # wake-up (each look visits every alert)
        if self.escalator is not None and now - self._escalated_at >= ESCALATION_TICK_S:
            self._escalated_at = now
            queued += await self._escalate(now)
        if now - self._last_maintenance >= MAINTENANCE_S:
            self._last_maintenance = now
            await self._maintain(now)
        return queued

    def _firing_label_sets(self, now: float) -> list[dict[str, str]]:
        return [r.alert.label_map() for r in self.records.values() if not r.alert.resolved_at(now)]

    def _inhibition_sources(self, now: float) -> list[dict[str, str]]:
        """The firing alerts that match some inhibit rule's source side (the only ones
        that can inhibit anything); none without inhibit rules."""
        rules = self.config.inhibit_rules
        if not rules:
            return []
        out = []
        for r in self.records.values():
            if r.alert.resolved_at(now):
                continue
            labels = r.alert.label_map()
            if any(all(m.matches(labels) for m in rule.source) for rule in rules):
                out.append(labels)
        return out

    def muted(self, labels: Mapping[str, str], now: float) -> bool:
        """Silenced, flapping (it pages once and sends digests instead), or acknowledged
        (an acknowledged alert stops being re-notified until it resolves)."""
        if any(mutes(s, labels, now) for s in self.silences.values()):
            return True
        record = self.records.get(AmAlert.fingerprint_of(labels))
        if record is None:
            return False
        if record.flapping:
            return True
        return record.acknowledged(now) and not record.alert.resolved_at(now)

    def _time_muted(self, route: Route, now: float) -> bool:
        intervals = self.config.time_intervals
        for name in route.mute_time_intervals:
            if any(i.contains(now) for i in intervals.get(name, ())):
                return True
        if route.active_time_intervals:
            active = any(
                i.contains(now)
                for name in route.active_time_intervals
                for i in intervals.get(name, ())
            )
            return not active
        return False

    async def _flush_all(self, flushes: Sequence[Flush], now: float) -> int:
        """Flush the due groups together: their notifications go to the outbox in one
        write, then the notification log records them in one write."""
        sources = self._inhibition_sources(now)  # once for all groups flushed now
        outgoing: list[Outgoing] = []
        log_rows: list[dict[str, Any]] = []
        entries: dict[str, nflog.Entry] = {}
        for flush in flushes:
            self._plan_flush(flush, sources, now, outgoing, log_rows, entries)
        if outgoing:
            await self.enqueue(outgoing)
        if log_rows:
            await self.nflog_store.upsert_many(log_rows)
            self.nflog.update(entries)
        for flush in flushes:
            self.dispatcher.flushed(flush, now)
        return len(outgoing)

    def _plan_flush(
        self,
        flush: Flush,
        sources: Sequence[Mapping[str, str]],
        now: float,
        outgoing: list[Outgoing],
        log_rows: list[dict[str, Any]],
        entries: dict[str, nflog.Entry],
    ) -> None:
        """Add what one group's flush sends to `outgoing`, and its log entries."""
        receiver = self.config.receivers.get(flush.receiver)
        if receiver is None:
            return
        by_name = {f"{i.kind}/{i.index}": i for i in receiver.integrations}
        planned = plan(
            flush,
            [(name, i.send_resolved) for name, i in by_name.items()],
            all_firing_label_sets=sources,
            inhibit_rules=self.config.inhibit_rules,
            silenced=lambda labels: self.muted(labels, now),
            time_muted=self._time_muted,
            nflog_get=lambda name: self.nflog.get(nflog_key(flush.receiver, name, flush.group_key)),
            repeat_interval_s=flush.route.repeat_interval_s,
            now=now,
        )
        for p in planned:
            integration = by_name[p.integration]
            data = notify_data(p, flush, self.external_url, receiver.name)
            key = nflog_key(flush.receiver, p.integration, flush.group_key)
            entry = nflog.log_entry(
                p.firing, p.resolved, now, NFLOG_RETENTION_S, flush.route.repeat_interval_s
            )
            entries[key] = entry
            log_rows.append(
                {
                    "key": key,
                    "receiver": flush.receiver,
                    "integration": p.integration,
                    "group_key": flush.group_key,
                    "firing": sorted(entry.firing),
                    "resolved": sorted(entry.resolved),
                    "at": entry.timestamp,
                    "expires_at": entry.expires_at,
                }
            )
            if not p.alerts:
                continue  # nothing to send (send_resolved off), but the log learns it
            idem = hashlib.sha256(
                jsonio.dumps(
                    [key, sorted(p.firing), sorted(p.resolved), round(now, 3)], compact=True
                ).encode()
            ).hexdigest()
            request = self._request(integration, data, idem)
            if request is not None:
                outgoing.append(
                    Outgoing(
                        idempotency_key=idem,
                        tenant_id=data.common_labels.get("tenant"),
                        receiver=flush.receiver,
                        integration=p.integration,
                        group_key=flush.group_key,
                        alert_status=data.status,
                        request=request,
                        fingerprints=tuple(a.fingerprint for a in p.alerts),
                        role="state",  # the group's whole state: a newer one replaces it
                    )
                )

    def _request(self, integration: Integration, data: Any, idem: str) -> OutboundRequest | None:
        try:
            return build_request(
                integration.kind,
                integration.settings,
                data,
                lambda text: self.config.templates.render(text, data),
                idempotency_key=idem,
                render_html=lambda text: self.config.templates.render_html(text, data),
            )
        except Exception as exc:
            log.error(
                "cannot build notification",
                receiver=data.receiver,
                integration=integration.kind,
                error=str(exc),
            )
            return None

    # -- beyond Alertmanager: escalation and flapping -----------------------------------------
    async def _escalate(self, now: float) -> int:
        """Send the escalation steps that are due for unacknowledged firing alerts."""
        assert self.escalator is not None
        if self.tenant_tiers is not None and now - self._tiers_at > 60.0:
            self._tiers_at = now
            with contextlib.suppress(Exception):  # keep the last known tiers
                self.tiers = await self.tenant_tiers()
        queued = 0
        for record in list(self.records.values()):
            if record.flapping or self.muted_by_silence(record, now):
                continue
            for step in self.escalator.due(record, self.tiers, now):
                note = f"escalation step {step.sequence}: {', '.join(step.targets)}"
                queued += await self._notify_single(
                    record,
                    step.receivers,
                    f"escalation/{record.fingerprint}",
                    {"escalation": note},
                    f"escalation:{record.fingerprint}:{record.alert.starts_at}:{step.sequence}",
                    now,
                )
                record = replace(record, escalated=record.escalated | {step.sequence})
                await self._save_record(record)
        return queued

    async def _end_silences_on_resolve(self, now: float) -> None:
        """An end_on_resolve silence ends once nothing it muted fires any more."""
        watched = [x for x in self.silences.values() if x.end_on_resolve and x.ends_at > now]
        if not watched:
            return
        firing = self._firing_label_sets(now)
        for silence in watched:
            fresh = apply_resolution(silence, firing, now)
            if fresh != silence:
                await self.save_silence(fresh)

    def muted_by_silence(self, record: AlertRecord, now: float) -> bool:
        labels = record.alert.label_map()
        return any(mutes(s, labels, now) for s in self.silences.values())

    async def _flap_notice(self, record: AlertRecord, decision: str, now: float) -> None:
        """Page once when an alert starts flapping, then digests, then 'stopped'."""
        flap = record.flap
        text = {
            "page_flapping": f"started flapping: {len(flap.transitions)} state changes "
            f"recently ({flap.percent:.0f}% state change); individual notifications "
            "are held back",
            "digest": f"still flapping: {flap.digest_changes} state changes since the last notice",
            "stopped": "stopped flapping; notifications resume",
        }[decision]
        receivers = self.receivers_of(record.alert.label_map())
        await self._notify_single(
            record,
            receivers,
            f"flapping/{record.fingerprint}",
            {"flapping": text},
            f"flap:{record.fingerprint}:{decision}:{now}",
            now,
        )

    async def _notify_single(
        self,
        record: AlertRecord,
        receivers: Sequence[str],
        group_key: str,
        note: Mapping[str, str],
        idem_seed: str,
        now: float,
    ) -> int:
        """One alert (with a note in its annotations) to every integration of receivers."""
        a = record.alert
        alert = NotifyAlert(
            status=a.status(now),
            labels=a.label_map(),
            annotations={**a.annotation_map(), **note},
            starts_at=a.starts_at,
            ends_at=a.ends_at if a.resolved_at(now) else 0.0,
            generator_url=a.generator_url,
            fingerprint=a.fingerprint,
        )
        outgoing = []
        for name in receivers:
            receiver = self.config.receivers.get(name)
            if receiver is None:
                continue
            data = build_notify_data(
                name,
                {"alertname": alert.labels.get("alertname", "")},
                [alert],
                self.external_url,
                group_key,
            )
            for integration in receiver.integrations:
                idem = hashlib.sha256(f"{idem_seed}:{name}:{integration.name}".encode()).hexdigest()
                request = self._request(integration, data, idem)
                if request is not None:
                    outgoing.append(
                        Outgoing(
                            idem,
                            record.tenant_id,
                            name,
                            integration.name,
                            group_key,
                            data.status,
                            request,
                            (record.fingerprint,),
                            role="notice",
                        )
                    )
        if outgoing:
            await self.enqueue(outgoing)
        return len(outgoing)

    async def _maintain(self, now: float) -> None:
        self.dispatcher.maintenance(now)
        for record in list(self.records.values()):
            due = next_evaluation(record.flap, now, self.flap_config)
            if due is None or due > now:
                continue
            flap = observe(record.flap, False, now, self.flap_config)
            decision = flap_decision(record.flap, flap, now, self.flap_config)
            fresh = replace(record, flap=flap)
            await self._save_record(fresh)
            if decision in ("digest", "stopped"):
                await self._flap_notice(fresh, decision, now)
        gone = [
            fp
            for fp, r in self.records.items()
            if r.alert.resolved_at(now) and now - r.alert.ends_at > RESOLVED_KEEP_S
        ]
        if gone:
            await self.alert_store.delete_many(gone)
            for fp in gone:
                self.records.pop(fp, None)
        expired = [k for k, e in self.nflog.items() if e.expires_at <= now]
        if expired:
            await self.nflog_store.delete_many(expired)
            for k in expired:
                self.nflog.pop(k, None)

    # -- silences ----------------------------------------------------------------------------
    async def save_silence(self, silence: Silence) -> str:
        now = self.now()
        if not silence.id:
            silence = replace(silence, id=str(uuid.uuid4()), updated_at=now)
        await self.silence_store.upsert_many([silence_to_row(silence)])
        self.silences[silence.id] = silence
        self._wake.set()
        return silence.id

    def silence(self, silence_id: str, tenant: str | None = None) -> Silence:
        s = self.silences.get(silence_id)
        if s is None or (tenant is not None and s.tenant_id != tenant):
            raise NotFound(f"no silence {silence_id!r}")
        return s

    def silence_status(self, s: Silence) -> str:
        return silence_state(s, self.now())

    def silence_mutes(self, s: Silence, labels: Mapping[str, str], now: float) -> bool:
        return mutes(s, labels, now)

    async def update_silence(self, old: Silence, new: Silence) -> str:
        """Alertmanager's update: in place when only the end or comment change, else the
        old silence is expired and a new one made."""
        now = self.now()
        kept, replaced = update_silence(old, new, now)
        if replaced is not None:
            await self.save_silence(replaced)
        return await self.save_silence(kept)

    def inhibited_by(self, labels: Mapping[str, str], now: float) -> list[str]:
        """Fingerprints of the firing alerts that inhibit an alert with these labels."""
        firing = {
            r.fingerprint: r.alert.label_map()
            for r in self.records.values()
            if not r.alert.resolved_at(now)
        }
        by_labels = {tuple(sorted(v.items())): k for k, v in firing.items()}
        out: list[str] = []
        for rule in self.config.inhibit_rules:
            for source in rule.sources(labels, firing.values()):
                out.append(by_labels[tuple(sorted(source.items()))])
        return sorted(set(out))

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
        r = self.records.get(fingerprint)
        if r is None or (tenant is not None and r.tenant_id != tenant):
            raise NotFound(f"no alert {fingerprint!r}")
        return r

    def receivers_of(self, labels: Mapping[str, str]) -> list[str]:
        from tenantwatch.alertmanager.routing import match_routes

        return sorted({r.receiver for r in match_routes(self.config.route, labels)})

    # -- seed 002 ----------------------------------------------------------------------------
    async def acknowledge(
        self, fingerprint: str, tenant: str | None, who: str, notes: str | None, until: float | None
    ) -> AlertRecord:
        now = self.now()
        r = self.record(fingerprint, tenant)
        if r.alert.resolved_at(now):
            raise Invalid("the alert is resolved; only a firing alert can be acknowledged")
        if until is not None and until <= now:
            raise Invalid("acknowledge until a time in the future", field="until")
        fresh = replace(r, ack_at=now, ack_by=who, ack_until=until, ack_notes=notes)
        await self._save_record(fresh)
        await self._pagerduty_acks(fresh, now)
        return fresh

    async def _pagerduty_acks(self, record: AlertRecord, now: float) -> None:
        """Tell PagerDuty: an acknowledge event for each group the alert was paged in."""
        outgoing = []
        for group in self.dispatcher.groups():
            if record.fingerprint not in group.alerts:
                continue
            receiver = self.config.receivers.get(group.receiver)
            for integration in receiver.integrations if receiver else ():
                if integration.kind != "pagerduty":
                    continue
                data = build_notify_data(
                    group.receiver, dict(group.labels), [], self.external_url, group.key
                )
                idem = hashlib.sha256(
                    f"ack:{group.key}:{integration.name}:{now}".encode()
                ).hexdigest()
                request = build_pagerduty_ack(
                    integration.settings,
                    data,
                    functools.partial(self.config.templates.render, data=data),
                    idempotency_key=idem,
                )
                outgoing.append(
                    Outgoing(
                        idem,
                        record.tenant_id,
                        group.receiver,
                        integration.name,
                        group.key,
                        "acknowledged",
                        request,
                        (record.fingerprint,),
                        role="acknowledge",
                    )
                )
        if outgoing:
            await self.enqueue(outgoing)

    async def resolve(
        self, fingerprint: str, tenant: str | None, who: str, notes: str | None
    ) -> AlertRecord:
        now = self.now()
        r = self.record(fingerprint, tenant)
        if r.alert.resolved_at(now):
            raise Invalid("the alert is already resolved")
        ended = replace(r.alert, ends_at=now, updated_at=now, timeout=False)
        fresh, _ = received(r, ended, r.source, now, self.flap_config)
        fresh = replace(fresh, resolved_by=who, resolution_notes=notes)
        await self._save_record(fresh)
        async with self._lock:
            self.dispatcher.insert(ended, now)
        self._wake.set()
        return fresh

    async def _save_record(self, record: AlertRecord) -> None:
        await self.alert_store.upsert_many([to_row(record)])
        self.records[record.fingerprint] = record


def silence_to_row(s: Silence) -> dict[str, Any]:
    from tenantwatch.alertmanager.silences import matchers_to_api

    return {
        "id": s.id,
        "tenant_id": s.tenant_id,
        "matchers": matchers_to_api(s.matchers),
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "updated_at": s.updated_at,
        "created_by": s.created_by,
        "comment": s.comment,
        "recurrence": None
        if s.recurrence is None
        else {
            "rrule": s.recurrence.rrule,
            "duration_s": s.recurrence.duration_s,
            "timezone": s.recurrence.timezone,
        },
        "end_on_resolve": s.end_on_resolve,
        "matched_once": s.matched_once,
    }


def silence_from_row(row: Mapping[str, Any]) -> Silence:
    from tenantwatch.alertmanager.silences import Recurrence, matchers_from_api

    rec = row.get("recurrence")
    return Silence(
        id=row["id"],
        matchers=matchers_from_api(row["matchers"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        updated_at=row["updated_at"],
        created_by=row["created_by"],
        comment=row["comment"],
        tenant_id=row["tenant_id"],
        recurrence=None
        if not rec
        else Recurrence(rrule=rec["rrule"], duration_s=rec["duration_s"], timezone=rec["timezone"]),
        end_on_resolve=bool(row["end_on_resolve"]),
        matched_once=bool(row.get("matched_once", False)),
    )
