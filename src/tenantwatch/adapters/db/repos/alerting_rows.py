"""The alert manager's rows: alert records, silences and notification-log entries to and
from their table columns (plain dicts, column -> value)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantwatch.alertmanager import nflog
from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.flush_plan import LogEntry
from tenantwatch.alertmanager.records import AlertRecord, known_severity
from tenantwatch.alertmanager.silences import (
    Recurrence,
    Silence,
    matchers_from_api,
    matchers_to_api,
)
from tenantwatch.domain.flapping import FlapState


def flap_to_json(state: FlapState) -> dict[str, Any]:
    out = {name: getattr(state, name) for name in FlapState.__dataclass_fields__}
    out["transitions"] = list(state.transitions)
    return out


def flap_from_json(data: Any) -> FlapState:
    if not isinstance(data, dict):  # older rows kept a plain list of change times
        return FlapState(transitions=tuple(data or ()))
    known = {k: v for k, v in data.items() if k in FlapState.__dataclass_fields__}
    known["transitions"] = tuple(known.get("transitions") or ())
    return FlapState(**known)


_QUIET = FlapState()
_QUIET_JSON = flap_to_json(_QUIET)


def record_to_row(r: AlertRecord) -> dict[str, Any]:
    a = r.alert
    labels = a.label_map()
    return {
        "fingerprint": a.fingerprint,
        "tenant_id": labels.get("tenant"),
        "labels": labels,
        "annotations": a.annotation_map(),
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "updated_at": a.updated_at,
        "generator_url": a.generator_url,
        "timeout": a.timeout,
        "source": r.source,
        "severity": known_severity(labels),
        "first_occurred": r.first_occurred,
        "last_occurred": r.last_occurred,
        "occurrences": r.occurrences,
        "transitions": _QUIET_JSON if r.flap == _QUIET else flap_to_json(r.flap),
        "flapping": r.flapping,
        "escalated": sorted(r.escalated),
        "ack_at": r.ack_at,
        "ack_by": r.ack_by,
        "ack_until": r.ack_until,
        "ack_notes": r.ack_notes,
        "resolved_by": r.resolved_by,
        "resolution_notes": r.resolution_notes,
    }


def record_from_row(row: Mapping[str, Any]) -> AlertRecord:
    alert = AmAlert.of(
        labels=row["labels"],
        annotations=row["annotations"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        updated_at=row["updated_at"],
        generator_url=row["generator_url"],
        timeout=bool(row["timeout"]),
    )
    return AlertRecord(
        alert=alert,
        source=row["source"],
        first_occurred=row["first_occurred"],
        last_occurred=row["last_occurred"],
        occurrences=row["occurrences"],
        flap=flap_from_json(row["transitions"]),
        escalated=frozenset(row.get("escalated") or ()),
        ack_at=row["ack_at"],
        ack_by=row["ack_by"],
        ack_until=row["ack_until"],
        ack_notes=row["ack_notes"],
        resolved_by=row["resolved_by"],
        resolution_notes=row["resolution_notes"],
    )


def silence_to_row(s: Silence) -> dict[str, Any]:
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


def log_to_row(e: LogEntry) -> dict[str, Any]:
    return {
        "key": e.key,
        "receiver": e.receiver,
        "integration": e.integration,
        "group_key": e.group_key,
        "firing": sorted(e.entry.firing),
        "resolved": sorted(e.entry.resolved),
        "at": e.entry.timestamp,
        "expires_at": e.entry.expires_at,
    }


def log_from_row(row: Mapping[str, Any]) -> LogEntry:
    entry = nflog.Entry(
        firing=frozenset(row["firing"]),
        resolved=frozenset(row["resolved"]),
        timestamp=row["at"],
        expires_at=row["expires_at"],
    )
    return LogEntry(row["key"], row["receiver"], row["integration"], row["group_key"], entry)
