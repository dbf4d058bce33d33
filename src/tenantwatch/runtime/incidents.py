"""Incidents wired: the rules from tenantwatch.yml's `incidents:` section, the database
repository, and the feeder that follows the alert manager."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.repos.incidents import SqlIncidentRepo
from tenantwatch.config.incidents_model import IncidentsSection
from tenantwatch.incidents.grouping import Rule
from tenantwatch.incidents.model import Severity
from tenantwatch.services.alerting import AlertingService
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


def build_incidents(
    section: IncidentsSection,
    engine: AsyncEngine,
    tenant_tiers: Callable[[], Awaitable[Mapping[str, str]]],
    alerting: AlertingService,
    sink: Callable[[list[Sample]], None] | None = None,
) -> tuple[IncidentService, IncidentFeeder | None]:
    service = IncidentService(SqlIncidentRepo(engine), tenant_tiers, rules=incident_rules(section))
    feeder = None
    if section.enabled:
        feeder = IncidentFeeder(
            service,
            alerting,
            interval_s=section.reconcile_interval,
            escalate_to=section.escalate_to,
            sink=sink,
        )
    return service, feeder
