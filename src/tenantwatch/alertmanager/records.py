"""What tenantwatch keeps per alert beyond Alertmanager: tenant, severity, occurrences,
flapping, acknowledgement and manual resolution (seed 002's MonitoringAlert)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.domain.flapping import FlapConfig, FlapDecision, FlapState, flap_decision, observe

SEVERITIES = ("info", "warning", "error", "critical")
OCCURRENCE_WINDOW_S = 3600.0


def known_severity(labels: Mapping[str, str]) -> str | None:
    """The `severity` label when it is one of SEVERITIES, else None."""
    value = labels.get("severity")
    return value if value in SEVERITIES else None


@dataclass(frozen=True, slots=True)
class AlertRecord:
    alert: AmAlert
    source: str  # api | rules | custom
    first_occurred: float
    last_occurred: float
    occurrences: int = 1
    flap: FlapState = field(default_factory=FlapState)
    escalated: frozenset[int] = frozenset()  # escalation steps sent (policy sequence numbers)
    ack_at: float | None = None
    ack_by: str | None = None
    ack_until: float | None = None
    ack_notes: str | None = None
    resolved_by: str | None = None
    resolution_notes: str | None = None

    @property
    def flapping(self) -> bool:
        return self.flap.flapping

    @property
    def fingerprint(self) -> str:
        return self.alert.fingerprint

    @property
    def tenant_id(self) -> str | None:
        return self.alert.label_map().get("tenant")

    @property
    def severity(self) -> str | None:
        return known_severity(self.alert.label_map())

    def acknowledged(self, now: float) -> bool:
        """Acknowledged, and the acknowledgement has not run out."""
        return self.ack_at is not None and (self.ack_until is None or now < self.ack_until)

    def status(self, now: float) -> str:
        """seed 002's status: active, acknowledged or resolved."""
        if self.alert.resolved_at(now):
            return "resolved"
        return "acknowledged" if self.acknowledged(now) else "active"


def received(
    before: AlertRecord | None,
    alert: AmAlert,
    source: str,
    now: float,
    flap_config: FlapConfig | None = None,
) -> tuple[AlertRecord, FlapDecision]:
    """The record after the alert was received again (or for the first time), and what
    flap detection says about notifying this change.

    Seed 002's smart grouping: an alert that fires again within an hour of its first
    occurrence counts as one more occurrence; later it starts a new count. A change
    between firing and resolved is observed by flap detection. A new firing after a
    resolution clears the acknowledgement, the resolution notes and the escalation.
    """
    cfg = flap_config or FlapConfig()
    if before is None:
        return AlertRecord(alert, source, first_occurred=now, last_occurred=now), "notify"
    was_resolved = before.alert.resolved_at(now)
    firing = not alert.resolved_at(now)
    record = replace(before, alert=alert)
    changed = was_resolved == firing  # resolved -> firing or firing -> resolved
    decision: FlapDecision = "notify"
    if changed:
        flap = observe(before.flap, True, now, cfg)
        decision = flap_decision(before.flap, flap, now, cfg)
        record = replace(record, flap=flap)
    if firing and was_resolved:
        if now - before.first_occurred <= OCCURRENCE_WINDOW_S:
            record = replace(record, occurrences=before.occurrences + 1, last_occurred=now)
        else:
            record = replace(record, occurrences=1, first_occurred=now, last_occurred=now)
        record = replace(
            record,
            ack_at=None,
            ack_by=None,
            ack_until=None,
            ack_notes=None,
            resolved_by=None,
            resolution_notes=None,
            escalated=frozenset(),
        )
    elif firing:
        record = replace(record, last_occurred=now)
    return record, decision
