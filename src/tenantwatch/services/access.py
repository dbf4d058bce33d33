"""Access checks shared by every use case."""

from __future__ import annotations

from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.services.errors import Forbidden


def require(who: Principal, scope: Scope) -> None:
    """Raise Forbidden unless the principal holds (or implies) the scope."""
    if not who.can(scope):
        raise Forbidden(f"this needs the {scope!s} scope; use a key that has it")
