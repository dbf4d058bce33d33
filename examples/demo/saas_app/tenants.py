"""The tenants the app serves: read from tenantwatch.yml or given as ID[:TIER] arguments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

BASE_TIERS = ("basic", "professional", "enterprise")
_TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class ConfigError(ValueError):
    """The tenant configuration cannot be used; the message says where and how to fix it."""


@dataclass(frozen=True)
class TenantSpec:
    id: str
    tier: str
    base: str
    timezone: str = "UTC"
    suspended: bool = False


def _check_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not _TENANT_ID.match(value):
        raise ConfigError(
            f"{where}: tenant id {value!r} must be 1-63 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, e.g. 'acme-corp'"
        )
    return value


def _check_timezone(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: timezone must be a text such as 'Europe/Berlin'")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: unknown timezone {value!r}; use an IANA name such as 'Europe/Berlin'"
        ) from None
    return value


def _tier_bases(tiers: object, where: str) -> dict[str, str]:
    """Return each known tier name's base tier (built-in tiers are their own base)."""
    bases = {name: name for name in BASE_TIERS}
    if tiers is None:
        return bases
    if not isinstance(tiers, dict):
        raise ConfigError(f"{where}: 'tiers' must be a mapping of tier name to settings")
    for name, body in tiers.items():
        base = body.get("base", name) if isinstance(body, dict) else name
        if base not in BASE_TIERS:
            raise ConfigError(
                f"{where}: tier {name!r} needs 'base:' set to one of {', '.join(BASE_TIERS)}"
            )
        bases[str(name)] = base
    return bases


def _tenant_lines(text: str) -> list[int]:
    """Return the 1-based line of each entry under 'tenants:' (empty when there is none)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "tenants" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_config(text: str, source: str = "tenantwatch.yml") -> tuple[TenantSpec, ...]:
    """Return the tenants of a tenantwatch.yml text.

    Raise ConfigError naming the file, line and field when the text is not usable.
    """
    try:
        data: Any = yaml.safe_load(text)
        lines = _tenant_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}{line}: not valid YAML: {problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("tenants"), list):
        raise ConfigError(f"{source}: needs a 'tenants:' list, e.g. 'tenants: [{{id: acme}}]'")
    bases = _tier_bases(data.get("tiers"), source)
    tenants: list[TenantSpec] = []
    for i, entry in enumerate(data["tenants"]):
        where = f"{source}:{lines[i]}" if i < len(lines) else source
        where += f": tenants[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: each tenant must be a mapping with at least 'id:'")
        tenant_id = _check_id(entry.get("id"), where)
        tier = entry.get("tier", "basic")
        if tier not in bases:
            raise ConfigError(
                f"{where} ({tenant_id}): unknown tier {tier!r}; use one of "
                f"{', '.join(sorted(bases))} or declare it under 'tiers:'"
            )
        tenants.append(
            TenantSpec(
                id=tenant_id,
                tier=tier,
                base=bases[tier],
                timezone=_check_timezone(entry.get("timezone", "UTC"), f"{where} ({tenant_id})"),
                suspended=entry.get("status") == "suspended",
            )
        )
    return _unique(tenants, source)


def load_config(path: Path) -> tuple[TenantSpec, ...]:
    """Return the tenants of the tenantwatch.yml at path; raise ConfigError if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc}") from None
    return parse_config(text, str(path))


def parse_tenant_args(values: Iterable[str]) -> tuple[TenantSpec, ...]:
    """Return tenants from ID[:TIER] arguments (TIER one of the built-in tiers; basic if left out)."""
    tenants: list[TenantSpec] = []
    for value in values:
        tenant_id, _, tier = value.partition(":")
        where = f"--tenant {value!r}"
        _check_id(tenant_id, where)
        tier = tier or "basic"
        if tier not in BASE_TIERS:
            raise ConfigError(f"{where}: unknown tier {tier!r}; use one of {', '.join(BASE_TIERS)}")
        tenants.append(TenantSpec(id=tenant_id, tier=tier, base=tier))
    return _unique(tenants, "--tenant")


def _unique(tenants: list[TenantSpec], source: str) -> tuple[TenantSpec, ...]:
    seen: set[str] = set()
    for tenant in tenants:
        if tenant.id in seen:
            raise ConfigError(f"{source}: tenant {tenant.id!r} is listed twice; ids must be unique")
        seen.add(tenant.id)
    if not tenants:
        raise ConfigError(f"{source}: no tenants; list at least one")
    return tuple(tenants)
