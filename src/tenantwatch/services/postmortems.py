"""Postmortems: drafted from an incident's real timeline, with each affected tenant's SLA
minutes consumed measured by the SLA engine over the incident; once edited (PUT), the
stored Markdown is the postmortem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tenantwatch.domain.apikeys import SYSTEM, Principal
from tenantwatch.incidents import postmortem as pm
from tenantwatch.services.errors import NotFound
from tenantwatch.services.incidents import IncidentService
from tenantwatch.services.sla import SlaService
from tenantwatch.sla.periods import Period

MAX_MARKDOWN = 200_000


@dataclass(frozen=True)
class Document:
    incident_id: str
    markdown: str
    html: str | None  # the draft's own HTML; an edited one is rendered from its Markdown
    edited: bool


class Postmortems:
    def __init__(self, incidents: IncidentService, sla: SlaService | None) -> None:
        self.incidents = incidents
        self.sla = sla

    async def _sla_minutes(
        self, tenant_ids: tuple[str, ...], start: datetime, end: datetime
    ) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.sla is None or end <= start:
            return out
        period = Period("incident", start, end, end)
        for tenant_id in tenant_ids:
            try:
                tenant = await self.sla.tenants.get(SYSTEM, tenant_id)
            except NotFound:  # a tenant deleted since: nothing to measure
                continue
            report = await self.sla.measure(tenant, period)
            out[tenant_id] = sum(float(d.minutes) for d in report.downtimes)
        return out

    async def get(self, who: Principal, incident_id: str) -> Document:
        incident = await self.incidents.get(who, incident_id)
        stored = await self.incidents.repo.postmortem(incident.id)
        if stored is not None:
            return Document(incident.id, stored, None, True)
        now = self.incidents.clock()
        timeline = await self.incidents.timeline(who, incident.id)
        end = incident.resolved_at or now
        minutes = await self._sla_minutes(incident.tenant_ids, incident.detected_at, end)
        draft = pm.draft(incident, timeline, minutes, now=now)
        return Document(incident.id, pm.to_markdown(draft), pm.to_html(draft), False)

    async def save(self, who: Principal, incident_id: str, markdown: str) -> Document:
        incident = await self.incidents.get(who, incident_id)
        await self.incidents.repo.save_postmortem(
            incident.id, markdown[:MAX_MARKDOWN], self.incidents.clock(), who.actor
        )
        return Document(incident.id, markdown, None, True)
