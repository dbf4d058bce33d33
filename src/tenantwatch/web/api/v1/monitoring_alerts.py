"""Seed 002's alert APIs: list, acknowledge, resolve, custom alerts and threshold rules."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.domain.apikeys import Scope
from tenantwatch.promql.model import Matcher
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.access import require
from tenantwatch.services.alert_reports import alert_page
from tenantwatch.services.errors import NotFound
from tenantwatch.services.threshold_rules import HasSeries, threshold_rule
from tenantwatch.web.api.alertmanager import actions, service
from tenantwatch.web.api.v1.rule_groups import RuleGroupOut
from tenantwatch.web.deps import Reader, RequestId, RuntimeDep, Writer
from tenantwatch.web.errors import AUTH, responses
from tenantwatch.web.schemas import TenantId

router = APIRouter(prefix="/monitoring", tags=["monitoring"], responses=AUTH)
Severity = Literal["info", "warning", "error", "critical"]
AlertId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="the alert's fingerprint")]


def _iso(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


class MonitoringAlertOut(BaseModel):
    alert_id: str
    tenant_id: str | None
    alert_name: str
    alert_description: str
    severity: str | None
    status: Literal["active", "acknowledged", "resolved"]
    source_service: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    first_occurred: datetime
    last_occurred: datetime
    occurrence_count: int
    flapping: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_until: datetime | None
    ack_notes: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_notes: str | None
    generator_url: str

    @classmethod
    def of(cls, r: AlertRecord, now: float) -> MonitoringAlertOut:
        a = r.alert
        labels = a.label_map()
        annotations = a.annotation_map()
        resolved = a.resolved_at(now)
        return cls(
            alert_id=a.fingerprint,
            tenant_id=r.tenant_id,
            alert_name=labels.get("alertname", ""),
            alert_description=annotations.get("description") or annotations.get("summary", ""),
            severity=r.severity,
            status=r.status(now),
            source_service=r.source,
            labels=labels,
            annotations=annotations,
            starts_at=_iso(a.starts_at) or datetime.now(UTC),
            first_occurred=_iso(r.first_occurred) or datetime.now(UTC),
            last_occurred=_iso(r.last_occurred) or datetime.now(UTC),
            occurrence_count=r.occurrences,
            flapping=r.flapping,
            acknowledged_at=_iso(r.ack_at),
            acknowledged_by=r.ack_by,
            acknowledged_until=_iso(r.ack_until),
            ack_notes=r.ack_notes,
            resolved_at=_iso(a.ends_at) if resolved else None,
            resolved_by=r.resolved_by,
            resolution_notes=r.resolution_notes,
            generator_url=a.generator_url,
        )


class AlertList(BaseModel):
    alerts: list[MonitoringAlertOut]
    total: int
    next_cursor: str | None = None


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: str | None = Field(None, max_length=10_000, examples=["Investigating the issue"])
    until: datetime | None = Field(
        None, description="the acknowledgement runs out then, if the alert still fires"
    )


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution_notes: str | None = Field(
        None, max_length=10_000, examples=["Fixed by scaling up resources"]
    )


class CustomAlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: TenantId
    alert_name: Annotated[str, Field(min_length=1, max_length=200)]
    severity: Severity = "warning"
    description: str = Field("", max_length=10_000)
    labels: dict[str, str] = Field(default_factory=dict)


class AlertRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: TenantId
    metric: Annotated[str, Field(min_length=1, max_length=1000, examples=["response_time_ms"])]
    condition: Literal[
        "greater_than", "greater_or_equal", "less_than", "less_or_equal", "equals", "not_equals"
    ]
    threshold: float
    severity: Severity = "warning"
    duration: str | None = Field(None, examples=["5m"], description="how long before it fires")
    name: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)


@router.get("/alerts", response_model=AlertList, summary="List alerts (seed 002)")
async def list_alerts(
    rt: RuntimeDep,
    who: Reader,
    severity: Severity | None = None,
    status: Literal["active", "acknowledged", "resolved"] | None = None,
    tenant_id: TenantId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> AlertList:
    svc = service(rt)
    now = svc.now()
    page = alert_page(
        svc.visible(who.tenant_id),
        now,
        severity=severity,
        status=status,
        tenant=tenant_id,
        cursor=cursor,
        limit=limit,
    )
    return AlertList(
        alerts=[MonitoringAlertOut.of(r, now) for r in page.alerts],
        total=page.total,
        next_cursor=page.next_cursor,
    )


@router.get(
    "/alerts/{alert_id}",
    response_model=MonitoringAlertOut,
    summary="Get an alert (seed 002)",
    responses=responses(404),
)
async def get_alert(alert_id: AlertId, rt: RuntimeDep, who: Reader) -> MonitoringAlertOut:
    svc = service(rt)
    return MonitoringAlertOut.of(svc.record(alert_id, who.tenant_id), svc.now())


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=MonitoringAlertOut,
    summary="Acknowledge an alert, optionally until a time (seed 002)",
    responses=responses(404),
)
async def acknowledge(
    alert_id: AlertId, body: AckIn, rt: RuntimeDep, who: Writer, rid: RequestId
) -> MonitoringAlertOut:
    until = body.until.timestamp() if body.until is not None else None
    record = await actions(rt).acknowledge(who, alert_id, body.notes, until, request_id=rid)
    return MonitoringAlertOut.of(record, service(rt).now())


@router.post(
    "/alerts/{alert_id}/resolve",
    response_model=MonitoringAlertOut,
    summary="Resolve an alert with notes (seed 002)",
    responses=responses(404),
)
async def resolve(
    alert_id: AlertId, body: ResolveIn, rt: RuntimeDep, who: Writer, rid: RequestId
) -> MonitoringAlertOut:
    record = await actions(rt).resolve(who, alert_id, body.resolution_notes, request_id=rid)
    return MonitoringAlertOut.of(record, service(rt).now())


@router.post(
    "/alerts",
    response_model=MonitoringAlertOut,
    status_code=201,
    summary="Raise a custom alert (seed 002); it fires until resolved",
    responses=responses(404),
)
async def create_alert(
    body: CustomAlertIn, rt: RuntimeDep, who: Writer, rid: RequestId
) -> MonitoringAlertOut:
    record = await actions(rt).raise_custom(
        who,
        body.tenant_id,
        body.alert_name,
        body.severity,
        body.description,
        body.labels,
        request_id=rid,
    )
    return MonitoringAlertOut.of(record, service(rt).now())


@router.post(
    "/alert-rules",
    response_model=RuleGroupOut,
    status_code=201,
    summary="Create a threshold alert rule for a tenant (seed 002); it becomes a PromQL rule",
    responses=responses(404, 409),
)
async def create_alert_rule(
    body: AlertRuleIn, rt: RuntimeDep, who: Writer, rid: RequestId
) -> RuleGroupOut:
    require(who, Scope.WRITE)
    assert rt.rule_groups is not None
    if who.tenant_id is not None and body.tenant_id != who.tenant_id:
        raise NotFound(f"no tenant {body.tenant_id!r}")
    rule = await threshold_rule(
        body.tenant_id,
        body.metric,
        body.condition,
        body.threshold,
        body.severity,
        body.duration,
        body.name,
        has_series=_has_series(rt),
    )
    group = {"name": f"{rule['alert']} ({body.tenant_id})", "rules": [rule]}
    created = await rt.rule_groups.create(who, body.tenant_id, group, request_id=rid)
    return RuleGroupOut.of(created)


SERIES_LOOKBACK_MS = 6 * 3600 * 1000


def _has_series(rt: Runtime) -> HasSeries | None:
    """Ask the metric store whether a tenant has a series of a name (in the last 6 hours)."""
    if rt.metrics is None:
        return None
    queries = rt.metrics.queries

    async def has(tenant: str, name: str) -> bool | None:
        now = int(time.time() * 1000)
        found = await queries.series(
            [[Matcher.of("__name__", "=", name)]],
            now - SERIES_LOOKBACK_MS,
            now,
            enforce=[Matcher.of("tenant", "=", tenant)],
        )
        return bool(found)

    return has
