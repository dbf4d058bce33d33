"""Check use cases that write: CRUD (API and config), recording runs, pings and pruning."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.check_record import (
    CheckDeclaration,
    audit_snapshot,
    check_from_model,
    definition,
)
from tenantwatch.domain.checks import (
    Check,
    CheckKind,
    CheckRun,
    CheckState,
    StateChangeRecord,
    advance,
    rollup_deltas,
)
from tenantwatch.domain.heartbeat import HeartbeatState, PingKind, apply_ping
from tenantwatch.services.access import require
from tenantwatch.services.check_admission import (
    TargetGuard,
    api_check_id,
    refuse_config_only,
    refuse_target,
)
from tenantwatch.services.check_queries import CheckQueries, active_tiers, all_tenants
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Conflict, Invalid

CONFIG_ACTOR = "config"
ROLLUP_RETENTION_S = {"1m": 7 * 86400, "1h": 90 * 86400, "1d": 730 * 86400}


def _token(model: CheckDeclaration, current: str | None) -> str | None:
    """A heartbeat's ping token: the one given, else the one it has, else a new one."""
    if model.check_kind != CheckKind.HEARTBEAT:
        return None
    return model.declared_token or current or secrets.token_urlsafe(18)


def _audit(
    at: datetime,
    actor: str,
    verb: str,
    before: Check | None,
    after: Check | None,
    request_id: str | None = None,
) -> AuditEntry:
    subject = after or before
    assert subject is not None
    return AuditEntry.of(
        at=at,
        actor=actor,
        action=f"check.{verb}",
        object_type="check",
        object_id=subject.id,
        tenant_id=subject.tenant_id,
        before=audit_snapshot(before) if before else None,
        after=audit_snapshot(after) if after else None,
        request_id=request_id,
    )


@dataclass(frozen=True)
class CheckSyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)  # no longer declared; history kept
    restored: list[str] = field(default_factory=list)  # declared again after being archived


@dataclass(frozen=True)
class RecordOutcome:
    states: dict[str, CheckState]
    changes: list[StateChangeRecord]


