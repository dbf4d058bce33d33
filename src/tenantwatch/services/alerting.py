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
import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import structlog

from tenantwatch.config.alertmanager import AlertmanagerConfig, Integration
from tenantwatch.domain import nflog
from tenantwatch.domain.alert_rules import OutgoingAlert
from tenantwatch.domain.am_alert import AmAlert, accept_posted, put, validate_posted
from tenantwatch.domain.dispatch import Dispatcher, Flush
from tenantwatch.domain.notify_payloads import OutboundRequest, build_request
from tenantwatch.domain.notify_pipeline import notify_data, plan
from tenantwatch.domain.routing import Route
from tenantwatch.domain.silences import Silence, mutes, silence_state
from tenantwatch.domain.silences import update as update_silence
from tenantwatch.services.alert_records import AlertRecord, from_row, received, to_row
from tenantwatch.services.errors import Invalid, NotFound

log = structlog.get_logger(__name__)

MAINTENANCE_S = 30.0
RESOLVED_KEEP_S = 15 * 60.0  # resolved alerts stay listed (and re-sendable) this long
NFLOG_RETENTION_S = 5 * 86400.0  # Alertmanager's --data.retention default (120h)


class RowStore(Protocol):
    async def upsert_many(self, rows: Sequence[Mapping[str, Any]]) -> None: ...

    async def load_all(self) -> list[dict[str, Any]]: ...

    async def delete_many(self, keys: Sequence[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notification for the outbox."""

    idempotency_key: str
    tenant_id: str | None
    receiver: str
    integration: str
    group_key: str
    alert_status: str
    request: OutboundRequest


Enqueue = Callable[[Sequence[Outgoing]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Incoming:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float | None
    ends_at: float | None
    generator_url: str = ""


def nflog_key(receiver: str, integration: str, group_key: str) -> str:
    raw = json.dumps([receiver, integration, group_key], separators=(",", ":"))
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
    ) -> None:
        self.config = config
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
        self._last_maintenance = 0.0

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
        for item in items:
            labels = dict(item.labels)
            if tenant is not None:
                labels["tenant"] = tenant  # a tenant's key only ever raises its own alerts
            problem = validate_posted(
                labels,
                item.annotations,
                item.starts_at,
                item.ends_at,
                now=now,
                resolve_timeout_s=self.config.resolve_timeout_s,
            )
            if problem is not None:
                problems.append(problem)
                continue
            accepted.append(
                accept_posted(
                    labels,
                    item.annotations,
                    item.starts_at,
                    item.ends_at,
                    item.generator_url,
                    now,
                    self.config.resolve_timeout_s,
                )
            )
        if accepted:
            await self._store(accepted, source, now)
        return problems

    async def _store(self, alerts: Sequence[AmAlert], source: str, now: float) -> None:
        async with self._lock:
            fresh: dict[str, AlertRecord] = {}
            for alert in alerts:
                before = fresh.get(alert.fingerprint) or self.records.get(alert.fingerprint)
                merged = put(before.alert if before else None, alert)
                fresh[alert.fingerprint] = received(before, merged, source, now)
            await self.alert_store.upsert_many([to_row(r) for r in fresh.values()])
            self.records.update(fresh)
            for record in fresh.values():
                self.dispatcher.insert(record.alert, now)
        self._wake.set()

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
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
            try:
                await self.tick(self.now())
            except Exception as exc:  # never let one bad flush stop the loop
                log.exception("alert dispatch failed", error=repr(exc))
                await asyncio.sleep(1.0)

    async def tick(self, now: float) -> int:
        """Flush every due group; return how many notifications were queued."""
        queued = 0
        for flush in self.dispatcher.due(now):
            queued += await self._flush(flush, now)
        if now - self._last_maintenance >= MAINTENANCE_S:
            self._last_maintenance = now
            await self._maintain(now)
        return queued

    def _firing_label_sets(self, now: float) -> list[dict[str, str]]:
        return [r.alert.label_map() for r in self.records.values() if not r.alert.resolved_at(now)]

    def muted(self, labels: Mapping[str, str], now: float) -> bool:
        """Silenced, or acknowledged (an acknowledged alert stops being re-notified)."""
        if any(mutes(s, labels, now) for s in self.silences.values()):
            return True
        record = self.records.get(AmAlert.fingerprint_of(labels))
        return record is not None and record.acknowledged(now) and not record.alert.resolved_at(now)

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

    async def _flush(self, flush: Flush, now: float) -> int:
        receiver = self.config.receivers.get(flush.receiver)
        if receiver is None:
            self.dispatcher.flushed(flush, now)
            return 0
        by_name = {f"{i.kind}/{i.index}": i for i in receiver.integrations}
        planned = plan(
            flush,
            [(name, i.send_resolved) for name, i in by_name.items()],
            all_firing_label_sets=self._firing_label_sets(now),
            inhibit_rules=self.config.inhibit_rules,
            silenced=lambda labels: self.muted(labels, now),
            time_muted=self._time_muted,
            nflog_get=lambda name: self.nflog.get(nflog_key(flush.receiver, name, flush.group_key)),
            repeat_interval_s=flush.route.repeat_interval_s,
            now=now,
        )
        outgoing: list[Outgoing] = []
        entries: dict[str, nflog.Entry] = {}
        for p in planned:
            integration = by_name[p.integration]
            data = notify_data(p, flush, self.external_url, receiver.name)
            key = nflog_key(flush.receiver, p.integration, flush.group_key)
            entries[key] = nflog.log_entry(
                p.firing, p.resolved, now, NFLOG_RETENTION_S, flush.route.repeat_interval_s
            )
            if not p.alerts:
                continue  # nothing to send (send_resolved off), but the log learns it
            idem = hashlib.sha256(
                json.dumps(
                    [key, sorted(p.firing), sorted(p.resolved), round(now, 3)],
                    separators=(",", ":"),
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
                    )
                )
        if outgoing:
            await self.enqueue(outgoing)
        if entries:
            await self.nflog_store.upsert_many(
                [
                    {
                        "key": key,
                        "receiver": flush.receiver,
                        "integration": p.integration,
                        "group_key": flush.group_key,
                        "firing": sorted(e.firing),
                        "resolved": sorted(e.resolved),
                        "at": e.timestamp,
                        "expires_at": e.expires_at,
                    }
                    for (key, e), p in zip(entries.items(), planned, strict=True)
                ]
            )
            self.nflog.update(entries)
        self.dispatcher.flushed(flush, now)
        return len(outgoing)

    def _request(self, integration: Integration, data: Any, idem: str) -> OutboundRequest | None:
        try:
            return build_request(
                integration.kind,
                integration.settings,
                data,
                lambda text: self.config.templates.render(text, data),
                idempotency_key=idem,
            )
        except Exception as exc:
            log.error(
                "cannot build notification",
                receiver=data.receiver,
                integration=integration.kind,
                error=str(exc),
            )
            return None

    async def _maintain(self, now: float) -> None:
        self.dispatcher.maintenance(now)
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

    def record(self, fingerprint: str, tenant: str | None) -> AlertRecord:
        r = self.records.get(fingerprint)
        if r is None or (tenant is not None and r.tenant_id != tenant):
            raise NotFound(f"no alert {fingerprint!r}")
        return r

    def receivers_of(self, labels: Mapping[str, str]) -> list[str]:
        from tenantwatch.domain.routing import match_routes

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
        return fresh

    async def resolve(
        self, fingerprint: str, tenant: str | None, who: str, notes: str | None
    ) -> AlertRecord:
        now = self.now()
        r = self.record(fingerprint, tenant)
        if r.alert.resolved_at(now):
            raise Invalid("the alert is already resolved")
        ended = replace(r.alert, ends_at=now, updated_at=now, timeout=False)
        fresh = received(r, ended, r.source, now)
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
    from tenantwatch.domain.silences import matchers_to_api

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
    from tenantwatch.domain.silences import Recurrence, matchers_from_api

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
