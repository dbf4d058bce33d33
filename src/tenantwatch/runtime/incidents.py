"""Incidents wired: the rules from tenantwatch.yml's `incidents:` section, the database
repository, and the feeder that follows the alert manager."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.actions import executors
from tenantwatch.adapters.db.repos.incidents import SqlIncidentRepo
from tenantwatch.adapters.ssrf import SsrfPolicy
from tenantwatch.config.incidents_model import IncidentsSection
from tenantwatch.incidents.actions import ActionKind, ActionSpec, Matchers
from tenantwatch.incidents.grouping import Rule
from tenantwatch.incidents.model import Severity, Status
from tenantwatch.services.alerting import AlertingService
from tenantwatch.services.incident_actions import MemoryActionHistory
from tenantwatch.services.incident_response import IncidentResponder
from tenantwatch.services.incidents import IncidentService
from tenantwatch.types import Sample
from tenantwatch.workers.incidents import IncidentFeeder


def incident_rules(section: IncidentsSection) -> list[Rule]:
    return [
        Rule(
            name=r.name,
            matchers=dict(r.match),
            severity=None if r.severity is None else Severity(r.severity),
            min_severity=Severity(r.min_severity),
            group_by=tuple(r.group_by),
            window=timedelta(seconds=r.window),
            reopen_window=timedelta(seconds=r.reopen_window),
            auto_resolve=r.auto_resolve,
        )
        for r in section.rules
    ]


def action_specs(section: IncidentsSection) -> list[ActionSpec]:
    """The config's actions (from the file, so shell actions may run)."""
    return [
        ActionSpec(
            name=a.name,
            kind=ActionKind(a.kind),
            matchers=Matchers(
                severities=tuple(Severity(x) for x in a.matchers.severities),
                statuses=tuple(Status(x) for x in a.matchers.statuses),
                tenants=tuple(a.matchers.tenants),
                tenant_regex=a.matchers.tenant_regex,
                labels=dict(a.matchers.labels),
            ),
            params=dict(a.params),
            dry_run=a.dry_run,
            cooldown=timedelta(seconds=a.cooldown),
            max_per_hour=a.max_per_hour,
            approval=a.approval,
            per_tenant=a.per_tenant,
            timeout=timedelta(seconds=a.timeout),
            from_config=True,
        )
        for a in section.actions
    ]


def build_responder(section: IncidentsSection, service: IncidentService) -> IncidentResponder:
    policy = SsrfPolicy.from_allow_list(section.allow_private_targets)
    return IncidentResponder(
        service, action_specs(section), executors(policy), MemoryActionHistory()
    )


def build_incidents(
    section: IncidentsSection,
    engine: AsyncEngine,
    tenant_tiers: Callable[[], Awaitable[Mapping[str, str]]],
    alerting: AlertingService,
    sink: Callable[[list[Sample]], None] | None = None,
) -> tuple[IncidentService, IncidentResponder, IncidentFeeder | None]:
    service = IncidentService(SqlIncidentRepo(engine), tenant_tiers, rules=incident_rules(section))
    responder = build_responder(section, service)
    feeder = None
    if section.enabled:
        feeder = IncidentFeeder(
            service,
            alerting,
            interval_s=section.reconcile_interval,
            escalate_to=section.escalate_to,
            sink=sink,
            responder=responder,
        )
    return service, responder, feeder
