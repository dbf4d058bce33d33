"""The SLA credit ledger in the database; a final entry is never overwritten."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.tables import sla_credits
from tenantwatch.services.sla_credits import CreditEntry


def _row(e: CreditEntry) -> dict[str, Any]:
    row = asdict(e)
    row["availability_percentage"] = (
        None if e.availability_percentage is None else str(e.availability_percentage)
    )
    row["credit_percentage"] = str(e.credit_percentage)
    return row


def _entry(row: Any) -> CreditEntry:
    m = row._mapping
    return CreditEntry(
        tenant_id=m["tenant_id"],
        month=m["month"],
        tier=m["tier"],
        availability_percentage=None
        if m["availability_percentage"] is None
        else Decimal(m["availability_percentage"]),
        credit_percentage=Decimal(m["credit_percentage"]),
        final=bool(m["final"]),
        computed_at=m["computed_at"],
    )


class SqlCreditLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def upsert(self, entries: Sequence[CreditEntry]) -> None:
        if not entries:
            return
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(sla_credits)
        keys = ("tenant_id", "month")
        columns = {c.name: stmt.excluded[c.name] for c in sla_credits.columns if c.name not in keys}
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_=columns, where=sla_credits.c.final.is_(False)
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt, [_row(e) for e in entries])

    async def final_months(self, month: str) -> set[str]:
        query = select(sla_credits.c.tenant_id).where(
            sla_credits.c.month == month, sla_credits.c.final.is_(True)
        )
        async with self.engine.connect() as conn:
            return {r[0] for r in (await conn.execute(query)).all()}

    async def list(self, tenant_id: str, *, before: str | None, limit: int) -> list[CreditEntry]:
        query = (
            select(sla_credits)
            .where(sla_credits.c.tenant_id == tenant_id)
            .order_by(sla_credits.c.month.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(sla_credits.c.month < before)
        async with self.engine.connect() as conn:
            return [_entry(r) for r in (await conn.execute(query)).all()]
