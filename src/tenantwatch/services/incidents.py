"""Incident use cases: alerts open, join, reopen and resolve incidents (grouping.py decides
where each goes); people create, acknowledge, move, annotate and assign them. Every change
is stored with the timeline entries that record it, in one transaction.

Tenant-scoped callers see only incidents that affect their tenant, and of those only their
own tenant among the affected (another tenant's incident answers 404).
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from tenantwatch.domain.apikeys import Principal
from tenantwatch.domain.pagination import Page, page_from
from tenantwatch.incidents import lifecycle
from tenantwatch.incidents.grouping import DEFAULT_RULES, Rule, decide
from tenantwatch.incidents.lifecycle import Change, TransitionError
from tenantwatch.incidents.model import (
    AffectedTenant,
    Entry,
    EntryKind,
    Incident,
    LinkedAlert,
    Role,
    Severity,
    Status,
    incident_id,
)
from tenantwatch.incidents.status import TenantStatus
from tenantwatch.incidents.status import tenant_status as status_of
from tenantwatch.services.access import cursor_key
from tenantwatch.services.errors import Invalid, NotFound

MAX_ATTEMPTS = 5  # numbering races between processes: retry with the next number


@dataclass(frozen=True)
class AlertEvent:
    """An alert as the alert manager or an external Alertmanager's webhook has it."""

    fingerprint: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    firing: bool
    starts_at: datetime
    ends_at: datetime | None = None
    source: str = "internal"


@dataclass(frozen=True)
class Filters:
    status: str | None = None  # a Status, or "active"
    severity: Severity | None = None
    tenant_id: str | None = None


class IncidentRepo(Protocol):
    async def next_number(self, day: str) -> int: ...

    async def insert(self, incident: Incident, entries: Sequence[Entry]) -> bool:
        """False when the id is taken (another process numbered first)."""
        ...

    async def save(self, incident: Incident, entries: Sequence[Entry]) -> None: ...

    async def get(self, incident_id: str) -> Incident | None: ...

    async def list(
        self, filters: Filters, *, before: str | None, limit: int
    ) -> builtins.list[Incident]: ...

    async def candidates(self, resolved_since: datetime) -> builtins.list[Incident]:
        """Active incidents and those resolved since, newest first."""
        ...

    async def timeline(self, incident_id: str) -> builtins.list[Entry]: ...

    async def resolved_between(
        self, tenant_id: str, start: datetime, end: datetime
    ) -> builtins.list[Incident]: ...

    async def postmortem(self, incident_id: str) -> str | None:
        """The stored (edited) postmortem in Markdown; None while only drafted."""
        ...

    async def save_postmortem(
        self, incident_id: str, markdown: str, at: datetime, by: str
    ) -> None: ...


TenantTiers = Callable[[], Awaitable[Mapping[str, str]]]


def _not_found(incident_id: str) -> NotFound:
    return NotFound(f"incident {incident_id!r} not found")


def scoped(incident: Incident, who: Principal) -> Incident:
    """The incident as `who` may see it: a tenant-bound caller sees only its tenant."""
    if who.tenant_id is None:
        return incident
    return replace(
        incident,
        tenants=tuple(t for t in incident.tenants if t.tenant_id == who.tenant_id),
        alerts=tuple(a for a in incident.alerts if a.tenant_id == who.tenant_id),
    )


