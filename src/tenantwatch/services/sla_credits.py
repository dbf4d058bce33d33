"""The SLA credit ledger: what each tenant is owed per month (its month, in its timezone).

The running month's entry is provisional and rewritten as it is measured; once a month has
ended its entry is measured whole and kept final (never rewritten).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from tenantwatch.domain.apikeys import SYSTEM, Principal
from tenantwatch.domain.pagination import Page, page_from
from tenantwatch.services.access import cursor_key
from tenantwatch.services.sla import SlaService
from tenantwatch.sla.report import TenantReport


@dataclass(frozen=True)
class CreditEntry:
    tenant_id: str
    month: str  # YYYY-MM
    tier: str
    availability_percentage: Decimal | None
    credit_percentage: Decimal
    final: bool
    computed_at: datetime


class CreditLedgerRepo(Protocol):
    async def upsert(self, entries: Sequence[CreditEntry]) -> None: ...

    async def final_months(self, month: str) -> set[str]:
        """The tenants whose entry for month is final."""
        ...

    async def list(self, tenant_id: str, *, before: str | None, limit: int) -> list[CreditEntry]:
        """The tenant's entries, newest month first, months before `before` only."""
        ...


def entry(report: TenantReport, final: bool) -> CreditEntry:
    local = report.period.start.astimezone(ZoneInfo(report.timezone))
    return CreditEntry(
        report.tenant_id,
        f"{local.year:04d}-{local.month:02d}",
        report.tier,
        report.availability_percentage,
        report.credit_percentage,
        final,
        report.generated_at,
    )


class SlaCredits:
    def __init__(self, sla: SlaService, repo: CreditLedgerRepo) -> None:
        self.sla = sla
        self.repo = repo

    async def record(self, month_to_date: Sequence[TenantReport]) -> int:
        """Write the running months' entries, and the previous month's final entry of each
        tenant that has none yet; return how many entries were written."""
        entries = [entry(r, final=False) for r in month_to_date if r.period.kind == "monthly"]
        closing = []
        checked: dict[str, set[str]] = {}
        for r in month_to_date:
            tenant = await self.sla.tenants.get(SYSTEM, r.tenant_id)
            day_before = (r.period.start - timedelta(hours=1)).astimezone(ZoneInfo(r.timezone))
            previous = f"{day_before.year:04d}-{day_before.month:02d}"
            if previous not in checked:
                checked[previous] = await self.repo.final_months(previous)
            if tenant.id in checked[previous]:
                continue
            period = self.sla.period_of(tenant, "monthly", day_before.date())
            report = await self.sla.measure(tenant, period)
            closing.append(entry(report, final=True))
        await self.repo.upsert([*closing, *entries])
        return len(closing) + len(entries)

    async def ledger(
        self, who: Principal, tenant_id: str, *, cursor: str | None, limit: int
    ) -> Page[CreditEntry]:
        await self.sla.tenants.get(who, tenant_id)  # 404 for a tenant `who` may not see
        key = cursor_key(cursor)
        rows = await self.repo.list(
            tenant_id, before=None if key is None else str(key), limit=limit + 1
        )
        return page_from(rows, limit, lambda e: e.month)
