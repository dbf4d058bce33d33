"""Incident state changes, pure: each returns the new incident and the timeline entries
that record it. Moving past `open` acknowledges (someone is on it); `monitoring` marks it
mitigated; `resolved` ends it; a resolved incident only comes back by `reopen`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tenantwatch.incidents.model import (
    ORDER,
    AffectedTenant,
    Entry,
    EntryKind,
    Incident,
    LinkedAlert,
    Role,
    Status,
)

Change = tuple[Incident, list[Entry]]


class TransitionError(ValueError):
    """A change the lifecycle does not allow; the message says what to do instead."""


def acknowledge(inc: Incident, now: datetime, who: str) -> Change:
    if inc.acknowledged_at is not None:
        return inc, []
    if not inc.active:
        raise TransitionError(f"{inc.id} is resolved; reopen it first")
    new = replace(inc, acknowledged_at=now, acknowledged_by=who)
    return new, [Entry(now, EntryKind.ACKNOWLEDGED, who, f"acknowledged by {who}")]


def transition(inc: Incident, to: Status, now: datetime, who: str, reason: str = "") -> Change:
    """Move to `to` (any state of an active incident but `open`, which is where it starts)."""
    if to is inc.status:
        return inc, []
    if not inc.active:
        raise TransitionError(f"{inc.id} is resolved; reopen it to change its state")
    if to is Status.OPEN:
        raise TransitionError("an incident only starts open; move it to investigating")
    entries: list[Entry] = []
    if inc.acknowledged_at is None:
        inc, entries = acknowledge(inc, now, who)
    changes: dict[str, object] = {"status": to}
    if ORDER.index(to) >= ORDER.index(Status.MONITORING) and inc.mitigated_at is None:
        changes["mitigated_at"] = now
    if to is Status.RESOLVED:
        changes["resolved_at"] = now
    text = f"{inc.status} → {to}" + (f": {reason}" if reason else "")
    entries.append(
        Entry(now, EntryKind.STATUS, who, text, {"from": str(inc.status), "to": str(to)})
    )
    return replace(inc, **changes), entries  # type: ignore[arg-type]


def resolve(inc: Incident, now: datetime, who: str, reason: str = "") -> Change:
    return transition(inc, Status.RESOLVED, now, who, reason)


def reopen(inc: Incident, now: datetime, who: str, reason: str) -> Change:
    if inc.active:
        raise TransitionError(f"{inc.id} is not resolved")
    new = replace(
        inc,
        status=Status.OPEN,
        resolved_at=None,
        mitigated_at=None,
        reopened=inc.reopened + 1,
    )
    return new, [Entry(now, EntryKind.REOPENED, who, f"reopened: {reason}")]


def note(inc: Incident, now: datetime, who: str, text: str, *, pinned: bool = False) -> Change:
    return inc, [Entry(now, EntryKind.NOTE, who, text, pinned=pinned)]


def update(inc: Incident, now: datetime, who: str, text: str) -> Change:
    """A public status update: what the affected tenants' status page says."""
    return inc, [Entry(now, EntryKind.UPDATE, who, text, {"public": True}, pinned=True)]


def assign(inc: Incident, role: Role, user: str, now: datetime, who: str) -> Change:
    if inc.roles.get(role) == user:
        return inc, []
    roles = {**inc.roles, role: user}
    text = f"{user} is {role.replace('_', ' ')}"
    entry = Entry(now, EntryKind.ASSIGNED, who, text, {"role": str(role), "user": user})
    return replace(inc, roles=roles), [entry]


def attach_alert(inc: Incident, alert: LinkedAlert, tier: str | None, now: datetime) -> Change:
    """Link a firing alert (again); its tenant joins the affected tenants."""
    entries: list[Entry] = []
    others = tuple(a for a in inc.alerts if a.fingerprint != alert.fingerprint)
    known = next((a for a in inc.alerts if a.fingerprint == alert.fingerprint), None)
    if known is None or not known.firing:
        text = f"{alert.alertname} firing" + (f" for {alert.tenant_id}" if alert.tenant_id else "")
        data = {"fingerprint": alert.fingerprint, "labels": alert.labels, "tenant": alert.tenant_id}
        entries.append(Entry(now, EntryKind.ALERT_FIRING, "system", text, data))
    tenants = inc.tenants
    if alert.tenant_id is not None and alert.tenant_id not in inc.tenant_ids:
        tenants = (*tenants, AffectedTenant(alert.tenant_id, tier, now))
        text = f"{alert.tenant_id} affected" + (f" ({tier})" if tier else "")
        data = {"tenant": alert.tenant_id, "tier": tier}
        entries.append(Entry(now, EntryKind.TENANT_AFFECTED, "system", text, data))
    return replace(inc, alerts=(*others, alert), tenants=tenants), entries


def alert_resolved(inc: Incident, fingerprint: str, now: datetime) -> Change:
    """Mark a linked alert resolved; with auto_resolve, the last one resolves the incident."""
    known = next((a for a in inc.alerts if a.fingerprint == fingerprint), None)
    if known is None or not known.firing:
        return inc, []
    done = replace(known, firing=False, ends_at=now)
    inc = replace(inc, alerts=tuple(done if a is known else a for a in inc.alerts))
    entries = [
        Entry(
            now,
            EntryKind.ALERT_RESOLVED,
            "system",
            f"{known.alertname} resolved",
            {"fingerprint": fingerprint},
        )
    ]
    if inc.active and inc.auto_resolve and not inc.firing_alerts:
        inc, more = resolve(inc, now, "system", "all its alerts resolved")
        entries += more
    return inc, entries


def overdue(inc: Incident, now: datetime) -> bool:
    """Not acknowledged within its severity's response target (seed 003), not yet escalated."""
    return (
        inc.active
        and inc.acknowledged_at is None
        and inc.escalated_at is None
        and now >= inc.response_due
    )


def escalate(inc: Incident, now: datetime, to: str) -> Change:
    entry = Entry(
        now,
        EntryKind.ESCALATED,
        "system",
        f"not acknowledged within {inc.response_due - inc.detected_at}; escalated to {to}",
        {"to": to},
    )
    return replace(inc, escalated_at=now), [entry]
