"""/api/v1/notifications: the delivery log of the outbox, and putting a dead letter back.

What a notification sends (its stored request: URLs with tokens, auth headers) is never
shown; `target` is the redacted destination. Each notification names the alerts it carried
(their fingerprints) and its group key; one that a newer notification of its group
replaced before it was sent is `superseded`, and names that one (`superseded_by`).
Tenant-bound keys see their tenant's rows. Putting a dead notification back is recorded in
the audit log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from tenantwatch.runtime.root import Runtime
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
from tenantwatch.web.notification_schemas import (
    NotificationCounts,
    NotificationOut,
    NotificationPage,
    Status,
)
from tenantwatch.web.schemas import NO_NUL, TenantId

router = APIRouter(prefix="/notifications", tags=["notifications"], responses=AUTH)
NotificationId = Annotated[int, Path(ge=1, lt=2**63, description="the notification's id")]
Receiver = Annotated[str, Query(max_length=200, pattern=NO_NUL, description="receiver name")]
Kind = Annotated[str, Query(pattern=r"^[a-z_]{1,16}$", description="webhook, slack, email, ...")]
Failing = Annotated[
    bool,
    Query(description="only notifications not sent whose last attempt failed (retrying or dead)"),
]


def notification_service(rt: Runtime) -> NotificationService:
    """The runtime's delivery log."""
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
