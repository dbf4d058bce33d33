"""Checks in SQL: their definitions, with their history and heartbeat pings from the bases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tenantwatch.adapters.db.repos.check_heartbeats import SqlHeartbeats
from tenantwatch.adapters.db.repos.check_history import SqlCheckHistory
from tenantwatch.adapters.db.repos.check_rows import (
    check_of_row,
)
from tenantwatch.adapters.db.tables import (
    check_events,
    check_results,
    check_rollups,
    check_state,
    checks,
    heartbeat_pings,
    tenants,
)
from tenantwatch.domain.check_record import check_values
from tenantwatch.domain.checks import (
    Check,
    CheckStatus,
)
from tenantwatch.services.errors import Conflict

NO_SLOT = -(2**62)


def _check_values(c: Check) -> dict[str, Any]:
    """The columns an update writes: all but the id and when the check was made."""
    values = check_values(c)
    del values["id"], values["created_at"]
    return values


class SqlCheckRepo(SqlCheckHistory, SqlHeartbeats):
    """Checks in SQL; their history and heartbeats come from the two bases."""

    # -- checks ------------------------------------------------------------------------

    async def get(self, check_id: str) -> Check | None:
        row = (await self._conn.execute(select(checks).where(checks.c.id == check_id))).first()
        return check_of_row(row) if row else None

    async def many(self, check_ids: Sequence[str]) -> Sequence[Check]:
        if not check_ids:
            return []
        q = select(checks).where(checks.c.id.in_(bindparam("ids", expanding=True)))
        rows = (await self._conn.execute(q, {"ids": list(check_ids)})).all()
        return [check_of_row(r) for r in rows]

    async def by_token(self, token: str) -> Check | None:
        """The live check with this ping token (an archived check takes no pings)."""
        q = select(checks).where(checks.c.token == token, checks.c.archived_at.is_(None))
        row = (await self._conn.execute(q)).first()
        return check_of_row(row) if row else None

    async def list(
        self,
        *,
        after: str | None,
        limit: int,
        tenant_id: str | None = None,
        kind: str | None = None,
        archived: bool = False,
    ) -> Sequence[Check]:
        """Live checks in id order, or only the archived ones when `archived`."""
        q = select(checks).order_by(checks.c.id).limit(limit)
        q = q.where(
            checks.c.archived_at.is_not(None) if archived else checks.c.archived_at.is_(None)
        )
        if after is not None:
            q = q.where(checks.c.id > after)
        if tenant_id is not None:
            q = q.where(checks.c.tenant_id == tenant_id)
        if kind is not None:
            q = q.where(checks.c.kind == kind)
        return [check_of_row(r) for r in (await self._conn.execute(q)).all()]

    async def all(
        self, *, tenant_id: str | None = None, with_archived: bool = False
    ) -> Sequence[Check]:
        """Every live check (and the archived ones with `with_archived`), in id order."""
        q = select(checks).order_by(checks.c.id)
        if not with_archived:
            q = q.where(checks.c.archived_at.is_(None))
        if tenant_id is not None:
            q = q.where(checks.c.tenant_id == tenant_id)
        return [check_of_row(r) for r in (await self._conn.execute(q)).all()]

    async def version(self) -> tuple[object, ...]:
        """Changes when any check or tenant is added, changed or removed (a tenant's tier
        sets its checks' default interval, its status whether they run)."""
        found: list[object] = []
        for table in (checks, tenants):
            row = (
                await self._conn.execute(select(func.count(), func.max(table.c.updated_at)))
            ).one()
            found += [int(row[0]), str(row[1])]  # SQLite aggregates come back as text
        return tuple(found)

    async def insert(self, check: Check) -> None:
        values = check_values(check)
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(insert(checks).values(**values))
                await self._conn.execute(
                    insert(check_state).values(
                        check_id=check.id,
                        tenant_id=check.tenant_id,
                        status=str(CheckStatus.UNKNOWN),
                        failures=0,
                        successes=0,
                        last_slot=NO_SLOT,
                    )
                )
        except IntegrityError:
            raise Conflict(
                f"check id {check.id!r} or its ping token is taken; choose another"
            ) from None

    async def update(self, check: Check) -> bool:
        try:
            async with self._conn.begin_nested():
                result = await self._conn.execute(
                    update(checks).where(checks.c.id == check.id).values(**_check_values(check))
                )
        except IntegrityError:
            raise Conflict("this ping token is taken; choose another token") from None
        return bool(result.rowcount)

    async def delete(self, check_id: str) -> bool:
        for table in (check_results, check_events, check_rollups, heartbeat_pings):
            await self._conn.execute(delete(table).where(table.c.check_id == check_id))
        await self._conn.execute(delete(check_state).where(check_state.c.check_id == check_id))
        result = await self._conn.execute(delete(checks).where(checks.c.id == check_id))
        return bool(result.rowcount)

    async def delete_tenant_data(self, tenant_id: str) -> None:
        """Remove results, events, rollups and pings of a tenant (its checks cascade)."""
        for table in (check_results, check_events, check_rollups, heartbeat_pings):
            await self._conn.execute(delete(table).where(table.c.tenant_id == tenant_id))
