"""Incidents: severity (seed 003's P1-P4 with their response targets), the lifecycle
open -> investigating -> identified -> monitoring -> resolved, roles, the affected tenants
and the timeline. Frozen values; every change returns a new incident (lifecycle.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    P1 = "P1"  # complete outage, data loss, security breach
    P2 = "P2"  # partial degradation, performance issues affecting users
    P3 = "P3"  # minor issues, monitoring alerts
    P4 = "P4"  # low


# seed 003: the time within which someone must respond (acknowledge)
RESPONSE_TARGET: dict[Severity, timedelta] = {
    Severity.P1: timedelta(minutes=15),
    Severity.P2: timedelta(hours=1),
    Severity.P3: timedelta(hours=4),
    Severity.P4: timedelta(hours=24),
}


class Status(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


ORDER = (Status.OPEN, Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED)


class Role(StrEnum):
    COMMANDER = "incident_commander"
    TECHNICAL_LEAD = "technical_lead"
    COMMUNICATIONS_LEAD = "communications_lead"
    SCRIBE = "scribe"


class EntryKind(StrEnum):
    CREATED = "created"
    STATUS = "status"  # a state change
    ACKNOWLEDGED = "acknowledged"
    ALERT_FIRING = "alert_firing"
    ALERT_RESOLVED = "alert_resolved"
    TENANT_AFFECTED = "tenant_affected"
    ASSIGNED = "assigned"
    NOTE = "note"
    UPDATE = "update"  # a public status update: the affected tenants' status shows it
    ACTION = "action"  # an automated or manual action and its outcome
    NOTIFICATION = "notification"
    ESCALATED = "escalated"
    SEVERITY = "severity"
    REOPENED = "reopened"


@dataclass(frozen=True)
class Entry:
    """One line of the timeline, in order of `at` then `seq`."""

    at: datetime
    kind: EntryKind
    author: str  # "system", an API key's actor, a user
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    pinned: bool = False
    seq: int = 0  # order within the incident, given when stored


@dataclass(frozen=True)
class AffectedTenant:
    tenant_id: str
    tier: str | None
    since: datetime


@dataclass(frozen=True)
class LinkedAlert:
    fingerprint: str
    alertname: str
    tenant_id: str | None
    labels: dict[str, str]
    firing: bool
    starts_at: datetime
    ends_at: datetime | None = None
    # "internal": tenantwatch's alert manager (reconciled with what fires); "webhook": an
    # external Alertmanager's webhook (resolved when it says so)
    source: str = "internal"
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Incident:
    id: str  # INC-20261207-0042
    title: str
    severity: Severity
    status: Status
    detected_at: datetime
    group_key: str | None = None  # how alerts join it (grouping.py); None: opened by hand
    summary: str = ""
    services: tuple[str, ...] = ()
    tenants: tuple[AffectedTenant, ...] = ()
    alerts: tuple[LinkedAlert, ...] = ()
    roles: dict[Role, str] = field(default_factory=dict)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    escalated_at: datetime | None = None
    reopened: int = 0
    runbook: str | None = None  # a URL or a stored runbook's name
    auto_resolve: bool = True  # resolve when all its alerts have resolved
    created_by: str = "system"

    @property
    def active(self) -> bool:
        return self.status is not Status.RESOLVED

    @property
    def tenant_ids(self) -> tuple[str, ...]:
        return tuple(t.tenant_id for t in self.tenants)

    @property
    def response_due(self) -> datetime:
        """When it must be acknowledged (seed 003's response target)."""
        return self.detected_at + RESPONSE_TARGET[self.severity]

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        """TTA: detection to acknowledgement."""
        return None if self.acknowledged_at is None else self.acknowledged_at - self.detected_at

    @property
    def time_to_resolve(self) -> timedelta | None:
        """TTR: detection to resolution."""
        return None if self.resolved_at is None else self.resolved_at - self.detected_at

    @property
    def firing_alerts(self) -> tuple[LinkedAlert, ...]:
        return tuple(a for a in self.alerts if a.firing)


def incident_id(day: datetime, number: int) -> str:
    """Seed 000's readable id: INC-<UTC date>-<number of the day, 4 digits>."""
    return f"INC-{day:%Y%m%d}-{number:04d}"
