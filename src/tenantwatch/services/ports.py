"""Ports: what services and workers need from storage and probes; adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from tenantwatch.domain.apikeys import ApiKey
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.checks import (
    Check,
    CheckRun,
    CheckState,
    RollupDelta,
    RollupRow,
    StateChangeRecord,
)
from tenantwatch.domain.heartbeat import HeartbeatState, PingKind
from tenantwatch.domain.outbox import Claimed
from tenantwatch.domain.tenants import Tenant


class TenantRepo(Protocol):
    async def get(self, tenant_id: str) -> Tenant | None: ...

    async def list(
        self,
        *,
        after: str | None,
        limit: int,
        only: str | None = None,
        tier: str | None = None,
        status: str | None = None,
    ) -> Sequence[Tenant]: ...

    async def all_ids(self) -> set[str]: ...

    async def counts(self) -> Sequence[tuple[str, str, int]]:
        """Return (tier, status, count) for every tier and status in use."""
        ...

    async def insert(self, tenant: Tenant) -> None: ...

    async def update(self, tenant: Tenant, *, if_updated_at: datetime | None = None) -> bool:
        """Store the tenant; return False when no row matched (gone, or changed since)."""
        ...

    async def delete(self, tenant_id: str) -> bool: ...


class ApiKeyRepo(Protocol):
    async def get(self, key_id: str) -> ApiKey | None: ...

    async def by_hash(self, key_hash: str) -> ApiKey | None: ...

    async def list(
        self, *, after: str | None, limit: int, tenant_id: str | None, include_revoked: bool
    ) -> Sequence[ApiKey]: ...

    async def insert(self, key: ApiKey, key_hash: str) -> None: ...

    async def revoke(self, key_id: str, at: datetime) -> bool:
        """Revoke an active key; return False when it was not active (any more)."""
        ...

    async def touch(self, key_id: str, at: datetime) -> None: ...

    async def count_active_admin(self) -> int: ...


class AuditRepo(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...

    async def list(
        self,
        *,
        before_id: int | None,
        limit: int,
        tenant_id: str | None,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
    ) -> Sequence[AuditEntry]: ...


class CheckRepo(Protocol):
    async def get(self, check_id: str) -> Check | None: ...
    async def many(self, check_ids: Sequence[str]) -> Sequence[Check]: ...
    async def by_token(self, token: str) -> Check | None: ...
    async def list(
        self,
        *,
        after: str | None,
        limit: int,
        tenant_id: str | None = None,
        kind: str | None = None,
        archived: bool = False,
    ) -> Sequence[Check]: ...
    async def all(
        self, *, tenant_id: str | None = None, with_archived: bool = False
    ) -> Sequence[Check]: ...
    async def version(self) -> tuple[object, ...]: ...
    async def insert(self, check: Check) -> None: ...
    async def update(self, check: Check) -> bool: ...
    async def delete(self, check_id: str) -> bool: ...
    async def delete_tenant_data(self, tenant_id: str) -> None: ...
    async def states(self, check_ids: Iterable[str] | None = None) -> dict[str, CheckState]: ...
    async def tenant_states(
        self, tenant_id: str | None
    ) -> Sequence[tuple[Check, CheckState, Mapping[str, Any]]]: ...
    async def save_states(self, states: Sequence[tuple[CheckState, Mapping[str, Any]]]) -> None: ...
    async def claim_slots(self, worker: str, wanted: Sequence[tuple[str, int]]) -> set[str]: ...
    async def add_runs(self, runs: Sequence[CheckRun]) -> None: ...
    async def runs_after(self, after_id: int, limit: int) -> Sequence[tuple[int, CheckRun]]: ...
    async def last_run_id(self) -> int: ...
    async def add_changes(self, changes: Sequence[StateChangeRecord]) -> None: ...
    async def runs(
        self,
        *,
        tenant_id: str | None,
        check_id: str | None = None,
        since: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> Sequence[tuple[int, CheckRun]]: ...
    async def changes(
        self,
        *,
        tenant_id: str | None,
        check_id: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> Sequence[StateChangeRecord]: ...
    async def add_rollups(self, deltas: Sequence[RollupDelta]) -> None: ...
    async def rollups(
        self, *, check_id: str, resolution: str, since: datetime, limit: int = 10_000
    ) -> Sequence[RollupRow]: ...
    async def prune(
        self,
        tenant_id: str,
        *,
        results_before: datetime,
        rollups_before: Mapping[str, datetime],
    ) -> int: ...
    async def heartbeat_states(self, check_ids: Sequence[str]) -> dict[str, HeartbeatState]: ...
    async def save_heartbeats(
        self,
        states: Mapping[str, HeartbeatState],
        pings: Sequence[tuple[str, str, datetime, PingKind, int | None, str | None]],
    ) -> None: ...


class InstanceRepo(Protocol):
    """Facts about this installation, each a small JSON object under a key."""

    async def get(self, key: str) -> dict[str, Any] | None: ...
    async def put(self, key: str, value: dict[str, Any], at: datetime) -> None: ...


class UnitOfWork(Protocol):
    """One transaction over every repository: commits on clean exit, rolls back on error."""

    @property
    def tenants(self) -> TenantRepo: ...

    @property
    def api_keys(self) -> ApiKeyRepo: ...

    @property
    def audit(self) -> AuditRepo: ...

    @property
    def checks(self) -> CheckRepo: ...

    @property
    def instance(self) -> InstanceRepo: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class CheckExecutor(Protocol):
    """Runs a check's probe and judges it (adapters/probes/executor.py); `clock` is the time
    its runs are stamped with."""

    clock: Callable[[], datetime]

    async def run(self, check: Check) -> CheckRun: ...

    async def close(self) -> None: ...


class OutboxRepo(Protocol):
    """The durable notification outbox the delivery worker claims from and records to."""

    async def enqueue_many(self, rows: Sequence[Mapping[str, Any]]) -> set[str]: ...

    async def claim(self, now: float, lease_s: float, limit: int) -> list[Claimed]: ...

    async def record_many(
        self, outcomes: Sequence[tuple[Claimed, Mapping[str, Any]]]
    ) -> list[bool]: ...

    async def release(self, claim: Claimed, at: float) -> bool: ...

    async def prune_sent(self, before: float, batch: int = 1000) -> int: ...

    async def next_due(self) -> float | None: ...
