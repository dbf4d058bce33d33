"""API keys: scopes and what they allow, key format and hashing."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

KEY_PREFIX = "tw_"


class Scope(StrEnum):
    READ = "monitoring:read"
    WRITE = "monitoring:write"
    ADMIN = "admin"


# admin implies write implies read
_IMPLIES: dict[Scope, frozenset[Scope]] = {
    Scope.READ: frozenset({Scope.READ}),
    Scope.WRITE: frozenset({Scope.READ, Scope.WRITE}),
    Scope.ADMIN: frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN}),
}


def effective_scopes(granted: Iterable[Scope]) -> frozenset[Scope]:
    """Return every scope the granted ones imply."""
    out: set[Scope] = set()
    for scope in granted:
        out |= _IMPLIES[scope]
    return frozenset(out)


def allows(granted: Iterable[Scope], required: Scope) -> bool:
    return required in effective_scopes(granted)


def format_key(random_bytes: bytes) -> str:
    """Return the secret key text for 32 random bytes: 'tw_' and url-safe base64."""
    return KEY_PREFIX + base64.urlsafe_b64encode(random_bytes).decode().rstrip("=")


def hash_key(key: str) -> str:
    """Return the stored hash of a key. Keys carry 256 random bits, so SHA-256 suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """Return the part of a key that may be shown later to recognise it."""
    return key[: len(KEY_PREFIX) + 6]


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: never the secret itself, only its hash and a recognisable prefix."""

    id: str
    name: str
    prefix: str
    scopes: tuple[Scope, ...]
    tenant_id: str | None
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def snapshot(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": [str(s) for s in self.scopes],
            "tenant_id": self.tenant_id,
            "revoked": self.revoked_at is not None,
        }


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key's identity, scopes and (if bound) tenant."""

    actor: str
    scopes: frozenset[Scope]
    tenant_id: str | None = None
    key_id: str | None = None

    def can(self, scope: Scope) -> bool:
        return allows(self.scopes, scope)

    def sees_tenant(self, tenant_id: str | None) -> bool:
        """Return True when this principal may see objects of the given tenant."""
        return self.tenant_id is None or self.tenant_id == tenant_id


SYSTEM = Principal(actor="system", scopes=frozenset(Scope))
