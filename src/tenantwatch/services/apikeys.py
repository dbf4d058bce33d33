"""API key use cases: issue (secret shown once), list, revoke, authenticate, bootstrap."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenantwatch.domain.apikeys import (
    ApiKey,
    Principal,
    Scope,
    display_prefix,
    effective_scopes,
    format_key,
    hash_key,
)
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.pagination import Page, page_from
from tenantwatch.domain.text import storable, text_problem
from tenantwatch.services.access import cursor_key, require
from tenantwatch.services.context import ServiceContext
from tenantwatch.services.errors import Forbidden, Invalid, NotFound
from tenantwatch.services.ports import UnitOfWork

TOUCH_EVERY = timedelta(minutes=1)
BOOTSTRAP_NAME = "bootstrap admin"


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


def needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    """Return True when last_used_at is stale enough to be worth a write."""
    return last_used_at is None or now - last_used_at >= TOUCH_EVERY


def principal_for(key: ApiKey) -> Principal:
    return Principal(
        actor=f"apikey:{key.id}",
        scopes=effective_scopes(key.scopes),
        tenant_id=key.tenant_id,
        key_id=key.id,
    )


class ApiKeyService:
    def __init__(
        self, ctx: ServiceContext, random_bytes: Callable[[int], bytes] = secrets.token_bytes
    ) -> None:
        self._ctx = ctx
        self._random = random_bytes

    async def issue(
        self,
        who: Principal,
        *,
        name: str,
        scopes: Sequence[Scope],
        tenant_id: str | None = None,
        request_id: str | None = None,
    ) -> IssuedKey:
        require(who, Scope.ADMIN)
        if not scopes:
            raise Invalid("give at least one scope", field="scopes")
        if problem := text_problem(name, what="name", max_length=200):
            raise Invalid(problem, field="name")
        if who.tenant_id is not None:
            if tenant_id is not None and tenant_id != who.tenant_id:
                raise NotFound(f"tenant {tenant_id!r} not found")
            tenant_id = who.tenant_id
        now = self._ctx.clock()
        secret = format_key(self._random(32))
        key = ApiKey(
            id="k_" + self._random(8).hex(),
            name=name,
            prefix=display_prefix(secret),
            scopes=tuple(sorted(set(scopes))),
            tenant_id=tenant_id,
            created_at=now,
            created_by=who.actor,
        )
        async with self._ctx.uow() as uow:
            if tenant_id is not None and await uow.tenants.get(tenant_id) is None:
                raise NotFound(f"tenant {tenant_id!r} not found")
            await uow.api_keys.insert(key, hash_key(secret))
            await uow.audit.append(
                AuditEntry.of(
                    at=now,
                    actor=who.actor,
                    action="apikey.create",
                    object_type="apikey",
                    object_id=key.id,
                    tenant_id=tenant_id,
                    after=key.snapshot(),
                    request_id=request_id,
                )
            )
        return IssuedKey(key, secret)

    async def list(
        self,
        who: Principal,
        *,
        cursor: str | None = None,
        limit: int = 50,
        include_revoked: bool = False,
    ) -> Page[ApiKey]:
        require(who, Scope.ADMIN)
        key = cursor_key(cursor)
        after = None if key is None else str(key)
        async with self._ctx.uow() as uow:
            rows = await uow.api_keys.list(
                after=after,
                limit=limit + 1,
                tenant_id=who.tenant_id,
                include_revoked=include_revoked,
            )
        return page_from(rows, limit, lambda k: k.id)

    async def get(self, who: Principal, key_id: str) -> ApiKey:
        require(who, Scope.ADMIN)
        async with self._ctx.uow() as uow:
            return await _visible_key(uow, who, key_id)

    async def revoke(self, who: Principal, key_id: str, *, request_id: str | None = None) -> ApiKey:
        require(who, Scope.ADMIN)
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            key = await _visible_key(uow, who, key_id)
            if key.revoked_at is not None:
                return key
            if key.id == who.key_id:
                raise Forbidden("a key cannot revoke itself; revoke it with another admin key")
            changed = await uow.api_keys.revoke(key_id, now)
            revoked = await uow.api_keys.get(key_id)
            assert revoked is not None
            if not changed:  # a concurrent request revoked it first, and audited that
                return revoked
            await uow.audit.append(
                AuditEntry.of(
                    at=now,
                    actor=who.actor,
                    action="apikey.revoke",
                    object_type="apikey",
                    object_id=key_id,
                    tenant_id=key.tenant_id,
                    before=key.snapshot(),
                    after=revoked.snapshot(),
                    request_id=request_id,
                )
            )
        return revoked

    async def authenticate(self, secret: str) -> Principal | None:
        """Return the principal of an active key, or None for an unknown or revoked one."""
        if not secret or len(secret) > 256 or not storable(secret):
            return None
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            key = await uow.api_keys.by_hash(hash_key(secret))
            if key is None or key.revoked_at is not None:
                return None
            if needs_touch(key.last_used_at, now):
                await uow.api_keys.touch(key.id, now)
        return principal_for(key)

    async def ensure_admin(self, actor: str = "system") -> IssuedKey | None:
        """Issue a first admin key when no active unbound admin key exists; else return None."""
        async with self._ctx.uow() as uow:
            if await uow.api_keys.count_active_admin() > 0:
                return None
        system = Principal(actor=actor, scopes=effective_scopes([Scope.ADMIN]))
        return await self.issue(system, name=BOOTSTRAP_NAME, scopes=[Scope.ADMIN])


async def _visible_key(uow: UnitOfWork, who: Principal, key_id: str) -> ApiKey:
    key = await uow.api_keys.get(key_id) if storable(key_id) else None
    if key is None or not who.sees_tenant(key.tenant_id):
        raise NotFound(f"API key {key_id!r} not found")
    return key
