"""What a command builds: the database and the services over it; nothing that runs in the
background (no metric store, scrapers, pushgateway, outbox or workers)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.engine import create_engine, redact_url
from tenantwatch.adapters.db.migrate import current_revision, head_revision, migrate
from tenantwatch.adapters.db.tables import instance_state
from tenantwatch.adapters.db.uow import SqlUnitOfWorkFactory
from tenantwatch.adapters.probes.guard import ProbeGuard, probe_policy
from tenantwatch.config.model import Config
from tenantwatch.domain.config_source import CONFIG_SOURCE_KEY, ConfigSource
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.services.apikeys import ApiKeyService
from tenantwatch.services.audit import AuditService
from tenantwatch.services.checks import CheckService
from tenantwatch.services.config_sync import ConfigSync, ConfigSyncReport
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.tenants import TenantInput, TenantService
from tenantwatch.settings import Settings


@dataclass(frozen=True)
class Database:
    """The engine and the service context over it; nothing is opened until first use."""

    engine: AsyncEngine
    ctx: ServiceContext

    async def migrate(self) -> tuple[str | None, str | None]:
        """Apply migrations; return the revisions before and after."""
        return await migrate(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()


def open_database(settings: Settings, config: Config) -> Database:
    engine = create_engine(settings.effective_database_url)
    tiers = TierCatalog.with_custom(config.custom_tiers())
    return Database(engine, ServiceContext(uow=SqlUnitOfWorkFactory(engine), tiers=tiers))


@dataclass(frozen=True)
class Services:
    """The services every role and command uses: tenants, keys, audit, checks, config sync."""

    ctx: ServiceContext
    tenants: TenantService
    api_keys: ApiKeyService
    audit: AuditService
    checks: CheckService
    config_sync: ConfigSync


def build_services(db: Database, config: Config) -> Services:
    tenants = TenantService(db.ctx)
    checks = CheckService(db.ctx, targets=ProbeGuard(probe_policy(config.check_runner)))
    return Services(
        ctx=db.ctx,
        tenants=tenants,
        api_keys=ApiKeyService(db.ctx),
        audit=AuditService(db.ctx),
        checks=checks,
        config_sync=ConfigSync(db.ctx, tenants, checks),
    )


def shown_database(settings: Settings) -> str:
    """The database URL as messages show it (no password)."""
    return redact_url(settings.effective_database_url)


async def migrate_database(settings: Settings) -> tuple[str | None, str | None]:
    """Apply the migrations to the settings' database; return the revisions before and after."""
    engine = create_engine(settings.effective_database_url)
    try:
        return await migrate(engine)
    finally:
        await engine.dispose()


async def schema_problem(settings: Settings) -> str | None:
    """Why the settings' database cannot be read by this tenantwatch (empty or older), or None."""
    engine = create_engine(settings.effective_database_url)
    try:
        found = await current_revision(engine)
    finally:
        await engine.dispose()
    if found == head_revision():
        return None
    where = shown_database(settings)
    if found is None:
        return f"{where} holds no tenantwatch data; start the server first (`tenantwatch serve`)"
    return f"{where} is at schema {found}, older than this tenantwatch; run `tenantwatch migrate`"


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


def config_dir(settings: Settings) -> Path:
    """Where relative paths in tenantwatch.yml (rule files, ...) are found."""
    return settings.config.resolve().parent if settings.config else Path.cwd()


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


async def sync_config(
    services: Services,
    settings: Settings,
    config: Config,
    *,
    force: bool = False,
    switch: bool = False,
) -> ConfigSyncReport:
    """Sync the config's tenants and checks, unless that needs --force (SyncRefused).

    Only `serve` and `config apply` (which may `switch` files) call this: commands that
    show never sync."""
    return await services.config_sync.apply(
        declared_tenants(config),
        config.checks,
        config_source(settings),
        force=force,
        switch=switch,
    )
