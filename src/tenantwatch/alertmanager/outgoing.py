"""What the alert manager hands the notification outbox: one notification per integration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from tenantwatch.alertmanager.notify_payloads import OutboundRequest
from tenantwatch.domain.outbox_order import Role


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notification for the outbox.

    `role` says which newer notification of the same receiver, integration and group
    supersedes it while it waits (domain/outbox_order): a group's flush is a `state`, a
    PagerDuty acknowledge an `acknowledge`, flap and escalation messages `notice`s.
    """

    idempotency_key: str
    tenant_id: str | None
    receiver: str
    integration: str
    group_key: str
    alert_status: str
    request: OutboundRequest
    fingerprints: tuple[str, ...] = ()  # the alerts it carries
    role: Role = "state"


Enqueue = Callable[[Sequence[Outgoing]], Awaitable[None]]
