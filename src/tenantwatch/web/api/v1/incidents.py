"""/api/v1/incidents: incidents from alerts and by hand, their lifecycle, notes, roles and
timeline; tenant keys see incidents of their tenant, with only their tenant in them."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from tenantwatch.incidents.model import Entry, Incident, Role, Severity, Status
from tenantwatch.incidents.runbooks import render_markdown_safe
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.incidents import Filters, IncidentService
from tenantwatch.services.postmortems import Postmortems
from tenantwatch.web.deps import DEFAULT_PAGE, Cursor, Limit, Reader, RuntimeDep, Writer
from tenantwatch.web.errors import AUTH, responses
from tenantwatch.web.schemas import NO_NUL, TenantId

router = APIRouter(prefix="/incidents", tags=["incidents"], responses=AUTH)
IncidentId = Annotated[
    str, Path(max_length=24, pattern=r"^INC-\d{8}-\d{4,}$", examples=["INC-20261207-0042"])
]
Text = Annotated[str, Field(min_length=1, max_length=10_000, pattern=NO_NUL)]


class TenantOut(BaseModel):
    tenant_id: str
    tier: str | None
    since: datetime


class AlertOut(BaseModel):
    fingerprint: str
    alertname: str
    tenant_id: str | None
    labels: dict[str, str]
    firing: bool
    starts_at: datetime
    ends_at: datetime | None
    source: str


class IncidentOut(BaseModel):
    id: str
    title: str
    severity: Severity
    status: Status
    summary: str
    services: list[str]
    tenants: list[TenantOut]
    alerts: list[AlertOut]
    roles: dict[str, str]
    runbook: str | None
    detected_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    escalated_at: datetime | None
    response_due: datetime = Field(description="acknowledge by then (seed 003's target)")
    time_to_acknowledge_seconds: float | None
    time_to_resolve_seconds: float | None
    reopened: int
    auto_resolve: bool

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        tta, ttr = i.time_to_acknowledge, i.time_to_resolve
        return cls(
            id=i.id,
            title=i.title,
            severity=i.severity,
            status=i.status,
            summary=i.summary,
            services=list(i.services),
            tenants=[
                TenantOut(tenant_id=t.tenant_id, tier=t.tier, since=t.since) for t in i.tenants
            ],
            alerts=[
                AlertOut(
                    fingerprint=a.fingerprint,
                    alertname=a.alertname,
                    tenant_id=a.tenant_id,
                    labels=a.labels,
                    firing=a.firing,
                    starts_at=a.starts_at,
                    ends_at=a.ends_at,
                    source=a.source,
                )
                for a in i.alerts
            ],
            roles={str(k): v for k, v in i.roles.items()},
            runbook=i.runbook,
            detected_at=i.detected_at,
            acknowledged_at=i.acknowledged_at,
            acknowledged_by=i.acknowledged_by,
            mitigated_at=i.mitigated_at,
            resolved_at=i.resolved_at,
            escalated_at=i.escalated_at,
            response_due=i.response_due,
            time_to_acknowledge_seconds=None if tta is None else tta.total_seconds(),
            time_to_resolve_seconds=None if ttr is None else ttr.total_seconds(),
            reopened=i.reopened,
            auto_resolve=i.auto_resolve,
        )


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None


class EntryOut(BaseModel):
    seq: int
    at: datetime
    kind: str
    author: str
    text: str
    data: dict[str, object]
    pinned: bool

    @classmethod
    def of(cls, e: Entry) -> EntryOut:
        return cls(
            seq=e.seq,
            at=e.at,
            kind=str(e.kind),
            author=e.author,
            text=e.text,
            data=e.data,
            pinned=e.pinned,
        )


class TimelineOut(BaseModel):
    incident_id: str
    entries: list[EntryOut]


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]
    severity: Severity
    tenants: list[TenantId] = Field(default_factory=list, max_length=1000)
    summary: Annotated[str, Field(max_length=10_000, pattern=NO_NUL)] = ""
    services: list[Annotated[str, Field(max_length=200, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=100
    )
    runbook: Annotated[str, Field(max_length=2000, pattern=NO_NUL)] | None = None


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status
    reason: Annotated[str, Field(max_length=2000, pattern=NO_NUL)] = ""


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text
    pinned: bool = False


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    user: Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]


def incidents_of(rt: Runtime) -> IncidentService:
    if rt.incidents is None:
        raise HTTPException(503, "incidents are not running in this process (role api)")
    return rt.incidents


@router.get("", response_model=IncidentPage, summary="Incidents, newest first")
async def list_incidents(
    rt: RuntimeDep,
    who: Reader,
    status: Annotated[
        Literal["active", "open", "investigating", "identified", "monitoring", "resolved"] | None,
        Query(description="a state, or active (every state but resolved)"),
    ] = None,
    severity: Severity | None = None,
    tenant_id: Annotated[str | None, Query(max_length=63, pattern=NO_NUL)] = None,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> IncidentPage:
    page = await incidents_of(rt).list(
        who, Filters(status, severity, tenant_id), cursor=cursor, limit=limit
    )
    return IncidentPage(items=[IncidentOut.of(i) for i in page.items], next_cursor=page.next_cursor)


@router.post(
    "", response_model=IncidentOut, status_code=201, summary="Open an incident by hand",
    responses=responses(400),
)  # fmt: skip
async def create_incident(body: IncidentIn, rt: RuntimeDep, who: Writer) -> IncidentOut:
    inc = await incidents_of(rt).create(
        who,
        title=body.title,
        severity=body.severity,
        tenants=body.tenants,
        summary=body.summary,
        services=body.services,
        runbook=body.runbook,
    )
    return IncidentOut.of(inc)


@router.get(
    "/{incident_id}", response_model=IncidentOut, summary="One incident", responses=responses(404)
)
async def get_incident(incident_id: IncidentId, rt: RuntimeDep, who: Reader) -> IncidentOut:
    return IncidentOut.of(await incidents_of(rt).get(who, incident_id))


@router.get(
    "/{incident_id}/timeline",
    response_model=TimelineOut,
    summary="Everything that happened to an incident, in order",
    responses=responses(404),
)
async def timeline(incident_id: IncidentId, rt: RuntimeDep, who: Reader) -> TimelineOut:
    entries = await incidents_of(rt).timeline(who, incident_id)
    return TimelineOut(incident_id=incident_id, entries=[EntryOut.of(e) for e in entries])


@router.post(
    "/{incident_id}/acknowledge",
    response_model=IncidentOut,
    summary="Acknowledge: someone is on it",
    responses=responses(404),
)
async def acknowledge(incident_id: IncidentId, rt: RuntimeDep, who: Writer) -> IncidentOut:
    return IncidentOut.of(await incidents_of(rt).acknowledge(who, incident_id))


@router.post(
    "/{incident_id}/transitions",
    response_model=IncidentOut,
    summary="Move to another state (open reopens a resolved incident)",
    responses=responses(404),
)
async def transition(
    incident_id: IncidentId, body: TransitionIn, rt: RuntimeDep, who: Writer
) -> IncidentOut:
    return IncidentOut.of(
        await incidents_of(rt).transition(who, incident_id, body.status, body.reason)
    )


@router.post(
    "/{incident_id}/resolve",
    response_model=IncidentOut,
    summary="Resolve",
    responses=responses(404),
)
async def resolve(
    incident_id: IncidentId, rt: RuntimeDep, who: Writer, body: NoteIn | None = None
) -> IncidentOut:
    reason = "" if body is None else body.text
    return IncidentOut.of(
        await incidents_of(rt).transition(who, incident_id, Status.RESOLVED, reason)
    )


@router.post(
    "/{incident_id}/notes",
    response_model=IncidentOut,
    summary="Add a note to the timeline (pinned notes stand out)",
    responses=responses(404),
)
async def add_note(
    incident_id: IncidentId, body: NoteIn, rt: RuntimeDep, who: Writer
) -> IncidentOut:
    return IncidentOut.of(
        await incidents_of(rt).note(who, incident_id, body.text, pinned=body.pinned)
    )


@router.post(
    "/{incident_id}/assignments",
    response_model=IncidentOut,
    summary="Give someone a role: incident commander, technical lead, communications lead, scribe",
    responses=responses(404),
)
async def assign(
    incident_id: IncidentId, body: AssignIn, rt: RuntimeDep, who: Writer
) -> IncidentOut:
    return IncidentOut.of(await incidents_of(rt).assign(who, incident_id, body.role, body.user))


class UpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text


@router.post(
    "/{incident_id}/updates",
    response_model=IncidentOut,
    summary="Post a public status update: the affected tenants' status shows it",
    responses=responses(404),
)
async def post_update(
    incident_id: IncidentId, body: UpdateIn, rt: RuntimeDep, who: Writer
) -> IncidentOut:
    return IncidentOut.of(await incidents_of(rt).update(who, incident_id, body.text))


class StatusUpdateOut(BaseModel):
    at: datetime
    text: str


class StatusIncidentOut(BaseModel):
    id: str
    title: str
    severity: Severity
    status: Status
    started_at: datetime
    updates: list[StatusUpdateOut]


class TenantStatusOut(BaseModel):
    tenant_id: str
    status: str = Field(description="operational, degraded, partial_outage or major_outage")
    incidents: list[StatusIncidentOut]


status_router = APIRouter(prefix="/tenants", tags=["incidents"], responses=AUTH)


@status_router.get(
    "/{tenant_id}/status",
    response_model=TenantStatusOut,
    summary="A tenant's status from its active incidents, with their public updates",
    responses=responses(404),
)
async def tenant_status(
    tenant_id: Annotated[str, Path(max_length=63, pattern=NO_NUL)], rt: RuntimeDep, who: Reader
) -> TenantStatusOut:
    await rt.tenants.get(who, tenant_id)  # 404 for a tenant the key may not see
    got = await incidents_of(rt).tenant_status(who, tenant_id)
    return TenantStatusOut(
        tenant_id=tenant_id,
        status=got.status,
        incidents=[
            StatusIncidentOut(
                id=inc.id,
                title=inc.title,
                severity=inc.severity,
                status=inc.status,
                started_at=inc.detected_at,
                updates=[StatusUpdateOut(at=e.at, text=e.text) for e in updates],
            )
            for inc, updates in got.incidents
        ],
    )


class PostmortemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    markdown: Annotated[str, Field(min_length=1, max_length=200_000, pattern=NO_NUL)]


class PostmortemOut(BaseModel):
    incident_id: str
    markdown: str
    edited: bool = Field(description="false: drafted from the timeline now; true: as stored")


def _postmortems(rt: Runtime) -> Postmortems:
    return Postmortems(incidents_of(rt), rt.sla)


def _edited_html(incident_id: str, markdown: str) -> str:
    body = render_markdown_safe(markdown)
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>Postmortem {html.escape(incident_id)}</title>"
        "<style>body{font-family:sans-serif;font-size:10.5pt;margin:2cm}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}</style>"
        f"</head><body>{body}</body></html>"
    )


@router.get(
    "/{incident_id}/postmortem",
    response_model=PostmortemOut,
    summary="The blameless post-incident review: drafted from the timeline until edited",
    responses={**responses(404), 200: {"content": {"text/markdown": {}, "application/pdf": {}}}},
)
async def get_postmortem(
    incident_id: IncidentId,
    rt: RuntimeDep,
    who: Reader,
    format: Literal["json", "md", "pdf"] = "json",
) -> PostmortemOut | Response:
    doc = await _postmortems(rt).get(who, incident_id)
    if format == "md":
        return Response(doc.markdown, media_type="text/markdown; charset=utf-8")
    if format == "pdf":
        page = doc.html if doc.html is not None else _edited_html(doc.incident_id, doc.markdown)
        pdf = await rt.render_pdf(page)
        name = f"postmortem-{doc.incident_id}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return PostmortemOut(incident_id=doc.incident_id, markdown=doc.markdown, edited=doc.edited)


@router.put(
    "/{incident_id}/postmortem",
    response_model=PostmortemOut,
    summary="Store the edited postmortem (Markdown)",
    responses=responses(404),
)
async def put_postmortem(
    incident_id: IncidentId, body: PostmortemIn, rt: RuntimeDep, who: Writer
) -> PostmortemOut:
    doc = await _postmortems(rt).save(who, incident_id, body.markdown)
    return PostmortemOut(incident_id=doc.incident_id, markdown=doc.markdown, edited=True)
