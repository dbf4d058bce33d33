"""Prometheus' /api/v1/rules and /api/v1/alerts: what the rule manager evaluates and holds.

Grafana's alerting view and `promtool`-minded users read these. A tenant's key sees its
own rule groups, and in the shared groups only the alerts of its tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from tenantwatch.domain.apikeys import Principal
from tenantwatch.gotext.floats import format_e
from tenantwatch.gotext.times import format_rfc3339_micro
from tenantwatch.rules.alerting import Alert, AlertState
from tenantwatch.rules.status import GroupStatus
from tenantwatch.web.api.prom import PromReader
from tenantwatch.web.deps import RuntimeDep
from tenantwatch.web.errors import AUTH
from tenantwatch.web.prom_format import success

router = APIRouter(tags=["prometheus"], responses=AUTH)


def _visible(who: Principal, status: GroupStatus) -> bool:
    return who.tenant_id is None or status.managed.tenant in (None, who.tenant_id)


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "labels": alert.label_map(),
        "annotations": dict(alert.annotations),
        "state": str(alert.state),
        "activeAt": format_rfc3339_micro(alert.active_at),
        "value": format_e(alert.value),
        **(
            {"keepFiringSince": format_rfc3339_micro(alert.keep_firing_since)}
            if alert.keep_firing_since
            else {}
        ),
    }


def _alerts_of(who: Principal, alerts: Sequence[Alert]) -> list[dict[str, Any]]:
    return [
        _alert_json(a)
        for a in alerts
        if a.state is not AlertState.INACTIVE
        and (who.tenant_id is None or a.label_map().get("tenant") == who.tenant_id)
    ]


def _group_json(who: Principal, status: GroupStatus, kind: str | None) -> dict[str, Any]:
    group = status.managed.group
    rules = []
    for i, rule in enumerate(group.rules):
        rs = status.rules[i]
        common = {
            "name": rule.name,
            "query": rule.expr,
            "labels": {**group.labels, **rule.labels},
            "health": rs.health,
            "lastError": rs.last_error,
            "evaluationTime": rs.duration_s,
            "lastEvaluation": format_rfc3339_micro(rs.last_evaluation),
        }
        if rule.alert is not None:
            if kind == "record":
                continue
            alerts = _alerts_of(who, list(status.alerts.get(i, {}).values()))
            firing = any(a["state"] == "firing" for a in alerts)
            pending = any(a["state"] == "pending" for a in alerts)
            rules.append(
                {
                    **common,
                    "type": "alerting",
                    "state": "firing" if firing else "pending" if pending else "inactive",
                    "duration": rule.for_s,
                    "keepFiringFor": rule.keep_firing_for_s,
                    "annotations": dict(rule.annotations),
                    "alerts": alerts,
                }
            )
        elif kind != "alert":
            rules.append({**common, "type": "recording"})
    return {
        "name": group.name,
        "file": group.file,
        "interval": status.interval_s,
        "limit": group.limit,
        "rules": rules,
        "evaluationTime": status.duration_s,
        "lastEvaluation": format_rfc3339_micro(status.last_evaluation),
    }


@router.get("/api/v1/rules", summary="Rule groups and their state (Prometheus API)")
async def rules(
    rt: RuntimeDep,
    who: PromReader,
    type: str | None = Query(None, pattern="^(alert|record)$", description="alert or record"),
    rule_name: list[str] = Query([], alias="rule_name[]"),
    rule_group: list[str] = Query([], alias="rule_group[]"),
    file: list[str] = Query([], alias="file[]"),
) -> JSONResponse:
    groups = []
    manager = rt.rules
    for status in manager.status.values() if manager is not None else []:
        group = status.managed.group
        if not _visible(who, status):
            continue
        if (rule_group and group.name not in rule_group) or (file and group.file not in file):
            continue
        body = _group_json(who, status, type)
        if rule_name:
            body["rules"] = [r for r in body["rules"] if r["name"] in rule_name]
        if body["rules"] or not (type or rule_name):
            groups.append(body)
    return JSONResponse(success({"groups": groups}))


@router.get("/api/v1/alerts", summary="Pending and firing alerts of the rules (Prometheus API)")
async def alerts(rt: RuntimeDep, who: PromReader) -> JSONResponse:
    out: list[dict[str, Any]] = []
    manager = rt.rules
    if manager is not None:
        for status, _rule, alert in manager.active_alerts():
            if _visible(who, status):
                out.extend(_alerts_of(who, [alert]))
    return JSONResponse(success({"alerts": out}))
