"""Wire a running tenantwatch from Settings and Config: engine, migrations, services."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.engine import create_engine, ping
from tenantwatch.adapters.db.migrate import migrate
from tenantwatch.adapters.db.repos.alerting import (
    SqlAlertStore,
    SqlNotificationLog,
    SqlSilenceStore,
)
from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.adapters.db.repos.rule_alerts import SqlRuleStateStore
from tenantwatch.adapters.db.repos.rule_groups import SqlRuleGroupRepo
from tenantwatch.adapters.db.tables import instance_state
from tenantwatch.adapters.db.uow import SqlUnitOfWorkFactory
from tenantwatch.adapters.notifiers.base import Notifiers
from tenantwatch.adapters.probes.guard import ProbeGuard
from tenantwatch.alertmanager.config import (
    AlertmanagerConfig,
    config_from_mapping,
    default_config,
    load_alertmanager_config,
    with_tenant_routes,
)
from tenantwatch.config.alerting_model import EscalationConfig
from tenantwatch.config.errors import ConfigError, ConfigIssue
from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.config_source import CONFIG_SOURCE_KEY, ConfigSource
from tenantwatch.domain.flapping import FlapConfig
from tenantwatch.domain.outbox import RetryPolicy
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.wiring import MetricsRuntime, build_metrics
from tenantwatch.rules.alerting import OutgoingAlert
from tenantwatch.rules.load import builtin_groups, load_rule_groups
from tenantwatch.services.alert_actions import AlertActions
from tenantwatch.services.alerting import AlertingService
from tenantwatch.services.apikeys import ApiKeyService
from tenantwatch.services.audit import AuditService
from tenantwatch.services.checks import CheckService
from tenantwatch.services.config_sync import ConfigSync, ConfigSyncReport
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.escalation import Escalator
from tenantwatch.services.health import DependencyProbe
from tenantwatch.services.notifications import NotificationService
from tenantwatch.services.rule_groups import RuleGroupService
from tenantwatch.services.tenants import TenantInput, TenantService
from tenantwatch.settings import Settings
from tenantwatch.types import Sample
from tenantwatch.web.inspector import Inspector
from tenantwatch.workers.check_engine import CheckEngine, probe_policy
from tenantwatch.workers.outbox import OutboxWorker
from tenantwatch.workers.rules import ManagedGroup, RuleManager


@dataclass
class Runtime:
    settings: Settings
    config: Config
    engine: AsyncEngine
    ctx: ServiceContext
    tenants: TenantService
    api_keys: ApiKeyService
    audit: AuditService
    checks: CheckService
    check_engine: CheckEngine
    config_sync: ConfigSync
    probes: dict[str, DependencyProbe] = field(default_factory=dict)
    metrics: MetricsRuntime | None = None
    last_sync: ConfigSyncReport | None = None
    rules: RuleManager | None = None
    rule_groups: RuleGroupService | None = None
    alerting: AlertingService | None = None
    alert_actions: AlertActions | None = None
    outbox: OutboxWorker | None = None
    notifiers: Notifiers | None = None
    notifications: NotificationService | None = None
    config_groups: list[ManagedGroup] = field(default_factory=list)
    inspector: Inspector | None = None
    _alerting_on: bool = False

    async def close(self) -> None:
        if self.rules is not None:
            await self.rules.stop()
        await self.stop_alerting()
        if self.notifiers is not None:
            await self.notifiers.close()
        await self.check_engine.stop()
        if self.metrics is not None:
            await self.metrics.stop()
        await self.engine.dispose()

    def write_samples(self, samples: list[Sample]) -> None:
        """Append samples to the metric store (dropped while it is not running)."""
        if self.metrics is not None and self.metrics.running and samples:
            self.metrics.appender.append_many(samples)

    async def reload_rules(self) -> None:
        """Give the rule manager the config's groups plus the API's current ones."""
        if self.rules is None:
            return
        stored = await self.rule_groups.all_groups() if self.rule_groups is not None else []
        self.rules.set_groups(
            [*self.config_groups, *(ManagedGroup(g, tenant) for g, tenant in stored)]
        )

    async def start_alerting(self) -> None:
        """Load the alert manager's state and start dispatching and sending."""
        if self.alerting is not None and self.outbox is not None and not self._alerting_on:
            await self.alerting.start()
            self.outbox.start()
            self._alerting_on = True

    async def stop_alerting(self) -> None:
        if self._alerting_on and self.alerting is not None and self.outbox is not None:
            await self.alerting.stop()
            await self.outbox.stop()
            self._alerting_on = False

    async def send_rule_alerts(self, alerts: list[OutgoingAlert], tenant: str | None) -> None:
        """Hand the rules' alerts to the alert manager (dropped while there is none)."""
        if self.alerting is not None:
            await self.alerting.receive_rule_alerts(alerts, tenant)


def config_dir(settings: Settings) -> Path:
    """Where relative paths in tenantwatch.yml (rule files, ...) are found."""
    return settings.config.resolve().parent if settings.config else Path.cwd()


def config_rule_groups(settings: Settings, config: Config) -> list[ManagedGroup]:
    """The rule files' groups, then the built-in pack (less what the files redefine)."""
    groups = load_rule_groups(config.rule_files, config_dir(settings))
    if config.rules.builtin:
        groups += builtin_groups(groups)
    return [ManagedGroup(g) for g in groups]


def alertmanager_config(settings: Settings, config: Config) -> AlertmanagerConfig:
    """The Alertmanager configuration: its own file, inline, or none (nothing is sent)."""
    section = config.alertmanager
    if section.config_file:
        am = load_alertmanager_config(config_dir(settings) / section.config_file)
    elif section.config is not None:
        am = config_from_mapping(section.config, f"{settings.config or 'tenantwatch.yml'}")
    else:
        am = default_config()
    return with_tenant_routes(am, section.tenant_routes)


