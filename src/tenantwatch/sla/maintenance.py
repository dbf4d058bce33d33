"""Maintenance windows: once (start to end) or recurring (a cron schedule in the tenant's
timezone, each occurrence lasting `duration_s`), as the ms windows that overlap a period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from tenantwatch.sla.availability import Window

MAX_OCCURRENCES = 10_000  # a cron every minute over a year is refused, not looped over


@dataclass(frozen=True)
class Maintenance:
    name: str
    tenants: frozenset[str]  # empty: every tenant
    start: datetime | None = None
    end: datetime | None = None
    cron: str | None = None
    duration_s: float = 0.0

    def applies_to(self, tenant_id: str) -> bool:
        return not self.tenants or tenant_id in self.tenants


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _occurrences(m: Maintenance, lo: datetime, hi: datetime, zone: ZoneInfo) -> list[Window]:
    assert m.cron is not None
    length = timedelta(seconds=m.duration_s)
    it = croniter(m.cron, (lo - length).astimezone(zone))
    out: list[Window] = []
    for _ in range(MAX_OCCURRENCES):
        begin: datetime = it.get_next(datetime)
        if begin >= hi:
            break
        out.append((_ms(begin), _ms(begin + length)))
    return out


def windows(
    tenant_id: str, zone: ZoneInfo, period: Window, plan: Sequence[Maintenance]
) -> list[Window]:
    """The tenant's maintenance within the period, as [start, end) ms windows."""
    lo = datetime.fromtimestamp(period[0] / 1000, tz=zone)
    hi = datetime.fromtimestamp(period[1] / 1000, tz=zone)
    out: list[Window] = []
    for m in plan:
        if not m.applies_to(tenant_id):
            continue
        if m.cron is not None:
            out += _occurrences(m, lo, hi, zone)
        elif m.start is not None and m.end is not None:
            out.append((_ms(m.start), _ms(m.end)))
    return [
        (max(s, period[0]), min(e, period[1])) for s, e in out if e > period[0] and s < period[1]
    ]
