"""Alertmanager's API v2, so Prometheus, vmalert, Grafana and amtool can use tenantwatch.

Authentication: a Bearer key, or basic auth with the key as the password (Prometheus'
`alertmanagers: [{basic_auth: ...}]` and amtool's `--http.config.file`). A tenant's key
posts alerts labelled with its tenant and sees only its tenant's alerts and silences.
Errors answer 400 with a JSON string, as Alertmanager does; an alert without `labels` gets
go-swagger's 422 `{"code": 602, ...}`, as from Alertmanager.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from tenantwatch import __version__
from tenantwatch.alertmanager.alert import join_problems
from tenantwatch.alertmanager.routing import LabelMatcher, RoutingError, parse_matchers
from tenantwatch.alertmanager.silences import (
    Recurrence,
    Silence,
    SilenceAlreadyExpired,
    matchers_from_api,
    matchers_to_api,
    validate,
)
from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.durations import parse_duration
from tenantwatch.gotext.times import format_rfc3339_nano, parse_rfc3339
from tenantwatch.services.alert_actions import AlertActions
from tenantwatch.services.alert_reports import AlertReport, ReceiverFilter
from tenantwatch.services.alerting import AlertingService, Incoming
from tenantwatch.services.errors import NotFound
from tenantwatch.services.silences import SilenceReport, tenant_scoped
from tenantwatch.web.am_schemas import (
    POSTABLE_ALERTS,
    AlertGroup,
    AmStatus,
    GettableAlert,
    GettableSilence,
    PostableAlert,
    PostableSilence,
    ReceiverName,
    SilenceCreated,
    labels_required,
)
from tenantwatch.web.deps import Credentials, RequestId, RuntimeDep, authenticate
from tenantwatch.web.errors import AUTH, responses

router = APIRouter(prefix="/api/v2", tags=["alertmanager"], responses=AUTH)
STRING_ERROR = {"content": {"application/json": {"schema": {"type": "string"}}}}
# Larger batches are validated in a thread (the body is capped: http.max_alerts_body_size).
_PARSE_IN_THREAD = 256 << 10
SWAGGER_ERROR = {  # go-swagger's validation answer: {"code": 602, "message": "..."}
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
                "required": ["code", "message"],
            }
        }
    }
}
_basic = HTTPBasic(auto_error=False, description="any user and an API key as the password")
_STARTED = time.time()


def _caller(scope: Scope) -> Any:
    async def dependency(
        request: Request,
        rt: RuntimeDep,
        bearer: Credentials,
        basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    ) -> Principal:
        if basic is not None:
            bearer = HTTPAuthorizationCredentials(scheme="Bearer", credentials=basic.password)
        return await authenticate(request, rt, bearer, scope)

    return dependency


AmReader = Annotated[Principal, Depends(_caller(Scope.READ))]
AmWriter = Annotated[Principal, Depends(_caller(Scope.WRITE))]


def bad_request(message: str) -> JSONResponse:
    return JSONResponse(message, status_code=400)


def too_many_alerts(limit: int) -> JSONResponse:
    return JSONResponse(
        f"the batch holds more than {limit} alerts; send at most {limit} a request "
        "(Prometheus sends up to 256; the limit is http.max_alerts_per_request)",
        status_code=413,
    )


def service(rt: RuntimeDep) -> AlertingService:
    if rt.alerting is None:
        raise HTTPException(503, "the alert manager is not running in this process")
    found: AlertingService = rt.alerting
    return found


def actions(rt: RuntimeDep) -> AlertActions:
    service(rt)  # 503 without an alert manager in this process
    assert rt.alert_actions is not None
    return rt.alert_actions


def _filters(filter: list[str]) -> tuple[LabelMatcher, ...]:
    try:
        return parse_matchers(filter)
    except RoutingError as exc:
        raise HTTPException(400, str(exc)) from None


def gettable(report: AlertReport) -> GettableAlert:
    a = report.record.alert
    return GettableAlert(
        labels=a.label_map(),
        annotations=a.annotation_map(),
        startsAt=format_rfc3339_nano(a.starts_at),
        endsAt=format_rfc3339_nano(a.ends_at),
        updatedAt=format_rfc3339_nano(a.updated_at),
        generatorURL=a.generator_url,
        fingerprint=a.fingerprint,
        receivers=[ReceiverName(name=n) for n in report.receivers],
        status={
            "state": report.state,
            "silencedBy": list(report.silenced_by),
            "inhibitedBy": list(report.inhibited_by),
        },
    )


@router.post(
    "/alerts",
    summary="Receive alerts (Alertmanager API; Prometheus' notifier sends here)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": PostableAlert.model_json_schema()}
                }
            },
        }
    },
    response_class=Response,
    responses={
        200: {"description": "accepted (empty body)", "content": None},
        400: {"description": "invalid alerts (the valid ones are kept)", **STRING_ERROR},
        413: {"description": "too many alerts, or a body too large", **STRING_ERROR},
        422: {"description": "an alert without labels (none is kept)", **SWAGGER_ERROR},
    },
)
async def post_alerts(request: Request, rt: RuntimeDep, who: AmWriter) -> Response:
    raw = await request.body()
    limit = rt.config.http.max_alerts_per_request
    # every alert has a "labels" key: more of them than the limit, and the batch is
    # refused before it is parsed (the count after parsing catches keys written escaped)
    if raw.count(b'"labels"') > limit:
        return too_many_alerts(limit)
    try:
        if len(raw) > _PARSE_IN_THREAD:
            posted = await asyncio.to_thread(POSTABLE_ALERTS.validate_json, raw)
        else:
            posted = POSTABLE_ALERTS.validate_json(raw)
    except ValidationError as exc:
        required = labels_required(exc)
        if required is not None:  # go-swagger's answer, before any alert is looked at
            return JSONResponse({"code": 602, "message": required}, status_code=422)
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return bad_request(
            f"invalid alerts: {where}: {first.get('msg')}; send a JSON array of alerts"
        )
    if len(posted) > limit:
        return too_many_alerts(limit)
    items = []
    problems = []
    for i, p in enumerate(posted):
        try:
            starts = parse_rfc3339(p.startsAt) if p.startsAt else None
            ends = parse_rfc3339(p.endsAt) if p.endsAt else None
        except ValueError as exc:
            problems.append(f"alert {i}: {exc}")
            continue
        items.append(
            Incoming(
                p.labels, p.annotations or {}, starts or None, ends or None, p.generatorURL or ""
            )
        )
    problems += await service(rt).post(items, tenant=who.tenant_id)
    if problems:
        return bad_request(join_problems(problems))
    return Response(status_code=200)


@router.get(
    "/alerts",
    response_model=list[GettableAlert],
    summary="List alerts (Alertmanager API)",
    responses=responses(400),
)
async def get_alerts(
    rt: RuntimeDep,
    who: AmReader,
    active: bool = True,
    silenced: bool = True,
    inhibited: bool = True,
    unprocessed: bool = True,
    filter: Annotated[list[str], Query()] = [],  # noqa: B006
    receiver: str | None = None,
) -> list[GettableAlert]:
    svc = service(rt)
    reports = svc.reports.alerts(
        who.tenant_id,
        _filters(filter),
        svc.now(),
        receiver=_receiver_filter(receiver),
        active=active,
        silenced=silenced,
        inhibited=inhibited,
    )
    return [gettable(r) for r in reports]


def _receiver_filter(pattern: str | None) -> ReceiverFilter | None:
    """A receiver name filter; an invalid pattern answers 400 once it is first used."""
    if not pattern:
        return None

    def matches(name: str) -> bool:
        try:
            return re.fullmatch(pattern, name) is not None
        except re.error:
            raise HTTPException(400, f"receiver: invalid regular expression {pattern!r}") from None

    return matches


@router.get(
    "/alerts/groups",
    response_model=list[AlertGroup],
    summary="Alert groups (Alertmanager API)",
    responses=responses(400),
)
async def get_groups(
    rt: RuntimeDep,
    who: AmReader,
    filter: Annotated[list[str], Query()] = [],  # noqa: B006
    receiver: str | None = None,
) -> list[AlertGroup]:
    svc = service(rt)
    groups = svc.reports.groups(
        who.tenant_id, _filters(filter), svc.now(), receiver=_receiver_filter(receiver)
    )
    return [
        AlertGroup(
            labels=g.labels,
            receiver=ReceiverName(name=g.receiver),
            alerts=[gettable(r) for r in g.alerts],
        )
        for g in groups
    ]


def gettable_silence(report: SilenceReport) -> GettableSilence:
    s = report.silence
    return GettableSilence(
        id=s.id,
        status={"state": report.state},
        updatedAt=format_rfc3339_nano(s.updated_at),
        matchers=matchers_to_api(s.matchers),
        startsAt=format_rfc3339_nano(s.starts_at),
        endsAt=format_rfc3339_nano(s.ends_at),
        createdBy=s.created_by,
        comment=s.comment,
        recurrence=None
        if s.recurrence is None
        else {
            "rrule": s.recurrence.rrule,
            "duration": f"{s.recurrence.duration_s:g}s",
            "timezone": s.recurrence.timezone,
        },
        endOnResolve=s.end_on_resolve,
    )


@router.get(
    "/silences",
    response_model=list[GettableSilence],
    summary="List silences (Alertmanager API)",
    responses=responses(400),
)
async def get_silences(
    rt: RuntimeDep,
    who: AmReader,
    filter: Annotated[list[str], Query()] = [],  # noqa: B006
) -> list[GettableSilence]:
    reports = service(rt).silencing.reports(who.tenant_id, _filters(filter))
    return [gettable_silence(r) for r in reports]


@router.post(
    "/silences",
    response_model=SilenceCreated,
    summary="Create or update a silence (Alertmanager API)",
    responses={
        400: {"description": "invalid silence", **STRING_ERROR},
        404: {"description": "no silence with the id to update", **STRING_ERROR},
    },
)
async def post_silence(
    body: PostableSilence, rt: RuntimeDep, who: AmWriter, rid: RequestId
) -> SilenceCreated | JSONResponse:
    svc = service(rt)
    now = svc.now()
    try:
        matchers = matchers_from_api([m.model_dump() for m in body.matchers])
        starts, ends = parse_rfc3339(body.startsAt), parse_rfc3339(body.endsAt)
        recurrence = None
        if body.recurrence is not None:
            recurrence = Recurrence(
                rrule=body.recurrence.rrule,
                duration_s=parse_duration(body.recurrence.duration),
                timezone=body.recurrence.timezone,
            )
    except ValueError as exc:
        return bad_request(str(exc))
    tenant = who.tenant_id
    silence = Silence(
        id=body.id or "",
        matchers=tenant_scoped(matchers, tenant),
        starts_at=starts,
        ends_at=ends,
        updated_at=now,
        created_by=body.createdBy,
        comment=body.comment,
        tenant_id=tenant,
        recurrence=recurrence,
        end_on_resolve=body.endOnResolve,
    )
    problems = validate(silence, now)
    if problems:
        return bad_request("; ".join(problems))
    if body.id:
        try:
            old = svc.silencing.get(body.id, tenant)  # another tenant's is not found either
        except NotFound:
            # Alertmanager's words: `amtool silence import` retries without the id on them
            return JSONResponse(
                f"silence not found: there is no silence {body.id!r}; leave the id out to "
                "create a new one",
                status_code=404,
            )
        silence_id = await actions(rt).update_silence(who, old, silence, request_id=rid)
    else:
        silence_id = await actions(rt).create_silence(who, silence, request_id=rid)
    return SilenceCreated(silenceID=silence_id)


@router.get(
    "/silence/{silence_id}",
    response_model=GettableSilence,
    summary="Get a silence (Alertmanager API)",
    responses=responses(404),
)
async def get_silence(silence_id: str, rt: RuntimeDep, who: AmReader) -> GettableSilence:
    return gettable_silence(service(rt).silencing.report(silence_id, who.tenant_id))


@router.delete(
    "/silence/{silence_id}",
    summary="Expire a silence (Alertmanager API)",
    response_class=Response,
    responses={
        200: {"description": "expired (empty body)", "content": None},
        400: {"description": "already expired", **STRING_ERROR},
        404: {"description": "no such silence"},
    },
)
async def delete_silence(
    silence_id: str, rt: RuntimeDep, who: AmWriter, rid: RequestId
) -> Response:
    s = service(rt).silencing.get(silence_id, who.tenant_id)
    try:
        await actions(rt).expire_silence(who, s, request_id=rid)
    except SilenceAlreadyExpired:
        return Response(status_code=200)  # as Alertmanager 0.25: expiring twice is fine
    except ValueError as exc:
        return bad_request(str(exc))
    return Response(status_code=200)


@router.get("/receivers", response_model=list[ReceiverName], summary="Receivers (Alertmanager API)")
async def get_receivers(rt: RuntimeDep, who: AmReader) -> list[ReceiverName]:
    return [ReceiverName(name=n) for n in service(rt).config.receiver_names(who.tenant_id)]


@router.get("/status", response_model=AmStatus, summary="Status (Alertmanager API)")
async def get_status(rt: RuntimeDep, who: AmReader) -> AmStatus:
    svc = service(rt)
    uptime = format_rfc3339_nano(_STARTED)
    return AmStatus(
        cluster={"name": "tenantwatch", "status": "disabled", "peers": []},
        versionInfo={
            "branch": "tenantwatch",
            "buildDate": "",
            "buildUser": "tenantwatch",
            "goVersion": "",
            "revision": f"tenantwatch-{__version__}",
            "version": "0.25.0",
        },
        config={"original": svc.config.public_yaml(who.tenant_id)},
        uptime=uptime,
    )