class IncidentService:
    def __init__(
        self,
        repo: IncidentRepo,
        tenant_tiers: TenantTiers,
        *,
        rules: Sequence[Rule] = DEFAULT_RULES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repo = repo
        self.tenant_tiers = tenant_tiers
        self.rules = tuple(rules)
        self.clock = clock
        self._lock = asyncio.Lock()  # one change at a time in this process

    # -- reading -------------------------------------------------------------------------
    async def get(self, who: Principal, incident_id: str) -> Incident:
        found = await self.repo.get(incident_id) if len(incident_id) <= 24 else None
        if found is None or (who.tenant_id is not None and who.tenant_id not in found.tenant_ids):
            raise _not_found(incident_id)
        return scoped(found, who)

    async def list(
        self, who: Principal, filters: Filters, *, cursor: str | None, limit: int
    ) -> Page[Incident]:
        if who.tenant_id is not None:
            if filters.tenant_id not in (None, who.tenant_id):
                return Page([], None)
            filters = replace(filters, tenant_id=who.tenant_id)
        key = cursor_key(cursor)
        rows = await self.repo.list(
            filters, before=None if key is None else str(key), limit=limit + 1
        )
        page = page_from(rows, limit, lambda i: i.id)
        return Page([scoped(i, who) for i in page.items], page.next_cursor)

    async def timeline(self, who: Principal, incident_id: str) -> builtins.list[Entry]:
        incident = await self.get(who, incident_id)
        entries = await self.repo.timeline(incident.id)
        if who.tenant_id is None:
            return entries
        # another tenant's alerts and arrival are not this tenant's to see
        return [e for e in entries if e.data.get("tenant") in (None, who.tenant_id)]

    async def recent(self, days: float = 30) -> builtins.list[Incident]:
        """Active incidents and those detected in the last `days` (for MTTA/MTTR)."""
        now = self.clock()
        since = now - timedelta(days=days)
        return [i for i in await self.repo.candidates(since) if i.active or i.detected_at >= since]

    async def recovery_minutes(
        self, tenant_id: str, start: datetime, end: datetime
    ) -> builtins.list[float]:
        """Time to resolve, in minutes, of each incident of the tenant resolved in
        [start, end): the SLA's recovery-time objective reads these."""
        found = await self.repo.resolved_between(tenant_id, start, end)
        return [ttr.total_seconds() / 60 for i in found if (ttr := i.time_to_resolve) is not None]

    # -- changes -------------------------------------------------------------------------
    async def _store_new(self, incident: Incident, entries: builtins.list[Entry]) -> Incident:
        day = incident.detected_at.astimezone(UTC).strftime("%Y%m%d")
        for _ in range(MAX_ATTEMPTS):
            number = await self.repo.next_number(day)
            numbered = replace(
                incident, id=incident_id(incident.detected_at.astimezone(UTC), number)
            )
            if await self.repo.insert(numbered, entries):
                return numbered
        raise RuntimeError("could not number a new incident; retry")

    async def create(
        self,
        who: Principal,
        *,
        title: str,
        severity: Severity,
        tenants: Sequence[str] = (),
        summary: str = "",
        services: Sequence[str] = (),
        runbook: str | None = None,
    ) -> Incident:
        """Open an incident by hand (a tenant-bound caller only for its own tenant)."""
        if who.tenant_id is not None and set(tenants) != {who.tenant_id}:
            raise Invalid("a tenant's key opens incidents of its own tenant only", field="tenants")
        tiers = await self.tenant_tiers()
        unknown = [t for t in tenants if t not in tiers]
        if unknown:
            raise Invalid(f"unknown tenant {unknown[0]!r}", field="tenants")
        now = self.clock()
        incident = Incident(
            id="",
            title=title,
            severity=severity,
            status=Status.OPEN,
            detected_at=now,
            summary=summary,
            services=tuple(services),
            tenants=tuple(AffectedTenant(t, tiers.get(t), now) for t in dict.fromkeys(tenants)),
            runbook=runbook,
            auto_resolve=False,
            created_by=who.actor,
        )
        entries = [Entry(now, EntryKind.CREATED, who.actor, f"{severity} incident opened: {title}")]
        async with self._lock:
            return scoped(await self._store_new(incident, entries), who)

    async def _change(
        self, who: Principal, incident_id: str, change: Callable[[Incident], Change]
    ) -> Incident:
        async with self._lock:
            current = await self.repo.get(incident_id)
            if current is None or (
                who.tenant_id is not None and who.tenant_id not in current.tenant_ids
            ):
                raise _not_found(incident_id)
            try:
                new, entries = change(current)
            except TransitionError as exc:
                raise Invalid(str(exc), field="status") from exc
            if entries:
                await self.repo.save(new, entries)
        return scoped(new, who)

    async def acknowledge(self, who: Principal, incident_id: str) -> Incident:
        return await self._change(
            who, incident_id, lambda i: lifecycle.acknowledge(i, self.clock(), who.actor)
        )

    async def transition(
        self, who: Principal, incident_id: str, to: Status, reason: str = ""
    ) -> Incident:
        def change(i: Incident) -> Change:
            if to is Status.OPEN and not i.active:
                return lifecycle.reopen(i, self.clock(), who.actor, reason or "reopened by hand")
            return lifecycle.transition(i, to, self.clock(), who.actor, reason)

        return await self._change(who, incident_id, change)

    async def note(
        self, who: Principal, incident_id: str, text: str, *, pinned: bool = False
    ) -> Incident:
        return await self._change(
            who,
            incident_id,
            lambda i: lifecycle.note(i, self.clock(), who.actor, text, pinned=pinned),
        )

    async def update(self, who: Principal, incident_id: str, text: str) -> Incident:
        return await self._change(
            who, incident_id, lambda i: lifecycle.update(i, self.clock(), who.actor, text)
        )

    async def tenant_status(self, who: Principal, tenant_id: str) -> TenantStatus:
        """The tenant's status from its active incidents (404 for a tenant `who` may not
        see: the caller checks the tenant exists)."""
        if not who.sees_tenant(tenant_id):
            raise NotFound(f"tenant {tenant_id!r} not found")
        now = self.clock()
        active = [i for i in await self.repo.candidates(now) if i.active]
        mine = [scoped(i, who) for i in active if tenant_id in i.tenant_ids]
        timelines = {i.id: await self.repo.timeline(i.id) for i in mine}
        return status_of(tenant_id, mine, timelines)

    async def assign(self, who: Principal, incident_id: str, role: Role, user: str) -> Incident:
        return await self._change(
            who, incident_id, lambda i: lifecycle.assign(i, role, user, self.clock(), who.actor)
        )

    async def record(self, incident_id: str, entries: Sequence[Entry]) -> None:
        """Append entries another part wrote (an action's outcome, a notification sent)."""
        async with self._lock:
            current = await self.repo.get(incident_id)
            if current is not None and entries:
                await self.repo.save(current, list(entries))

    # -- alerts --------------------------------------------------------------------------
    async def ingest(self, events: Sequence[AlertEvent]) -> builtins.list[Incident]:
        """Alerts into incidents, in order; return the incidents that changed."""
        if not events:
            return []
        tiers = await self.tenant_tiers()
        changed: dict[str, Incident] = {}
        window = max((r.reopen_window for r in self.rules), default=timedelta(hours=1))
        async with self._lock:
            # read once; each change is applied to this list (a storm is one read, not one
            # per alert), and this lock keeps it the truth while the batch runs
            candidates = await self.repo.candidates(self.clock() - window)
            for event in events:
                result = await self._one(event, candidates, tiers, self.clock())
                if result is not None:
                    changed[result.id] = result
                    others = [i for i in candidates if i.id != result.id]
                    candidates[:] = [result, *others]
        return list(changed.values())

    async def _one(
        self,
        event: AlertEvent,
        candidates: builtins.list[Incident],
        tiers: Mapping[str, str],
        now: datetime,
    ) -> Incident | None:
        labels = dict(event.labels)
        tenant = labels.get("tenant")
        if not event.firing:
            for inc in candidates:
                if inc.active and any(
                    a.fingerprint == event.fingerprint and a.firing for a in inc.alerts
                ):
                    new, done = lifecycle.alert_resolved(inc, event.fingerprint, now)
                    await self.repo.save(new, done)
                    return new
            return None
        decision = decide(labels, event.fingerprint, candidates, now, self.rules)
        if decision.action == "none" or decision.severity is None:
            return None
        alert = LinkedAlert(
            fingerprint=event.fingerprint,
            alertname=labels.get("alertname", ""),
            tenant_id=tenant,
            labels=labels,
            firing=True,
            starts_at=event.starts_at,
            source=event.source,
            annotations=dict(event.annotations),
        )
        tier = tiers.get(tenant) if tenant else None
        entries: builtins.list[Entry] = []
        if decision.action == "open":
            assert decision.rule is not None
            notes = event.annotations
            incident = Incident(
                id="",
                title=notes.get("summary") or labels.get("alertname") or "alert",
                severity=decision.severity,
                status=Status.OPEN,
                detected_at=now,
                group_key=decision.key,
                summary=notes.get("description", ""),
                services=tuple(v for k in ("service", "job") if (v := labels.get(k))),
                runbook=notes.get("runbook_url") or notes.get("runbook"),
                auto_resolve=decision.rule.auto_resolve,
            )
            text = f"{decision.severity} incident opened by {alert.alertname} (rule {decision.rule.name})"
            entries.append(Entry(now, EntryKind.CREATED, "system", text))
            incident, more = lifecycle.attach_alert(incident, alert, tier, now)
            return await self._store_new(incident, entries + more)
        assert decision.incident is not None
        incident = decision.incident
        if decision.action == "reopen":
            incident, entries = lifecycle.reopen(
                incident, now, "system", f"{alert.alertname} fired again"
            )
        incident, more = lifecycle.attach_alert(incident, alert, tier, now)
        entries += more
        if entries:
            await self.repo.save(incident, entries)
        return incident

    async def reconcile(self, firing: Sequence[AlertEvent]) -> builtins.list[Incident]:
        """Bring incidents in line with what the alert manager fires now: alerts no longer
        firing resolve; firing ones not yet linked are ingested."""
        now = self.clock()
        live = {e.fingerprint for e in firing}
        active = [i for i in await self.repo.candidates(now) if i.active]
        linked = {a.fingerprint for i in active for a in i.alerts if a.firing}
        gone = [
            AlertEvent(a.fingerprint, a.labels, a.annotations, False, a.starts_at, now, a.source)
            for i in active
            for a in i.alerts
            if a.firing and a.source == "internal" and a.fingerprint not in live
        ]
        new = [e for e in firing if e.fingerprint not in linked]
        return await self.ingest([*gone, *new])

    async def escalate_overdue(self, to: str) -> builtins.list[Incident]:
        """Escalate the incidents not acknowledged within their response target."""
        now = self.clock()
        out = []
        async with self._lock:
            for inc in await self.repo.candidates(now):
                if lifecycle.overdue(inc, now):
                    new, entries = lifecycle.escalate(inc, now, to)
                    await self.repo.save(new, entries)
                    out.append(new)
        return out