class CheckService(CheckQueries):
    """Checks' use cases: reading (CheckQueries), writing (API and config) and runs.

    `targets` is the SSRF guard a check made through the API passes when it is created
    or replaced (each run checks again; see adapters/probes)."""

    def __init__(self, ctx: ServiceContext, targets: TargetGuard | None = None) -> None:
        super().__init__(ctx)
        self._targets = targets

    # -- writing ---------------------------------------------------------------------------

    async def create(
        self, who: Principal, model: CheckDeclaration, *, request_id: str | None = None
    ) -> Check:
        require(who, Scope.WRITE)
        refuse_config_only(model)
        now = self._ctx.clock()
        check_id = api_check_id(model)
        await refuse_target(model, self._targets)
        check = check_from_model(
            model, check_id=check_id, managed_by="api", now=now, token=_token(model, None)
        )
        async with self._ctx.uow() as uow:
            await self._tenant_visible(uow, who, model.tenant)
            # in the tenant's namespace, so a taken id is one of the tenant's own checks
            if (taken := await uow.checks.get(check_id)) is not None:
                held = " by an archived check" if taken.archived_at else ""
                raise Conflict(f"check id {check_id!r} is taken{held}; choose another id")
            await uow.checks.insert(check)
            await uow.audit.append(_audit(now, who.actor, "create", None, check, request_id))
        return check

    async def replace(
        self,
        who: Principal,
        check_id: str,
        model: CheckDeclaration,
        *,
        request_id: str | None = None,
    ) -> Check:
        require(who, Scope.WRITE)
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            before = await self._visible(uow, who, check_id)
            self._refuse_config_managed(before)
            refuse_config_only(model, before.token)
            if model.id is not None and model.id != check_id:
                raise Invalid("the id in the body differs from the one in the path", field="id")
            if model.tenant != before.tenant_id:
                raise Invalid("a check cannot move to another tenant; create a new one", "tenant")
            await refuse_target(model, self._targets)
            after = check_from_model(
                model,
                check_id=check_id,
                managed_by="api",
                now=now,
                token=_token(model, before.token),
            )
            after = replace(after, created_at=before.created_at)
            await uow.checks.update(after)
            await uow.audit.append(_audit(now, who.actor, "update", before, after, request_id))
        return after

    async def delete(self, who: Principal, check_id: str, *, request_id: str | None = None) -> None:
        require(who, Scope.WRITE)
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            before = await self._visible(uow, who, check_id)
            if before.archived_at is None:  # an archived check's history may be dropped
                self._refuse_config_managed(before)
            await uow.checks.delete(check_id)
            await uow.audit.append(_audit(now, who.actor, "delete", before, None, request_id))

    @staticmethod
    def _refuse_config_managed(check: Check) -> None:
        if check.archived_at is not None:
            raise Conflict(
                f"check {check.id!r} is archived (the config file no longer declares it); "
                "declare it in the config file again to bring it back, or delete it"
            )
        if check.managed_by == "config":
            raise Conflict(f"check {check.id!r} is declared in the config file; change it there")

    async def sync_from_config(self, declared: Sequence[CheckDeclaration]) -> CheckSyncReport:
        """Make the stored config checks match the file: add, change, restore and archive.

        A check the file no longer declares is archived, not deleted: it stops running and
        leaves the lists, and its results, events and rollups stay (until retention prunes
        them). Declaring the same id again restores it with that history."""
        report = CheckSyncReport()
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            existing = {c.id: c for c in await uow.checks.all(with_archived=True)}
            wanted: set[str] = set()
            for model in declared:
                assert model.id is not None  # the config loader demands ids
                wanted.add(model.id)
                current = existing.get(model.id)
                target = check_from_model(
                    model,
                    check_id=model.id,
                    managed_by="config",
                    now=now,
                    token=_token(model, current.token if current else None),
                )
                if current is None:
                    await uow.checks.insert(target)
                    report.created.append(target.id)
                    verb = "create"
                elif (
                    current.managed_by == "config"
                    and current.archived_at is None
                    and definition(current) == definition(target)
                ):
                    continue
                elif current.tenant_id != target.tenant_id:
                    raise Conflict(
                        f"check {target.id!r} belongs to tenant {current.tenant_id!r}; "
                        "give the config's check another id"
                    )
                else:
                    target = replace(target, created_at=current.created_at)
                    await uow.checks.update(target)
                    restored = current.archived_at is not None
                    (report.restored if restored else report.updated).append(target.id)
                    verb = "restore" if restored else "update"
                await uow.audit.append(_audit(now, CONFIG_ACTOR, verb, current, target))
            for check in existing.values():
                gone = check.managed_by == "config" and check.id not in wanted
                if gone and check.archived_at is None:
                    archived = replace(check, archived_at=now, updated_at=now)
                    await uow.checks.update(archived)
                    report.archived.append(check.id)
                    await uow.audit.append(_audit(now, CONFIG_ACTOR, "archive", check, archived))
        return report

    # -- runs --------------------------------------------------------------------------------

    async def record(
        self, runs: Sequence[CheckRun], known: Mapping[str, Check] | None = None
    ) -> RecordOutcome:
        """Store runs, move each check's state, record the state changes, update rollups.

        `known` are the checks as the caller (the scheduler) has them; checks not in it are
        read from the database. A run of a check deleted meanwhile is dropped."""
        if not runs:
            return RecordOutcome({}, [])
        async with self._ctx.uow() as uow:
            ids = list({r.check_id for r in runs})
            checks = {i: known[i] for i in ids if known is not None and i in known}
            missing = [i for i in ids if i not in checks]
            if missing:
                checks.update((c.id, c) for c in await uow.checks.many(missing))
            states = await uow.checks.states(ids)
            kept = [r for r in runs if r.check_id in checks]  # deleted meanwhile: dropped
            changes: list[StateChangeRecord] = []
            details: dict[str, dict[str, Any]] = {}
            stored: list[CheckRun] = []
            for run in sorted(kept, key=lambda r: r.at):
                check = checks[run.check_id]
                state = states.get(run.check_id, CheckState(run.check_id))
                state, change = advance(
                    check,
                    state,
                    ok=run.ok,
                    error=run.error,
                    duration_s=run.duration_s,
                    now=run.at,
                )
                states[run.check_id] = state
                details[run.check_id] = dict(run.details)
                stored.append(replace(run, state=state.status))
                if change is not None:
                    changes.append(change)
            await uow.checks.add_runs(stored)
            await uow.checks.save_states([(states[cid], d) for cid, d in details.items()])
            await uow.checks.add_changes(changes)
            await uow.checks.add_rollups(rollup_deltas(stored))
        return RecordOutcome({cid: states[cid] for cid in details}, changes)

    async def runs_after(self, after_id: int, limit: int = 5000) -> Sequence[tuple[int, CheckRun]]:
        """Stored results after a result id, oldest first (for writing them as samples)."""
        async with self._ctx.uow() as uow:
            return await uow.checks.runs_after(after_id, limit)

    async def last_run_id(self) -> int:
        async with self._ctx.uow() as uow:
            return await uow.checks.last_run_id()

    async def claim(self, worker: str, wanted: Sequence[tuple[str, int]]) -> set[str]:
        async with self._ctx.uow() as uow:
            return await uow.checks.claim_slots(worker, wanted)

    async def enabled_checks(
        self,
    ) -> tuple[tuple[object, ...], Sequence[Check], dict[str, str]]:
        """Every enabled check of an active tenant, with each tenant's tier, and a version."""
        async with self._ctx.uow() as uow:
            version = await uow.checks.version()
            checks = [c for c in await uow.checks.all() if c.enabled]
            tiers = await active_tiers(uow, None)
        return version, [c for c in checks if c.tenant_id in tiers], tiers

    async def checks_version(self) -> tuple[object, ...]:
        async with self._ctx.uow() as uow:
            return await uow.checks.version()

    async def tenant_checks(self, who: Principal, tenant_id: str) -> Sequence[Check]:
        async with self._ctx.uow() as uow:
            await self._tenant_visible(uow, who, tenant_id)
            return [c for c in await uow.checks.all(tenant_id=tenant_id) if c.enabled]

    async def critical_ids(self, tenant_id: str | None = None) -> dict[str, set[str]]:
        """The ids of the checks marked critical, by tenant (every tenant's when None)."""
        async with self._ctx.uow() as uow:
            checks = await uow.checks.all(tenant_id=tenant_id)
        out: dict[str, set[str]] = {}
        for c in checks:
            if c.critical and c.tenant_id is not None:
                out.setdefault(c.tenant_id, set()).add(c.id)
        return out

    async def heartbeat_states(self, check_ids: Sequence[str]) -> dict[str, HeartbeatState]:
        async with self._ctx.uow() as uow:
            return await uow.checks.heartbeat_states(check_ids)

    async def by_token(self, token: str) -> Check | None:
        async with self._ctx.uow() as uow:
            check = await uow.checks.by_token(token)
        return check if check is not None and check.kind is CheckKind.HEARTBEAT else None

    async def save_pings(
        self,
        pings: Sequence[tuple[Check, datetime, PingKind, int | None, str | None]],
    ) -> dict[str, HeartbeatState]:
        """Apply pings in order to their checks' heartbeat state and store both."""
        if not pings:
            return {}
        async with self._ctx.uow() as uow:
            states = await uow.checks.heartbeat_states(list({p[0].id for p in pings}))
            for check, at, kind, _status, _addr in pings:
                if check.id in states:
                    states[check.id] = apply_ping(states[check.id], kind, at)
            kept = [p for p in pings if p[0].id in states]
            await uow.checks.save_heartbeats(
                states,
                [(c.id, c.tenant_id, at, kind, st, addr) for c, at, kind, st, addr in kept],
            )
        return states

    async def prune(self, results_retention_s: float | None = None) -> int:
        """Delete raw results past each tenant tier's retention and rollups past theirs."""
        now = self._ctx.clock()
        removed = 0
        async with self._ctx.uow() as uow:
            for tenant in await all_tenants(uow, None):
                tier = self._ctx.tiers.get(tenant.tier)
                keep = results_retention_s or (tier.retention_seconds if tier else 15 * 86400)
                removed += await uow.checks.prune(
                    tenant.id,
                    results_before=now - timedelta(seconds=keep),
                    rollups_before={
                        r: now - timedelta(seconds=s) for r, s in ROLLUP_RETENTION_S.items()
                    },
                )
        return removed
