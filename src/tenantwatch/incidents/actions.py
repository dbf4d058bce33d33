"""Automated response: which actions an incident's matchers bind, and whether each runs now (pure).

An action runs once per affected tenant that its matchers accept (`per_tenant`, the default),
or once for the whole incident. A run is skipped while the action is in its cooldown: a
tenant's run since its last run for that tenant, in this incident or any other (a tenant's
recurring incident does not restart its deployment again); an incident-wide run since its
last incident-wide run for that incident. It is skipped too when the action has run
`max_per_hour` times in the last hour across all incidents and tenants; an action that needs
approval waits for it. Dry runs count as runs, so a dry run shows the cadence the real
action would have. Parameters are Jinja2 templates rendered in a sandbox; an undefined
name or an unsafe attribute makes the run invalid, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from tenantwatch.incidents.model import Entry, EntryKind, Incident, Severity, Status


class ActionKind(StrEnum):
    WEBHOOK = "webhook"
    SHELL = "shell"
    KUBERNETES_SCALE = "kubernetes_scale"
    KUBERNETES_RESTART = "kubernetes_restart"
    MAINTENANCE = "maintenance"  # a silence plus the tenant's status page, through a webhook
    BLOCK_IP = "block_ip"
    DISABLE_ACCOUNT = "disable_account"
    TICKET = "ticket"


# kinds an executor carries out as one POST of `params["payload"]` to `params["url"]`
WEBHOOK_KINDS = frozenset(
    {
        ActionKind.WEBHOOK,
        ActionKind.MAINTENANCE,
        ActionKind.BLOCK_IP,
        ActionKind.DISABLE_ACCOUNT,
        ActionKind.TICKET,
    }
)


class OutcomeStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    DRY_RUN = "dry_run"
    SKIPPED = "skipped"
    AWAITING_APPROVAL = "awaiting_approval"


class PlanStatus(StrEnum):
    RUN = "run"
    SKIPPED = "skipped"
    AWAITING_APPROVAL = "awaiting_approval"
    INVALID = "invalid"  # its parameters do not render


@dataclass(frozen=True)
class Matchers:
    """All given conditions must hold; an empty matcher set matches every incident."""

    severities: tuple[Severity, ...] = ()
    statuses: tuple[Status, ...] = ()
    tenants: tuple[str, ...] = ()  # tenant ids
    tenant_regex: str | None = None  # anchored
    labels: Mapping[str, str] = field(default_factory=dict)  # label -> anchored regex

    def incident_matches(self, incident: Incident) -> bool:
        if self.severities and incident.severity not in self.severities:
            return False
        if self.statuses and incident.status not in self.statuses:
            return False
        return not self.labels or any(self.labels_match(a.labels) for a in incident.alerts)

    def tenant_matches(self, tenant: str | None) -> bool:
        if tenant is None:
            return not self.tenants and self.tenant_regex is None
        if self.tenants and tenant not in self.tenants:
            return False
        return self.tenant_regex is None or re.fullmatch(self.tenant_regex, tenant) is not None

    def labels_match(self, labels: Mapping[str, str]) -> bool:
        return all(re.fullmatch(p, labels.get(k, "")) for k, p in self.labels.items())


@dataclass(frozen=True)
class ActionSpec:
    name: str
    kind: ActionKind
    matchers: Matchers = Matchers()
    params: Mapping[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    cooldown: timedelta = timedelta(minutes=15)
    max_per_hour: int = 10
    approval: bool = False
    per_tenant: bool = True
    timeout: timedelta = timedelta(seconds=30)
    from_config: bool = True  # False: made through the API; shell actions refuse to run


@dataclass(frozen=True)
class PastRun:
    """One earlier run of an action (dry runs too), as the history store keeps it."""

    action: str
    incident_id: str
    tenant: str | None
    at: datetime


@dataclass(frozen=True)
class Planned:
    spec: ActionSpec
    tenant: str | None
    status: PlanStatus
    reason: str = ""  # why it does not run
    params: Mapping[str, Any] = field(default_factory=dict)  # rendered; webhook kinds: + payload


@dataclass(frozen=True)
class Outcome:
    action: str
    kind: ActionKind
    status: OutcomeStatus
    detail: str
    started: datetime
    finished: datetime
    dry_run: bool = False
    tenant: str | None = None
    incident_id: str | None = None


class Executor(Protocol):
    """Carries out one kind of action. Never raises: a failure is a failed Outcome. When
    dry_run, calls nothing and says what it would do ("would <verb> <target>")."""

    async def run(self, spec: ActionSpec, params: Mapping[str, Any], dry_run: bool) -> Outcome: ...


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """value with every string in it rendered as a sandboxed template. Raise TemplateError
    (SecurityError, UndefinedError, TemplateSyntaxError) when one does not render."""
    if isinstance(value, str):
        return _ENV.from_string(value).render(context) if "{" in value else value
    if isinstance(value, Mapping):
        return {str(k): render(v, context) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, context) for v in value]
    return value


def incident_view(incident: Incident) -> dict[str, Any]:
    """The incident as templates and webhook payloads see it."""
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": str(incident.severity),
        "status": str(incident.status),
        "summary": incident.summary,
        "services": list(incident.services),
        "tenants": list(incident.tenant_ids),
        "detected_at": _iso(incident.detected_at),
        "runbook": incident.runbook,
        "alerts": [
            {"alertname": a.alertname, "tenant": a.tenant_id, "labels": dict(a.labels)}
            for a in incident.firing_alerts
        ],
    }


def context_for(incident: Incident, tenant: str | None, matchers: Matchers) -> dict[str, Any]:
    """Template names: `incident`, `tenant` ("" for an incident-wide run) and `labels`, the
    labels of the first linked alert the matchers accept (the tenant's, when per tenant)."""
    alerts = [a for a in incident.alerts if matchers.labels_match(a.labels)]
    own = [a for a in alerts if tenant is not None and a.tenant_id == tenant]
    chosen = own or alerts
    return {
        "incident": incident_view(incident),
        "tenant": tenant or "",
        "labels": dict(chosen[0].labels) if chosen else {},
    }


_TICKET_PRIORITY = {Severity.P1: "urgent", Severity.P2: "high", Severity.P3: "normal"}


def payload_for(
    spec: ActionSpec,
    params: Mapping[str, Any],
    incident: Incident,
    tenant: str | None,
    context: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The JSON body a webhook kind posts (docs/incident-actions.md shows each shape).
    Raise ValueError naming a missing parameter."""
    base: dict[str, Any] = {
        "version": "1",
        "type": str(spec.kind),
        "action": spec.name,
        "incident_id": incident.id,
        "tenant": tenant,
    }
    if spec.kind is ActionKind.WEBHOOK:
        return base | {"incident": context["incident"], "labels": context["labels"]}
    if spec.kind is ActionKind.BLOCK_IP:
        return base | {
            "ip": _required(spec, params, "ip"),
            "duration_seconds": int(params.get("duration_seconds", 3600)),
            "reason": str(params.get("reason", incident.title)),
        }
    if spec.kind is ActionKind.DISABLE_ACCOUNT:
        return base | {
            "account": _required(spec, params, "account"),
            "reason": str(params.get("reason", incident.title)),
        }
    if spec.kind is ActionKind.TICKET:
        return base | {
            "title": str(params.get("title", f"{incident.id}: {incident.title}")),
            "priority": str(params.get("priority", _TICKET_PRIORITY.get(incident.severity, "low"))),
            "description": str(params.get("description", incident.summary)),
            "severity": str(incident.severity),
        }
    if spec.kind is ActionKind.MAINTENANCE:
        minutes = int(params.get("duration_minutes", 60))
        comment = str(params.get("comment", f"maintenance for {incident.id}"))
        return base | {
            "silence": {
                "matchers": _tenant_matchers(tenant, incident.tenant_ids),
                "startsAt": _iso(now),
                "endsAt": _iso(now + timedelta(minutes=minutes)),
                "createdBy": f"tenantwatch action {spec.name}",
                "comment": comment,
            },
            "status_page": {
                "tenant": tenant,
                "status": "maintenance",
                "message": str(params.get("message", incident.title)),
            },
        }
    raise ValueError(f"action {spec.name}: {spec.kind} is not a webhook kind")


def plan(
    incident: Incident,
    specs: Sequence[ActionSpec],
    history: Sequence[PastRun],
    now: datetime,
    approved: Collection[str] = (),
) -> list[Planned]:
    """Every run the specs' matchers bind to the incident, in spec order, each with whether
    it runs now and, if not, why. `history`: earlier runs of these actions within the last
    hour and their cooldowns; `approved`: names of actions approved for this incident."""
    planned: list[Planned] = []
    past = list(history)
    for spec in specs:
        if not spec.matchers.incident_matches(incident):
            continue
        for tenant in _tenants(spec, incident):
            item = _decide(spec, incident, tenant, past, now, approved)
            planned.append(item)
            if item.status is PlanStatus.RUN:
                past.append(PastRun(spec.name, incident.id, tenant, now))
    return planned


def _tenants(spec: ActionSpec, incident: Incident) -> list[str | None]:
    ids: list[str | None] = list(incident.tenant_ids) or [None]
    accepted = [t for t in ids if spec.matchers.tenant_matches(t)]
    if not spec.per_tenant:
        return [None] if accepted else []
    return accepted


def _decide(
    spec: ActionSpec,
    incident: Incident,
    tenant: str | None,
    past: Sequence[PastRun],
    now: datetime,
    approved: Collection[str],
) -> Planned:
    runs = [r for r in past if r.action == spec.name and r.at <= now]
    in_cooldown = [
        r
        for r in runs
        if now - r.at < spec.cooldown
        and r.tenant == tenant
        and (tenant is not None or r.incident_id == incident.id)
    ]
    if in_cooldown:
        last = max(r.at for r in in_cooldown)
        scope = "this incident" if tenant is None else f"tenant {tenant}"
        reason = f"cooldown: ran for {scope} at {_iso(last)}; next run after {_iso(last + spec.cooldown)}"
        return Planned(spec, tenant, PlanStatus.SKIPPED, reason)
    hour = sum(1 for r in runs if now - r.at < timedelta(hours=1))
    if hour >= spec.max_per_hour:
        reason = f"limit: ran {hour} times in the last hour (max_per_hour {spec.max_per_hour})"
        return Planned(spec, tenant, PlanStatus.SKIPPED, reason)
    context = context_for(incident, tenant, spec.matchers)
    try:
        params = render(spec.params, context)
        if spec.kind in WEBHOOK_KINDS:
            params["payload"] = payload_for(spec, params, incident, tenant, context, now)
    except (TemplateError, ValueError, TypeError) as exc:
        reason = f"parameters do not render: {type(exc).__name__}: {exc}"
        return Planned(spec, tenant, PlanStatus.INVALID, reason)
    if spec.approval and spec.name not in approved:
        return Planned(spec, tenant, PlanStatus.AWAITING_APPROVAL, "awaiting approval", params)
    return Planned(spec, tenant, PlanStatus.RUN, "", params)


def not_run(planned: Planned, incident_id: str, now: datetime) -> Outcome:
    """The outcome of a planned run that does not run now."""
    status = {
        PlanStatus.AWAITING_APPROVAL: OutcomeStatus.AWAITING_APPROVAL,
        PlanStatus.INVALID: OutcomeStatus.FAILED,
    }.get(planned.status, OutcomeStatus.SKIPPED)
    spec = planned.spec
    return Outcome(
        spec.name,
        spec.kind,
        status,
        planned.reason,
        now,
        now,
        spec.dry_run,
        planned.tenant,
        incident_id,
    )


def entry_for(outcome: Outcome) -> Entry:
    """The timeline entry recording an action's outcome."""
    who = f" for {outcome.tenant}" if outcome.tenant else ""
    text = f"action {outcome.action}{who}: {outcome.status}"
    if outcome.detail:
        text += f": {outcome.detail.splitlines()[0][:200]}"
    return Entry(
        at=outcome.finished,
        kind=EntryKind.ACTION,
        author="system",
        text=text,
        data={
            "action": outcome.action,
            "kind": str(outcome.kind),
            "status": str(outcome.status),
            "dry_run": outcome.dry_run,
            "detail": outcome.detail,
            "tenant": outcome.tenant,
            "started": _iso(outcome.started),
        },
    )


def _tenant_matchers(tenant: str | None, tenants: Sequence[str]) -> list[dict[str, Any]]:
    """The silence's matchers: the run's tenant, or every tenant of an incident-wide run."""
    if tenant is not None:
        return [{"name": "tenant", "value": tenant, "isRegex": False, "isEqual": True}]
    if not tenants:
        return []
    value = "|".join(re.escape(t) for t in tenants)
    return [{"name": "tenant", "value": value, "isRegex": True, "isEqual": True}]


def _required(spec: ActionSpec, params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise ValueError(f"action {spec.name}: {spec.kind} needs the parameter '{name}'")
    return str(value)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
