"""/api/v1/audit: the audit log of every change, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tenantwatch.web.deps import DEFAULT_PAGE, Admin, Cursor, Limit, RuntimeDep
from tenantwatch.web.errors import AUTH
from tenantwatch.web.schemas import NO_NUL, AuditOut, AuditPage

router = APIRouter(prefix="/audit", tags=["audit"], responses=AUTH)


@router.get("", response_model=AuditPage, summary="Read the audit log")
async def list_audit(
    rt: RuntimeDep,
    who: Admin,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
    object_type: Annotated[str | None, Query(max_length=32, pattern=NO_NUL)] = None,
    object_id: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
) -> AuditPage:
    page = await rt.audit.list(
        who, cursor=cursor, limit=limit, object_type=object_type, object_id=object_id
    )
    return AuditPage(items=[AuditOut.of(e) for e in page.items], next_cursor=page.next_cursor)
