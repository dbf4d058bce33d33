"""The audit log in SQL (append-only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantwatch.adapters.db.tables import audit_log
from tenantwatch.domain.audit import AuditEntry


def _row_to_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        tenant_id=row.tenant_id,
        before=row.before,
        after=row.after,
        request_id=row.request_id,
        note=row.note,
    )


class SqlAuditRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(self, entry: AuditEntry) -> None:
        await self._conn.execute(
            insert(audit_log).values(
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                tenant_id=entry.tenant_id,
                request_id=entry.request_id,
                before=dict(entry.before) if entry.before is not None else None,
                after=dict(entry.after) if entry.after is not None else None,
                note=entry.note,
            )
        )

    async def list(
        self,
        *,
        before_id: int | None,
        limit: int,
        tenant_id: str | None,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
    ) -> Sequence[AuditEntry]:
        q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(audit_log.c.id < before_id)
        if tenant_id is not None:
            q = q.where(audit_log.c.tenant_id == tenant_id)
        if object_type is not None:
            q = q.where(audit_log.c.object_type == object_type)
        if object_id is not None:
            q = q.where(audit_log.c.object_id == object_id)
        if since is not None:
            q = q.where(audit_log.c.at >= since)
        return [_row_to_entry(r) for r in await self._conn.execute(q)]
