"""Sync tenantwatch.yml's tenants and checks into the database, refusing a sync that would
undo another file's (see domain/config_source.py), and record which file was synced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tenantwatch.domain.check_record import CheckDeclaration
from tenantwatch.domain.config_source import (
    CONFIG_SOURCE_KEY,
    ConfigSource,
    source_refusal,
    wipe_refusal,
)
from tenantwatch.services.checks import CheckService, CheckSyncReport
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Conflict, ServiceError
from tenantwatch.services.tenants import SyncReport, TenantInput, TenantService


class SyncRefused(ServiceError):
    """A config sync that would undo what another config file (or every declaration) set up."""


@dataclass(frozen=True)
class ConfigSyncReport:
    tenants: SyncReport
    checks: CheckSyncReport
    source: ConfigSource


class ConfigSync:
    def __init__(self, ctx: ServiceContext, tenants: TenantService, checks: CheckService) -> None:
        self._ctx = ctx
        self._tenants = tenants
        self._checks = checks

    async def recorded(self) -> ConfigSource | None:
        """The config file this database was last synced from, or None."""
        async with self._ctx.uow() as uow:
            value = await uow.instance.get(CONFIG_SOURCE_KEY)
        return ConfigSource.from_record(value) if value is not None else None

    async def refusal(
        self,
        tenants: Sequence[TenantInput],
        checks: Sequence[CheckDeclaration],
        source: ConfigSource,
        switch: bool = False,
    ) -> str | None:
        """Why syncing this file needs --force, or None."""
        if not switch and (problem := source_refusal(await self.recorded(), source)):
            return problem
        async with self._ctx.uow() as uow:
            held_checks = [c.id for c in await uow.checks.all() if c.managed_by == "config"]
            held_tenants: list[str] = []
            after: str | None = None
            while page := await uow.tenants.list(after=after, limit=500):
                held_tenants += [t.id for t in page if t.managed_by == "config"]
                after = page[-1].id
        return wipe_refusal(
            held_tenants,
            [t.id for t in tenants],
            held_checks,
            [c.id for c in checks if c.id is not None],
        )

    async def apply(
        self,
        tenants: Sequence[TenantInput],
        checks: Sequence[CheckDeclaration],
        source: ConfigSource,
        *,
        force: bool = False,
        switch: bool = False,
    ) -> ConfigSyncReport:
        """Sync the file's tenants and checks and record the file; refuse (SyncRefused) what
        needs --force unless force. `switch` (config apply) may change the recorded file,
        not remove everything. Safe when several processes start at the same moment."""
        if not force and (problem := await self.refusal(tenants, checks, source, switch)):
            raise SyncRefused(problem)
        try:
            tenant_report = await self._tenants.sync_from_config(tenants)
        except Conflict:  # another process inserted a tenant first; sync again
            tenant_report = await self._tenants.sync_from_config(tenants)
        try:
            check_report = await self._checks.sync_from_config(checks)
        except Conflict:
            check_report = await self._checks.sync_from_config(checks)
        if source.path is not None or force:  # forced without a file: forget the old one
            async with self._ctx.uow() as uow:
                await uow.instance.put(CONFIG_SOURCE_KEY, source.as_record(), self._ctx.clock())
        return ConfigSyncReport(tenant_report, check_report, source)
