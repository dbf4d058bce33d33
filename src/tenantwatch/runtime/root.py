"""The one composition root: build_runtime wires every part; Runtime.start(roles) and stop()
own the order in which they start and stop."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import structlog
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.engine import ping
from tenantwatch.adapters.db.repos.alerting import SqlAlertRepo
from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.adapters.db.repos.rule_alerts import SqlRuleStateStore
from tenantwatch.adapters.db.repos.rule_groups import SqlRuleGroupRepo
from tenantwatch.adapters.db.repos.sla_credits import SqlCreditLedger
from tenantwatch.adapters.inspector import Inspector
from tenantwatch.adapters.notifiers.base import Notifiers
from tenantwatch.adapters.pdf import PdfUnavailable, render_pdf
from tenantwatch.adapters.probes.executor import ProbeExecutor
from tenantwatch.adapters.probes.guard import probe_policy
from tenantwatch.adapters.smtp_sink import SmtpSink
from tenantwatch.config.errors import ConfigError
from tenantwatch.config.model import Config
from tenantwatch.configuration import load_config
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.flapping import FlapConfig
from tenantwatch.domain.outbox import RetryPolicy
from tenantwatch.metrics.wiring import MetricsRuntime, build_metrics
from tenantwatch.rules.files import parse_rule_file
from tenantwatch.rules.load import builtin_groups, load_rule_groups
from tenantwatch.rules.status import ManagedGroup
from tenantwatch.runtime import builders
from tenantwatch.runtime.alerting import alertmanager_config, build_notifiers, escalator
from tenantwatch.runtime.builders import Database, Services, config_dir
from tenantwatch.runtime.incidents import build_incidents
from tenantwatch.runtime.sla import build_sla
from tenantwatch.services.alert_actions import AlertActions
from tenantwatch.services.alerting import AlertingService
from tenantwatch.services.apikeys import ApiKeyService
from tenantwatch.services.audit import AuditService
from tenantwatch.services.checks import CheckService
from tenantwatch.services.config_sync import ConfigSync, ConfigSyncReport
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Invalid
from tenantwatch.services.health import DependencyProbe
from tenantwatch.services.incident_response import IncidentResponder
from tenantwatch.services.incidents import IncidentService
from tenantwatch.services.notifications import NotificationService
from tenantwatch.services.rule_groups import RuleGroupService
from tenantwatch.services.sla import SlaService
from tenantwatch.services.sla_credits import SlaCredits
from tenantwatch.services.tenants import TenantService
from tenantwatch.settings import Settings
from tenantwatch.sla.burn_rules import availability_burn_rules
from tenantwatch.types import Sample
from tenantwatch.workers.alert_manager import AlertManagerWorker
from tenantwatch.workers.check_engine import CheckEngine
from tenantwatch.workers.check_samples import SampleSink
from tenantwatch.workers.incidents import IncidentFeeder
from tenantwatch.workers.outbox import OutboxWorker
from tenantwatch.workers.rules import RuleManager
from tenantwatch.workers.sla_targets import SlaTargetWriter


class Role(StrEnum):
    """A part of tenantwatch a process runs; `serve` runs them all by default."""

    API = "api"  # HTTP, the metric store, the alert manager and its outbox
    CHECKS = "checks"  # the check scheduler
    RULES = "rules"  # rule evaluation (over the metric store, so with api)


ALL_ROLES = frozenset(Role)
log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    """Every part of a running tenantwatch, wired; nothing runs before start()."""

    settings: Settings
    config: Config
    db: Database
    services: Services
    check_engine: CheckEngine
    probes: dict[str, DependencyProbe]
    metrics: MetricsRuntime
    notifiers: Notifiers
    outbox: OutboxWorker
    notifications: NotificationService
    alerting: AlertingService
    alert_worker: AlertManagerWorker
    alert_actions: AlertActions
    rule_groups: RuleGroupService
    rules: RuleManager
    config_groups: list[ManagedGroup]
    inspector: Inspector | None
    sla: SlaService | None = None  # tenants' SLA periods, reports and predictions
    sla_credits: SlaCredits | None = None  # the credit ledger per tenant and month
    incidents: IncidentService | None = None  # incidents from alerts and by hand
    incident_feeder: IncidentFeeder | None = None  # follows the alert manager
    incident_responder: IncidentResponder | None = None  # automated actions
    sla_targets: SlaTargetWriter | None = None  # each tenant's targets as series
    last_sync: ConfigSyncReport | None = None
    # the environment ${VAR}s in tenantwatch.yml expand from when it is reloaded
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    reloads: int = 0
    reload_failures: int = 0
    last_reload_ok: bool = True
    last_config_time: float | None = None  # when a reload last succeeded (Unix seconds)
    _reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _alerting_on: bool = False
    _smtp: SmtpSink | None = field(default=None, repr=False)
    _sla_stop: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _sla_task: asyncio.Task[None] | None = field(default=None, repr=False)
    _incident_stop: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _incident_task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def engine(self) -> AsyncEngine:
        return self.db.engine

    @property
    def ctx(self) -> ServiceContext:
        return self.db.ctx

    @property
    def tenants(self) -> TenantService:
        return self.services.tenants

    @property
    def api_keys(self) -> ApiKeyService:
        return self.services.api_keys

    @property
    def audit(self) -> AuditService:
        return self.services.audit

    @property
    def checks(self) -> CheckService:
        return self.services.checks

    @property
    def config_sync(self) -> ConfigSync:
        return self.services.config_sync

    async def start(
        self, roles: Collection[Role] = ALL_ROLES, *, force: bool = False
    ) -> ConfigSyncReport:
        """Start what the roles run, in order: the database (migrations, config sync), the
        metric store, the check engine, the inspector's SMTP sink, the alert manager and its
        outbox, the rule evaluator. Return what the config sync (with `force`) changed."""
        report = await prepare(self, force=force)
        api = Role.API in roles
        if api and not self.metrics.running:
            await self.metrics.start()
        if api and self.sla_targets is not None and self._sla_task is None:
            self._sla_stop = asyncio.Event()
            self._sla_task = asyncio.create_task(
                self.sla_targets.run(self._sla_stop), name="sla target series"
            )
        await self.check_engine.start(schedule=Role.CHECKS in roles, samples=api)
        if not api:
            return report
        self._smtp = self._start_smtp_sink()
        await self.start_alerting()
        if self.incident_feeder is not None and self._incident_task is None:
            self._incident_stop = asyncio.Event()
            self._incident_task = asyncio.create_task(
                self.incident_feeder.run(self._incident_stop), name="incident feeder"
            )
        if Role.RULES in roles:
            await self.reload_rules()
            await self.rules.start()
        return report

    async def stop(self) -> None:
        """Stop everything start() started, in reverse order, and close the database."""
        await self.rules.stop()
        if self._incident_task is not None:
            self._incident_stop.set()
            await self._incident_task
            self._incident_task = None
        if self.incident_responder is not None:
            await self.incident_responder.close()
        await self.stop_alerting()
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        await self.notifiers.close()
        await self.check_engine.stop()
        if self._sla_task is not None:
            self._sla_stop.set()
            await self._sla_task
            self._sla_task = None
        await self.metrics.stop()
        await self.db.close()

    async def render_pdf(self, html: str) -> bytes:
        """A report's HTML as a PDF, rendered in a worker thread (it takes a second)."""
        try:
            return await asyncio.to_thread(render_pdf, html)
        except PdfUnavailable as exc:
            raise Invalid(str(exc), field="format") from exc

    async def reload_config(self) -> Config:
        """Read tenantwatch.yml again and apply it as Prometheus' reload does: scrape jobs
        (targets whose labels and URL are unchanged keep scraping, with their caches) and
        rule files; return the new config. Raise ConfigError (every problem, file:line)
        and keep running the old config when the file is invalid. Tenants, checks and the
        Alertmanager configuration are not reloaded (`tenantwatch serve` applies them)."""
        async with self._reload_lock:
            self.reloads += 1
            try:
                config = await asyncio.to_thread(self._read_config)
                groups = await asyncio.to_thread(config_rule_groups, self.settings, config)
            except ConfigError as exc:
                self.reload_failures += 1
                self.last_reload_ok = False
                log.error("config reload failed; the running config stays", error=str(exc))
                raise
            await self.metrics.reload(config)
            self.config_groups = groups
            await self.reload_rules()
            self.config = config
            self.last_reload_ok = True
            self.last_config_time = time.time()
            log.info(
                "config reloaded",
                file=str(self.settings.config),
                scrape_jobs=len(config.scrape_configs),
                rule_groups=len(groups),
            )
            return config

    def _read_config(self) -> Config:
        if self.settings.config is None:
            return self.config
        return load_config(self.settings.config, self.env)

    async def reload_rules(self) -> None:
        """Give the rule manager the config's groups plus the API's current ones."""
        stored = await self.rule_groups.all_groups()
        self.rules.set_groups(
            [*self.config_groups, *(ManagedGroup(g, tenant) for g, tenant in stored)]
        )

    async def start_alerting(self) -> None:
        """Load the alert manager's state and start dispatching and sending."""
        if not self._alerting_on:
            await self.alert_worker.start()
            self.outbox.start()
            self._alerting_on = True

    async def stop_alerting(self) -> None:
        if self._alerting_on:
            await self.alert_worker.stop()
            await self.outbox.stop()
            self._alerting_on = False

    def _start_smtp_sink(self) -> SmtpSink | None:
        """The inspector's SMTP receiver, when the config asks for one."""
        port = self.config.inspector.smtp_port
        if self.inspector is None or port is None:
            return None
        sink = SmtpSink(port, self.inspector.record_email)
        sink.start()
        return sink


