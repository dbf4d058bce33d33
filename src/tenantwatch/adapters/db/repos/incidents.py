"""Incidents in the database: the incident row, its tenants and alerts (rewritten with
each save) and its timeline (appended, numbered per incident)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tenantwatch.adapters.db.tables import (
    incident_alerts,
    incident_postmortems,
    incident_tenants,
    incident_timeline,
    incidents,
)
from tenantwatch.incidents.model import (
    AffectedTenant,
    Entry,
    EntryKind,
    Incident,
    LinkedAlert,
    Role,
    Severity,
    Status,
)
from tenantwatch.services.incidents import Filters


def _row(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "day": i.id[4:12],
        "title": i.title[:500],
        "severity": str(i.severity),
        "status": str(i.status),
        "summary": i.summary,
        "group_key": i.group_key,
        "services": list(i.services),
        "roles": {str(k): v for k, v in i.roles.items()},
        "detected_at": i.detected_at,
        "acknowledged_at": i.acknowledged_at,
        "acknowledged_by": i.acknowledged_by,
        "mitigated_at": i.mitigated_at,
        "resolved_at": i.resolved_at,
        "escalated_at": i.escalated_at,
        "reopened": i.reopened,
        "runbook": i.runbook,
        "auto_resolve": i.auto_resolve,
        "created_by": i.created_by,
    }


class SqlIncidentRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def next_number(self, day: str) -> int:
        query = select(func.count()).select_from(incidents).where(incidents.c.day == day)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one()) + 1

    async def insert(self, incident: Incident, entries: Sequence[Entry]) -> bool:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(incidents).values(**_row(incident)))
                await self._children(conn, incident)
                await self._append(conn, incident.id, entries, 0)
        except IntegrityError:
            return False
        return True

    async def save(self, incident: Incident, entries: Sequence[Entry]) -> None:
        async with self.engine.begin() as conn:
            row = _row(incident)
            del row["id"], row["day"]
            await conn.execute(update(incidents).where(incidents.c.id == incident.id).values(**row))
            for table in (incident_tenants, incident_alerts):
                await conn.execute(delete(table).where(table.c.incident_id == incident.id))
            await self._children(conn, incident)
            last = (
                await conn.execute(
                    select(func.max(incident_timeline.c.seq)).where(
                        incident_timeline.c.incident_id == incident.id
                    )
                )
            ).scalar_one()
            await self._append(conn, incident.id, entries, int(last or 0))

    async def _children(self, conn: AsyncConnection, i: Incident) -> None:
        if i.tenants:
            await conn.execute(
                insert(incident_tenants),
                [
                    {
                        "incident_id": i.id,
                        "tenant_id": t.tenant_id,
                        "tier": t.tier,
                        "since": t.since,
                    }
                    for t in i.tenants
                ],
            )
        if i.alerts:
            await conn.execute(
                insert(incident_alerts),
                [
                    {
                        "incident_id": i.id,
                        "fingerprint": a.fingerprint,
                        "alertname": a.alertname[:500],
                        "tenant_id": a.tenant_id,
                        "labels": a.labels,
                        "annotations": a.annotations,
                        "firing": a.firing,
                        "source": a.source,
                        "starts_at": a.starts_at,
                        "ends_at": a.ends_at,
                    }
                    for a in i.alerts
                ],
            )

    async def _append(
        self, conn: AsyncConnection, incident_id: str, entries: Sequence[Entry], last: int
    ) -> None:
        if not entries:
            return
        await conn.execute(
            insert(incident_timeline),
            [
                {
                    "incident_id": incident_id,
                    "seq": last + n,
                    "at": e.at,
                    "kind": str(e.kind),
                    "author": e.author[:200],
                    "text": e.text,
                    "data": e.data,
                    "pinned": e.pinned,
                }
                for n, e in enumerate(entries, 1)
            ],
        )

    async def _load(self, conn: AsyncConnection, rows: Sequence[Any]) -> builtins.list[Incident]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        tenants: dict[str, builtins.list[AffectedTenant]] = {}
        for t in (
            await conn.execute(
                select(incident_tenants)
                .where(incident_tenants.c.incident_id.in_(ids))
                .order_by(incident_tenants.c.since, incident_tenants.c.tenant_id)
            )
        ).all():
            tenants.setdefault(t.incident_id, []).append(
                AffectedTenant(t.tenant_id, t.tier, t.since)
            )
        alerts: dict[str, builtins.list[LinkedAlert]] = {}
        for a in (
            await conn.execute(
                select(incident_alerts)
                .where(incident_alerts.c.incident_id.in_(ids))
                .order_by(incident_alerts.c.starts_at, incident_alerts.c.fingerprint)
            )
        ).all():
            alerts.setdefault(a.incident_id, []).append(
                LinkedAlert(
                    fingerprint=a.fingerprint,
                    alertname=a.alertname,
                    tenant_id=a.tenant_id,
                    labels=dict(a.labels),
                    firing=bool(a.firing),
                    starts_at=a.starts_at,
                    ends_at=a.ends_at,
                    source=a.source,
                    annotations=dict(a.annotations),
                )
            )
        return [
            Incident(
                id=r.id,
                title=r.title,
                severity=Severity(r.severity),
                status=Status(r.status),
                detected_at=r.detected_at,
                group_key=r.group_key,
                summary=r.summary,
                services=tuple(r.services),
                tenants=tuple(tenants.get(r.id, [])),
                alerts=tuple(alerts.get(r.id, [])),
                roles={Role(k): v for k, v in dict(r.roles).items()},
                acknowledged_at=r.acknowledged_at,
                acknowledged_by=r.acknowledged_by,
                mitigated_at=r.mitigated_at,
                resolved_at=r.resolved_at,
                escalated_at=r.escalated_at,
                reopened=r.reopened,
                runbook=r.runbook,
                auto_resolve=bool(r.auto_resolve),
                created_by=r.created_by,
            )
            for r in rows
        ]

    async def get(self, incident_id: str) -> Incident | None:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(select(incidents).where(incidents.c.id == incident_id))
            ).all()
            found = await self._load(conn, rows)
        return found[0] if found else None

    async def list(
        self, filters: Filters, *, before: str | None, limit: int
    ) -> builtins.list[Incident]:
        query = select(incidents).order_by(incidents.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(incidents.c.id < before)
        if filters.status == "active":
            query = query.where(incidents.c.status != str(Status.RESOLVED))
        elif filters.status is not None:
            query = query.where(incidents.c.status == filters.status)
        if filters.severity is not None:
            query = query.where(incidents.c.severity == str(filters.severity))
        if filters.tenant_id is not None:
            query = query.where(
                incidents.c.id.in_(
                    select(incident_tenants.c.incident_id).where(
                        incident_tenants.c.tenant_id == filters.tenant_id
                    )
                )
            )
        async with self.engine.connect() as conn:
            return await self._load(conn, (await conn.execute(query)).all())

    async def candidates(self, resolved_since: datetime) -> builtins.list[Incident]:
        query = (
            select(incidents)
            .where(
                or_(
                    incidents.c.status != str(Status.RESOLVED),
                    incidents.c.resolved_at >= resolved_since,
                )
            )
            .order_by(incidents.c.detected_at.desc(), incidents.c.id.desc())
        )
        async with self.engine.connect() as conn:
            return await self._load(conn, (await conn.execute(query)).all())

    async def resolved_between(
        self, tenant_id: str, start: datetime, end: datetime
    ) -> builtins.list[Incident]:
        query = (
            select(incidents)
            .where(
                incidents.c.resolved_at >= start,
                incidents.c.resolved_at < end,
                incidents.c.id.in_(
                    select(incident_tenants.c.incident_id).where(
                        incident_tenants.c.tenant_id == tenant_id
                    )
                ),
            )
            .order_by(incidents.c.resolved_at)
        )
        async with self.engine.connect() as conn:
            return await self._load(conn, (await conn.execute(query)).all())

    async def postmortem(self, incident_id: str) -> str | None:
        query = select(incident_postmortems.c.markdown).where(
            incident_postmortems.c.incident_id == incident_id
        )
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return None if found is None else str(found)

    async def save_postmortem(self, incident_id: str, markdown: str, at: datetime, by: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(incident_postmortems).where(
                    incident_postmortems.c.incident_id == incident_id
                )
            )
            await conn.execute(
                insert(incident_postmortems).values(
                    incident_id=incident_id, markdown=markdown, updated_at=at, updated_by=by[:200]
                )
            )

    async def timeline(self, incident_id: str) -> builtins.list[Entry]:
        query = (
            select(incident_timeline)
            .where(incident_timeline.c.incident_id == incident_id)
            .order_by(incident_timeline.c.seq)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Entry(
                at=r.at,
                kind=EntryKind(r.kind),
                author=r.author,
                text=r.text,
                data=dict(r.data),
                pinned=bool(r.pinned),
                seq=r.seq,
            )
            for r in rows
        ]