def escalator(config: EscalationConfig, am: AlertmanagerConfig) -> Escalator | None:
    """The escalation engine, when enabled; a bad policy or name is a config error."""
    if not config.enabled:
        return None
    try:
        return Escalator(config, am.receivers)
    except ValueError as exc:
        raise ConfigError([ConfigIssue("tenantwatch.yml", 0, str(exc))]) from None


def declared_tenants(config: Config) -> list[TenantInput]:
    return [
        TenantInput(
            id=t.id,
            name=t.name,
            tier=t.tier,
            timezone=t.timezone,
            labels=dict(t.labels),
            status=t.status,
            sla_overrides=t.sla_overrides.given(),
        )
        for t in config.tenants
    ]


def build_runtime(settings: Settings, config: Config | None = None) -> Runtime:
    """Return the wired services; nothing is opened until first use."""
    config = config or Config()
    engine = create_engine(settings.effective_database_url)
    ctx = ServiceContext(
        uow=SqlUnitOfWorkFactory(engine), tiers=TierCatalog.with_custom(config.custom_tiers())
    )

    tenants = TenantService(ctx)

    async def database() -> None:
        await ping(engine)

    async def tenant_tiers() -> dict[str, str]:
        out: dict[str, str] = {}
        cursor = None
        while True:
            page = await tenants.list(SYSTEM, cursor=cursor, limit=500)
            out.update((t.id, t.tier) for t in page.items)
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    checks = CheckService(ctx, targets=ProbeGuard(probe_policy(config.check_runner)))
    runtime: Runtime

    def sink(samples: list[Sample]) -> None:
        runtime.write_samples(samples)

    runtime = Runtime(
        settings=settings,
        config=config,
        engine=engine,
        ctx=ctx,
        tenants=tenants,
        api_keys=ApiKeyService(ctx),
        audit=AuditService(ctx),
        checks=checks,
        config_sync=ConfigSync(ctx, tenants, checks),
        check_engine=CheckEngine(
            checks,
            ctx.tiers,
            config.check_runner,
            sink=sink,
            claim=engine.dialect.name == "postgresql",
        ),
        probes={"database": database},
        metrics=build_metrics(settings.data_dir, config, ctx.tiers, tenant_tiers=tenant_tiers),
    )
    runtime.notifiers = Notifiers(allow_private=config.alertmanager.allow_private_targets)
    runtime.outbox = OutboxWorker(
        SqlNotificationRepo(engine),
        runtime.notifiers.deliver,
        policy=RetryPolicy(retry_for_s=config.alertmanager.delivery.retry_for),
    )
    runtime.notifications = NotificationService(
        ctx, runtime.outbox.repo, now=runtime.outbox.now, wake=runtime.outbox.wake
    )
    am_config = alertmanager_config(settings, config)
    section = config.alertmanager
    runtime.alerting = AlertingService(
        am_config,
        SqlAlertStore(engine),
        SqlSilenceStore(engine),
        SqlNotificationLog(engine),
        runtime.outbox.enqueue,
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
    runtime.alert_actions = AlertActions(runtime.alerting, runtime.audit.record)
    if config.inspector.enabled:
        runtime.inspector = Inspector(limit=config.inspector.limit)
    runtime.rule_groups = RuleGroupService(
        SqlRuleGroupRepo(engine), runtime.reload_rules, audit=runtime.audit.record
    )
    metrics = runtime.metrics
    if metrics is not None:
        runtime.config_groups = config_rule_groups(settings, config)
        runtime.rules = RuleManager(
            runtime.config_groups,
            metrics.queries,
            sink,
            runtime.send_rule_alerts,
            SqlRuleStateStore(engine),
            default_interval_s=config.rules.evaluation_interval,
            external_labels=config.rules.external_labels,
            external_url=config.rules.external_url or settings.base_url,
            resend_delay_s=config.rules.resend_delay,
        )
    return runtime


async def recorded_source(settings: Settings) -> ConfigSource | None:
    """The config file the database records it is served from (None: none recorded, or
    a database from before the record existed)."""
    engine = create_engine(settings.effective_database_url)
    try:
        async with engine.connect() as conn:
            q = select(instance_state.c.value).where(instance_state.c.key == CONFIG_SOURCE_KEY)
            value = (await conn.execute(q)).scalar()
    except DBAPIError:  # no such table yet: not migrated
        return None
    finally:
        await engine.dispose()
    return ConfigSource.from_record(value) if value is not None else None


def config_source(settings: Settings) -> ConfigSource:
    """The config file the settings name, as a sync records it (no file: both None)."""
    if settings.config is None:
        return ConfigSource()
    path = settings.config.resolve()
    return ConfigSource(str(path), hashlib.sha256(path.read_bytes()).hexdigest())


async def prepare(runtime: Runtime, *, force: bool = False) -> ConfigSyncReport:
    """Apply migrations and sync the config's tenants and checks; return what changed."""
    await migrate(runtime.engine)
    return await sync_config(runtime, force=force)


async def sync_config(
    runtime: Runtime, *, force: bool = False, switch: bool = False
) -> ConfigSyncReport:
    """Sync the config's tenants and checks, unless that needs --force (SyncRefused).

    Only `serve` and `config apply` (which may `switch` files) call this: commands that
    show never sync."""
    report = await runtime.config_sync.apply(
        declared_tenants(runtime.config),
        runtime.config.checks,
        config_source(runtime.settings),
        force=force,
        switch=switch,
    )
    runtime.last_sync = report
    return report