def config_rule_groups(settings: Settings, config: Config) -> list[ManagedGroup]:
    """The rule files' groups, then the built-in pack (less what the files redefine), then
    the SLA's burn-rate alerts when the config keeps them on."""
    groups = load_rule_groups(config.rule_files, config_dir(settings))
    if config.rules.builtin:
        groups += builtin_groups(groups)
    if config.sla.burn_rate_alerts:
        text = yaml.safe_dump({"groups": [availability_burn_rules()]}, sort_keys=False)
        groups += parse_rule_file(text, "<sla burn-rate alerts>").groups
    return [ManagedGroup(g) for g in groups]


def build_check_engine(
    services: Services, config: Config, *, sink: SampleSink | None = None, claim: bool = False
) -> CheckEngine:
    """The check scheduler (claiming its work when `claim`), executor and ping intake."""
    return CheckEngine(
        services.checks,
        services.ctx.tiers,
        config.check_runner,
        ProbeExecutor(policy=probe_policy(config.check_runner)),
        sink=sink,
        claim=claim,
    )


def build_runtime(
    settings: Settings, config: Config | None = None, *, env: Mapping[str, str] | None = None
) -> Runtime:
    """Return every part wired; nothing is opened until start() or first use. env: what
    ${VAR}s expand from when the config is reloaded."""
    config = config or Config()
    db = builders.open_database(settings, config)
    engine = db.engine
    services = builders.build_services(db, config)
    tenants = services.tenants

    async def database() -> None:
        await ping(engine)

    async def tenant_tiers() -> dict[str, str]:
        return {t.id: t.tier for t in await tenants.all(SYSTEM)}

    metrics = build_metrics(
        settings.data_dir,
        config,
        db.ctx.tiers,
        tenant_tiers=tenant_tiers,
        config_dir=config_dir(settings),
        environ=os.environ,
    )

    def sink(samples: list[Sample]) -> None:
        """Append samples to the metric store (dropped while it is not running)."""
        if metrics.running and samples:
            metrics.appender.append_many(samples)

    notifiers = build_notifiers(config)
    notification_repo = SqlNotificationRepo(engine)
    outbox = OutboxWorker(
        notification_repo,
        notifiers.deliver,
        policy=RetryPolicy(retry_for_s=config.alertmanager.delivery.retry_for),
    )
    notifications = NotificationService(db.ctx, notification_repo, now=outbox.now, wake=outbox.wake)
    am_config = alertmanager_config(settings, config)
    section = config.alertmanager
    alerting = AlertingService(
        am_config,
        SqlAlertRepo(engine),
        outbox.enqueue,
        external_url=section.external_url or settings.base_url,
        flap_config=FlapConfig(
            enabled=section.flapping.enabled,
            window_s=section.flapping.window,
            high_threshold=section.flapping.high_threshold,
            low_threshold=section.flapping.low_threshold,
            digest_interval_s=section.flapping.digest_interval,
        ),
        escalator=escalator(section.escalation, am_config),
        tenant_tiers=tenant_tiers,
    )
    config_groups = config_rule_groups(settings, config)
    rules = RuleManager(
        config_groups,
        metrics.queries,
        sink,
        alerting.receive_rule_alerts,
        SqlRuleStateStore(engine),
        default_interval_s=config.rules.evaluation_interval,
        external_labels=config.rules.external_labels,
        external_url=config.rules.external_url or settings.base_url,
        resend_delay_s=config.rules.resend_delay,
    )
    sla = build_sla(config, services.tenants, services.checks, db.ctx.tiers, metrics)
    credits = SlaCredits(sla, SqlCreditLedger(engine))
    incidents, incident_responder, incident_feeder = build_incidents(
        config.incidents, engine, tenant_tiers, alerting, sink
    )
    sla.recoveries = incidents.recovery_minutes  # the recovery-time objective reads incidents
    runtime: Runtime

    async def reload_rules() -> None:
        await runtime.reload_rules()

    runtime = Runtime(
        settings=settings,
        config=config,
        db=db,
        services=services,
        check_engine=build_check_engine(
            services, config, sink=sink, claim=engine.dialect.name == "postgresql"
        ),
        probes={"database": database},
        metrics=metrics,
        sla=sla,
        sla_credits=credits,
        incidents=incidents,
        incident_feeder=incident_feeder,
        incident_responder=incident_responder,
        sla_targets=SlaTargetWriter(
            services.tenants,
            db.ctx.tiers,
            sink,
            interval_s=config.sla.series_interval,
            sla=sla,
            credits=credits,
            measure_every_s=config.sla.measure_interval,
        ),
        notifiers=notifiers,
        outbox=outbox,
        notifications=notifications,
        alerting=alerting,
        alert_worker=AlertManagerWorker(alerting),
        alert_actions=AlertActions(alerting, services.audit.record),
        rule_groups=RuleGroupService(
            SqlRuleGroupRepo(engine), reload_rules, audit=services.audit.record
        ),
        rules=rules,
        config_groups=config_groups,
        inspector=Inspector(limit=config.inspector.limit) if config.inspector.enabled else None,
        env=dict(env or {}),
    )
    return runtime


async def prepare(runtime: Runtime, *, force: bool = False) -> ConfigSyncReport:
    """Apply migrations and sync the config's tenants and checks; return what changed."""
    await runtime.db.migrate()
    return await sync_config(runtime, force=force)


async def sync_config(
    runtime: Runtime, *, force: bool = False, switch: bool = False
) -> ConfigSyncReport:
    """builders.sync_config over the runtime's services; remember the report."""
    report = await builders.sync_config(
        runtime.services, runtime.settings, runtime.config, force=force, switch=switch
    )
    runtime.last_sync = report
    return report
