"""A notification as the delivery log shows it (never the request it sends), and what the
audit log keeps of one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

# superseded: never sent, because a newer notification of its group replaced it
STATUSES = ("pending", "sending", "sent", "dead", "superseded")


@dataclass(frozen=True, slots=True)
class NotificationRow:
    """One notification of the outbox: to whom, about which alerts, and how delivery went.

    `target` is the redacted destination; the stored request (URLs with tokens, auth
    headers) is not part of it.
    """

    id: int
    tenant_id: str | None
    idempotency_key: str
    receiver: str
    integration: str
    kind: str
    target: str
    group_key: str | None
    fingerprints: tuple[str, ...] | None  # None: enqueued before they were recorded
    alert_status: str
    status: str
    attempts: int
    next_attempt_at: float
    created_at: float
    last_attempt_at: float | None
    sent_at: float | None
    last_status_code: int | None
    last_error: str | None
    latency_ms: float | None
    role: str = "notice"  # state | acknowledge | notice (domain/outbox_order)
    superseded_by: int | None = None  # the newer notification of its group that replaced it
    first_attempt_at: float | None = None

    def snapshot(self) -> dict[str, Any]:
        """The fields the audit log records (JSON-ready; nothing secret is among them)."""
        out = asdict(self)
        if self.fingerprints is not None:
            out["fingerprints"] = list(self.fingerprints)
        return out

    def put_back(self, now: float) -> NotificationRow:
        """The notification queued again at `now` with a fresh set of attempts."""
        return replace(
            self, status="pending", attempts=0, next_attempt_at=now, first_attempt_at=None
        )
