"""A tenant's current status from the incidents affecting it (pure), as a status page
shows it: the worst active incident decides (P1 major outage, P2 partial outage, P3 and
P4 degraded), and each incident brings its public updates, newest first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tenantwatch.incidents.model import Entry, EntryKind, Incident, Severity

LEVEL = {
    Severity.P1: "major_outage",
    Severity.P2: "partial_outage",
    Severity.P3: "degraded",
    Severity.P4: "degraded",
}
RANK = ["operational", "degraded", "partial_outage", "major_outage"]


@dataclass(frozen=True)
class TenantStatus:
    tenant_id: str
    status: str
    incidents: tuple[tuple[Incident, tuple[Entry, ...]], ...]


def tenant_status(
    tenant_id: str,
    incidents: Sequence[Incident],
    timelines: Mapping[str, Sequence[Entry]],
) -> TenantStatus:
    mine = [i for i in incidents if i.active and tenant_id in i.tenant_ids]
    status = "operational"
    for inc in mine:
        level = LEVEL[inc.severity]
        if RANK.index(level) > RANK.index(status):
            status = level
    shown = tuple(
        (
            inc,
            tuple(
                sorted(
                    (e for e in timelines.get(inc.id, ()) if e.kind is EntryKind.UPDATE),
                    key=lambda e: (e.at, e.seq),
                    reverse=True,
                )
            ),
        )
        for inc in sorted(mine, key=lambda i: (i.severity, i.detected_at))
    )
    return TenantStatus(tenant_id, status, shown)
