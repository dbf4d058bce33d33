"""One mapping of a check's fields: declaration, stored values, API values, audit snapshot.

A check's stored values are keyed by its own field names, which are the columns of the
`checks` table; the API renames the durations (`interval_s` → `interval_seconds`), hides
secrets in the settings and shows a heartbeat's token only inside its ping URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, Protocol

from tenantwatch.domain.checks import Check, CheckKind, public_settings

# the stored fields of a check, in the order of the `checks` table's columns
CHECK_FIELDS = tuple(f.name for f in fields(Check) if f.init)
# the names the API gives to fields that differ from the stored ones
API_NAMES = {
    "interval_s": "interval_seconds",
    "timeout_s": "timeout_seconds",
    "jitter_s": "jitter_seconds",
}
# what is not part of a check's definition: who manages it and when it changed
_BOOKKEEPING = frozenset({"id", "managed_by", "created_at", "updated_at", "archived_at"})
_AUDITED = (
    "id",
    "tenant_id",
    "name",
    "kind",
    "settings",
    "conditions",
    "interval_s",
    "timeout_s",
    "enabled",
    "archived_at",
)

# what `tenantwatch checks list -o json` prints of a check, in its order
_CLI = (
    "id",
    "tenant_id",
    "name",
    "kind",
    "settings",
    "conditions",
    "interval_s",
    "timeout_s",
    "critical",
    "enabled",
    "labels",
    "managed_by",
)


class CheckDeclaration(Protocol):
    """A check as declared under `checks:` in tenantwatch.yml or in an API body
    (config/checks_model.py's models)."""

    @property
    def id(self) -> str | None: ...
    @property
    def tenant(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def interval(self) -> float | None: ...
    @property
    def timeout(self) -> float: ...
    @property
    def jitter(self) -> float | None: ...
    @property
    def failure_threshold(self) -> int: ...
    @property
    def success_threshold(self) -> int: ...
    @property
    def conditions(self) -> Sequence[str]: ...
    @property
    def critical(self) -> bool: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def check_kind(self) -> str: ...
    @property
    def declared_token(self) -> str | None:
        """A heartbeat's ping token as given; None when not given (or not a heartbeat)."""
        ...

    def settings(self) -> dict[str, Any]: ...


def check_from_model(
    model: CheckDeclaration,
    *,
    check_id: str,
    managed_by: str,
    now: datetime,
    token: str | None,
) -> Check:
    """The check a declaration makes; `token` is kept for heartbeats only."""
    kind = CheckKind(model.check_kind)
    return Check(
        id=check_id,
        tenant_id=model.tenant,
        name=model.name or check_id,
        kind=kind,
        settings=model.settings(),
        conditions=tuple(model.conditions),
        interval_s=model.interval,
        timeout_s=model.timeout,
        jitter_s=model.jitter,
        failure_threshold=model.failure_threshold,
        success_threshold=model.success_threshold,
        critical=model.critical,
        enabled=model.enabled,
        labels=dict(model.labels),
        token=token if kind is CheckKind.HEARTBEAT else None,
        managed_by=managed_by,
        created_at=now,
        updated_at=now,
    )


def check_values(c: Check) -> dict[str, Any]:
    """Every stored field of a check as plain values (JSON-ready but for the datetimes)."""
    out = {name: getattr(c, name) for name in CHECK_FIELDS}
    out["kind"] = str(c.kind)
    out["settings"] = dict(c.settings)
    out["conditions"] = list(c.conditions)
    out["labels"] = dict(c.labels)
    return out


def check_from_values(values: Mapping[str, Any]) -> Check:
    """The check stored as `values` (check_values' keys; a table row's mapping will do)."""
    out = {name: values[name] for name in CHECK_FIELDS}
    out["kind"] = CheckKind(values["kind"])
    out["settings"] = dict(values["settings"])
    out["conditions"] = tuple(values["conditions"])
    out["labels"] = dict(values["labels"])
    out["critical"] = bool(values["critical"])
    out["enabled"] = bool(values["enabled"])
    return Check(**out)


def public_values(c: Check) -> dict[str, Any]:
    """A check's fields as the API shows them: secrets hidden, no token, API names."""
    out = check_values(c)
    out["settings"] = public_settings(c.settings)
    del out["token"]
    return {API_NAMES.get(k, k): v for k, v in out.items()}


def definition(c: Check) -> tuple[Any, ...]:
    """What a check does, without who manages it and when it changed: equal definitions
    need no update."""
    return tuple(v for k, v in check_values(c).items() if k not in _BOOKKEEPING)


def audit_snapshot(c: Check) -> dict[str, Any]:
    """A check as its audit entries record it, secrets hidden."""
    values = check_values(c)
    values["settings"] = public_settings(c.settings)
    values["archived_at"] = c.archived_at.isoformat() if c.archived_at else None
    return {k: values[k] for k in _AUDITED}


def cli_values(c: Check) -> dict[str, Any]:
    """A check as the CLI's JSON output shows it: secrets hidden, no token."""
    values = check_values(c)
    values["settings"] = public_settings(c.settings)
    return {k: values[k] for k in _CLI}
