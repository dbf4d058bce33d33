"""Response bodies of the notifications log (/api/v1/notifications, the inspector)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from tenantwatch.domain.notifications import NotificationRow

Status = Literal["pending", "sending", "sent", "dead", "superseded"]


def _iso(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


class NotificationOut(BaseModel):
    id: int
    tenant_id: str | None
    receiver: str
    integration: str
    kind: str
    target: str
    group_key: str | None = Field(
        description="the alert group the notification was for (Alertmanager's group key)"
    )
    fingerprints: list[str] | None = Field(
        description="fingerprints of the alerts it carried; null for notifications "
        "enqueued before tenantwatch recorded them"
    )
    alert_status: str
    status: Status
    superseded_by: int | None = Field(
        description="when superseded: the newer notification of the same receiver, "
        "integration and group that replaced it before it was sent"
    )
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    latency_ms: float | None

    @classmethod
    def of(cls, r: NotificationRow) -> NotificationOut:
        waiting = r.status in ("pending", "sending")
        return cls(
            id=r.id,
            tenant_id=r.tenant_id,
            receiver=r.receiver,
            integration=r.integration,
            kind=r.kind,
            target=r.target,
            group_key=r.group_key,
            fingerprints=list(r.fingerprints) if r.fingerprints is not None else None,
            alert_status=r.alert_status,
            status=r.status,
            superseded_by=r.superseded_by,
            attempts=r.attempts,
            created_at=datetime.fromtimestamp(r.created_at, UTC),
            last_attempt_at=_iso(r.last_attempt_at),
            sent_at=_iso(r.sent_at),
            next_attempt_at=_iso(r.next_attempt_at) if waiting else None,
            last_status_code=r.last_status_code,
            last_error=r.last_error,
            latency_ms=round(r.latency_ms, 3) if r.latency_ms is not None else None,
        )


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class NotificationCounts(BaseModel):
    pending: int
    sending: int
    sent: int
    dead: int
    superseded: int
