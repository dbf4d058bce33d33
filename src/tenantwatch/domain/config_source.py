"""Which config file a database is served from, and when a sync from another must refuse.

Only `tenantwatch serve` and `tenantwatch config apply FILE` sync tenantwatch.yml into the
database. The server records the file it synced (its path and a digest of its text); a
later sync from a different file, or from none, would archive every declared check and
release every declared tenant, so it is refused with one line that says what to run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CONFIG_SOURCE_KEY = "config_source"


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """A config file as a sync sees it: its absolute path and the SHA-256 of its text.
    Both are None when tenantwatch runs without a config file."""

    path: str | None = None
    sha256: str | None = None
    recorded_at: datetime | None = None

    def as_record(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256}

    @classmethod
    def from_record(cls, value: Mapping[str, Any], at: datetime | None = None) -> ConfigSource:
        return cls(path=value.get("path"), sha256=value.get("sha256"), recorded_at=at)

    @property
    def shown(self) -> str:
        return self.path or "no config file"


def source_refusal(recorded: ConfigSource | None, given: ConfigSource) -> str | None:
    """Return why syncing `given` into a database served from `recorded` must not go ahead
    without --force, or None when it may.

    The same path may change its text (that is editing the config); the same text may
    move to another path (another machine of the same deployment). A database that
    never recorded a file takes any."""
    if recorded is None or recorded.path is None:
        return None
    if given.path == recorded.path:
        return None
    if given.sha256 is not None and given.sha256 == recorded.sha256:
        return None
    if given.path is None:
        return (
            f"this database is served from {recorded.path}, and no config file was given; "
            f"pass --config {recorded.path} (or set TENANTWATCH_CONFIG), or switch files "
            "with `tenantwatch config apply FILE`"
        )
    return (
        f"this database is served from {recorded.path}, not {given.path}; pass --config "
        f"{recorded.path}, or switch files with `tenantwatch config apply {given.path}`"
    )


def wipe_refusal(
    config_tenants: Collection[str],
    declared_tenants: Collection[str],
    config_checks: Collection[str],
    declared_checks: Collection[str],
) -> str | None:
    """Return why a sync that would archive every config check and release every config
    tenant at once must ask for --force, or None.

    `config_*` are the ids the database holds as declared by the config file (archived
    checks left out); `declared_*` the ids the file to sync declares."""
    if not config_tenants and not config_checks:
        return None
    if set(config_tenants) & set(declared_tenants) or set(config_checks) & set(declared_checks):
        return None
    return (
        f"this sync would archive all {len(config_checks)} checks and release all "
        f"{len(config_tenants)} tenants the config file declared; if that is what you want, "
        "run it again with --force"
    )
