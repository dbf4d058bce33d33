"""/api/v1/notifications: the delivery log of the outbox, and putting a dead letter back.

What a notification sends (its stored request: URLs with tokens, auth headers) is never
shown; `target` is the redacted destination. Each notification names the alerts it carried
(their fingerprints) and its group key. Tenant-bound keys see their tenant's rows. Putting
a dead notification back is recorded in the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from tenantwatch.domain.notifications import NotificationRow
from tenantwatch.runtime import Runtime
from tenantwatch.services.notifications import NotificationService
from tenantwatch.web.deps import (
    DEFAULT_PAGE,
    Admin,
    Cursor,
    Limit,
    Reader,
    RequestId,
    RuntimeDep,
)
from tenantwatch.web.errors import AUTH, responses
from tenantwatch.web.schemas import NO_NUL, TenantId

router = APIRouter(prefix="/notifications", tags=["notifications"], responses=AUTH)
Status = Literal["pending", "sending", "sent", "dead"]
NotificationId = Annotated[int, Path(ge=1, lt=2**63, description="the notification's id")]
Receiver = Annotated[str, Query(max_length=200, pattern=NO_NUL, description="receiver name")]
Kind = Annotated[str, Query(pattern=r"^[a-z_]{1,16}$", description="webhook, slack, email, ...")]
Failing = Annotated[
    bool,
    Query(description="only notifications not sent whose last attempt failed (retrying or dead)"),
]


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


def notification_service(rt: Runtime) -> NotificationService:
    """The runtime's delivery log (built by build_runtime)."""
    if rt.notifications is None:
        raise RuntimeError("the runtime has no notification service; build it with build_runtime")
    return rt.notifications


@router.get("", response_model=NotificationPage, summary="The delivery log, newest first")
async def list_notifications(
    rt: RuntimeDep,
    who: Reader,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
    tenant: Annotated[TenantId | None, Query()] = None,
    status: Status | None = None,
    receiver: Receiver | None = None,
    kind: Kind | None = None,
    failing: Failing = False,
) -> NotificationPage:
    page = await notification_service(rt).list(
        who,
        cursor=cursor,
        limit=limit,
        tenant=tenant,
        status=status,
        receiver=receiver,
        kind=kind,
        failing=failing,
    )
    return NotificationPage(
        items=[NotificationOut.of(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/counts", response_model=NotificationCounts, summary="How many notifications per status"
)
async def count_notifications(
    rt: RuntimeDep, who: Reader, tenant: Annotated[TenantId | None, Query()] = None
) -> NotificationCounts:
    return NotificationCounts(**await notification_service(rt).counts(who, tenant))


@router.get(
    "/{notification_id}",
    response_model=NotificationOut,
    summary="One notification's delivery state",
    responses=responses(404),
)
async def get_notification(
    notification_id: NotificationId, rt: RuntimeDep, who: Reader
) -> NotificationOut:
    return NotificationOut.of(await notification_service(rt).get(who, notification_id))


@router.post(
    "/{notification_id}/retry",
    response_model=NotificationOut,
    summary="Send a dead notification again, with a fresh set of attempts (audited)",
    responses=responses(404, 409),
)
async def retry_notification(
    notification_id: NotificationId, rt: RuntimeDep, who: Admin, rid: RequestId
) -> NotificationOut:
    row = await notification_service(rt).retry(who, notification_id, request_id=rid)
    return NotificationOut.of(row)
