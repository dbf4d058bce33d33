"""Rule groups through the API: a tenant's own alerting and recording rules.

A group is validated exactly as a rule file is (promtool's rules), stored as YAML, and
evaluated by the rule manager with its queries bound to its tenant (`tenant="<id>"` is
forced on every selector) and its alerts labelled with the tenant.
"""

from __future__ import annotations

import builtins
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import yaml

from tenantwatch.config.errors import ConfigError
from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.pagination import Page, page_from
from tenantwatch.rules.files import RuleGroup, parse_rule_file
from tenantwatch.services.access import cursor_key, require
from tenantwatch.services.audit import Audit
from tenantwatch.services.errors import Forbidden, Invalid, NotFound

Changed = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StoredRuleGroup:
    id: str
    tenant_id: str | None
    name: str
    source: str  # the group as Prometheus rule-file YAML
    created_at: datetime
    updated_at: datetime


class RuleGroupRepo(Protocol):
    async def all(self) -> builtins.list[StoredRuleGroup]: ...

    async def list(
        self, *, after: str | None, limit: int, tenant_id: str | None
    ) -> Sequence[StoredRuleGroup]: ...

    async def get(self, group_id: str) -> StoredRuleGroup | None: ...

    async def insert(self, group: StoredRuleGroup) -> None: ...

    async def update(self, group: StoredRuleGroup) -> bool: ...

    async def delete(self, group_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class RuleGroupView:
    stored: StoredRuleGroup
    group: RuleGroup


def parse_group(source: str, where: str) -> RuleGroup:
    """The one group in a rule-file YAML text; raise Invalid listing every problem."""
    try:
        parsed = parse_rule_file(source, where)
    except ConfigError as exc:
        raise Invalid(
            "; ".join(f"line {i.line}: {i.message}" for i in exc.issues), field="group"
        ) from None
    if len(parsed.groups) != 1:
        raise Invalid("send exactly one group", field="group")
    return parsed.groups[0]


def group_source(group: Mapping[str, Any]) -> str:
    return yaml.safe_dump({"groups": [dict(group)]}, sort_keys=False, allow_unicode=True)


def _audit(
    actor: str,
    verb: str,
    before: StoredRuleGroup | None,
    after: StoredRuleGroup | None,
    request_id: str | None,
) -> AuditEntry:
    subject = after or before
    assert subject is not None

    def snapshot(g: StoredRuleGroup | None) -> dict[str, Any] | None:
        return None if g is None else {"id": g.id, "name": g.name, "source": g.source}

    return AuditEntry.of(
        at=datetime.now(UTC),
        actor=actor,
        action=f"rule_group.{verb}",
        object_type="rule_group",
        object_id=subject.id,
        tenant_id=subject.tenant_id,
        before=snapshot(before),
        after=snapshot(after),
        request_id=request_id,
    )


class RuleGroupService:
    def __init__(
        self, repo: RuleGroupRepo, changed: Changed | None = None, audit: Audit | None = None
    ) -> None:
        self.repo = repo
        self.changed = changed
        self.audit = audit

    def _visible(self, who: Principal, stored: StoredRuleGroup | None) -> StoredRuleGroup:
        if stored is None or (who.tenant_id is not None and stored.tenant_id != who.tenant_id):
            raise NotFound("no such rule group")
        return stored

    def _tenant(self, who: Principal, tenant_id: str | None) -> str | None:
        if who.tenant_id is not None:
            if tenant_id not in (None, who.tenant_id):
                raise NotFound(f"no tenant {tenant_id!r}")
            return who.tenant_id
        if tenant_id is None:
            require(who, Scope.ADMIN)  # a group over every tenant's series
        return tenant_id

    async def list(
        self, who: Principal, *, cursor: str | None, limit: int, tenant_id: str | None
    ) -> Page[RuleGroupView]:
        require(who, Scope.READ)
        if who.tenant_id is not None:
            if tenant_id not in (None, who.tenant_id):
                return Page([], None)
            tenant_id = who.tenant_id
        after = cursor_key(cursor)
        rows = await self.repo.list(
            after=str(after) if after is not None else None, limit=limit + 1, tenant_id=tenant_id
        )
        views = [RuleGroupView(r, parse_group(r.source, r.id)) for r in rows]
        return page_from(views, limit, lambda v: v.stored.id)

    async def get(self, who: Principal, group_id: str) -> RuleGroupView:
        require(who, Scope.READ)
        stored = self._visible(who, await self.repo.get(group_id))
        return RuleGroupView(stored, parse_group(stored.source, stored.id))

    async def create(
        self,
        who: Principal,
        tenant_id: str | None,
        group: Mapping[str, Any],
        *,
        request_id: str | None = None,
    ) -> RuleGroupView:
        require(who, Scope.WRITE)
        tenant = self._tenant(who, tenant_id)
        source = group_source(group)
        parsed = parse_group(source, "group")
        now = datetime.now(UTC)
        slug = re.sub(r"[^a-z0-9]+", "-", parsed.name.lower()).strip("-")[:60] or "group"
        stored = StoredRuleGroup(
            id=f"{slug}-{secrets.token_hex(4)}",
            tenant_id=tenant,
            name=parsed.name,
            source=source,
            created_at=now,
            updated_at=now,
        )
        await self.repo.insert(stored)
        await self._record(_audit(who.actor, "create", None, stored, request_id))
        await self._changed()
        return RuleGroupView(stored, parse_group(source, stored.id))

    async def replace(
        self,
        who: Principal,
        group_id: str,
        group: Mapping[str, Any],
        *,
        request_id: str | None = None,
    ) -> RuleGroupView:
        require(who, Scope.WRITE)
        stored = self._visible(who, await self.repo.get(group_id))
        if stored.tenant_id is None and who.tenant_id is not None:
            raise Forbidden("a shared rule group needs an admin key")
        source = group_source(group)
        parsed = parse_group(source, group_id)
        fresh = replace(stored, name=parsed.name, source=source, updated_at=datetime.now(UTC))
        if not await self.repo.update(fresh):
            raise NotFound("no such rule group")
        await self._record(_audit(who.actor, "update", stored, fresh, request_id))
        await self._changed()
        return RuleGroupView(fresh, parsed)

    async def delete(self, who: Principal, group_id: str, *, request_id: str | None = None) -> None:
        require(who, Scope.WRITE)
        stored = self._visible(who, await self.repo.get(group_id))
        if not await self.repo.delete(group_id):
            raise NotFound("no such rule group")
        await self._record(_audit(who.actor, "delete", stored, None, request_id))
        await self._changed()

    async def _record(self, entry: AuditEntry) -> None:
        if self.audit is not None:
            await self.audit(entry)

    async def all_groups(self) -> builtins.list[tuple[RuleGroup, str | None]]:
        """Every stored group (for the rule manager); broken ones are skipped."""
        out: builtins.list[tuple[RuleGroup, str | None]] = []
        for stored in await self.repo.all():
            try:
                out.append((parse_group(stored.source, f"api:{stored.id}"), stored.tenant_id))
            except Invalid:
                continue
        return out

    async def _changed(self) -> None:
        if self.changed is not None:
            await self.changed()
