"""/api/v1/notifications: the delivery log of the outbox, and putting a dead letter back.

What a notification sends (its stored request: URLs with tokens, auth headers) is never
shown; `target` is the redacted destination. Tenant-bound keys see their tenant's rows.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from tenantwatch.adapters.db.repos.notifications import NotificationRow, SqlNotificationRepo
from tenantwatch.domain.apikeys import Principal
from tenantwatch.domain.pagination import page_from
from tenantwatch.domain.tenants import tenant_id_problem
from tenantwatch.runtime import Runtime
from tenantwatch.services.access import cursor_key
from tenantwatch.services.errors import Conflict, Invalid, NotFound
from tenantwatch.web.deps import DEFAULT_PAGE, Admin, Cursor, Limit, Reader, RuntimeDep
from tenantwatch.web.errors import AUTH, responses
from tenantwatch.web.schemas import NO_NUL, TenantId

router = APIRouter(prefix="/notifications", tags=["notifications"], responses=AUTH)
Status = Literal["pending", "sending", "sent", "dead"]
NotificationId = Annotated[int, Path(ge=1, lt=2**63, description="the notification's id")]
Receiver = Annotated[str, Query(max_length=200, pattern=NO_NUL, description="receiver name")]
Kind = Annotated[str, Query(pattern=r"^[a-z_]{1,16}$", description="webhook, slack, email, ...")]


def _iso(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


class NotificationOut(BaseModel):
    id: int
    tenant_id: str | None
    receiver: str
    integration: str
    kind: str
    target: str
    group_key: str | None
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


def _repo(rt: Runtime) -> SqlNotificationRepo:
    return rt.outbox.repo if rt.outbox is not None else SqlNotificationRepo(rt.engine)


def _tenant_scope(who: Principal, tenant: str | None) -> str | None:
    """The tenant to filter by; 404 for a tenant the caller cannot see."""
    if tenant is not None and (tenant_id_problem(tenant) or not who.sees_tenant(tenant)):
        raise NotFound(f"tenant {tenant!r} not found")
    return tenant if tenant is not None else who.tenant_id


async def _visible(rt: Runtime, who: Principal, notification_id: int) -> NotificationRow:
    row = await _repo(rt).get(notification_id)
    if row is None or not who.sees_tenant(row.tenant_id):
        raise NotFound(f"notification {notification_id} not found")
    return row


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
) -> NotificationPage:
    key = cursor_key(cursor)
    if key is not None and not isinstance(key, int):
        raise Invalid("invalid cursor; pass the next_cursor of a previous page", field="cursor")
    rows = await _repo(rt).list(
        before_id=key,
        limit=limit + 1,
        tenant_id=_tenant_scope(who, tenant),
        status=status,
        receiver=receiver,
        kind=kind,
    )
    page = page_from(rows, limit, lambda r: r.id)
    return NotificationPage(
        items=[NotificationOut.of(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/counts", response_model=NotificationCounts, summary="How many notifications per status"
)
async def count_notifications(
    rt: RuntimeDep, who: Reader, tenant: Annotated[TenantId | None, Query()] = None
) -> NotificationCounts:
    return NotificationCounts(**await _repo(rt).counts(_tenant_scope(who, tenant)))


@router.get(
    "/{notification_id}",
    response_model=NotificationOut,
    summary="One notification's delivery state",
    responses=responses(404),
)
async def get_notification(
    notification_id: NotificationId, rt: RuntimeDep, who: Reader
) -> NotificationOut:
    return NotificationOut.of(await _visible(rt, who, notification_id))


@router.post(
    "/{notification_id}/retry",
    response_model=NotificationOut,
    summary="Send a dead notification again, with a fresh set of attempts",
    responses=responses(404, 409),
)
async def retry_notification(
    notification_id: NotificationId, rt: RuntimeDep, who: Admin
) -> NotificationOut:
    row = await _visible(rt, who, notification_id)
    now = rt.outbox.now() if rt.outbox is not None else time.time()
    if not await _repo(rt).retry_dead(notification_id, now):
        raise Conflict(
            f"notification {notification_id} is {row.status}, not dead; "
            "only dead notifications can be retried"
        )
    if rt.outbox is not None:
        rt.outbox.wake()
    return NotificationOut.of(await _visible(rt, who, notification_id))
