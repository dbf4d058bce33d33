"""Audit log entries: who changed what, when, with the object before and after."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SECRET_FIELDS = frozenset({"key", "key_hash", "password", "secret", "token"})


def scrub(snapshot: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Return the snapshot without fields that could hold a secret."""
    if snapshot is None:
        return None
    return {k: v for k, v in snapshot.items() if k not in SECRET_FIELDS}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    tenant_id: str | None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    request_id: str | None = None
    note: str | None = None
    id: int | None = None

    @classmethod
    def of(
        cls,
        *,
        at: datetime,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        tenant_id: str | None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> AuditEntry:
        return cls(
            at=at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            tenant_id=tenant_id,
            before=scrub(before),
            after=scrub(after),
            request_id=request_id,
        )
