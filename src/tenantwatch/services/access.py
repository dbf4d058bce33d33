"""Access checks shared by every use case."""

from __future__ import annotations

from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.pagination import decode_cursor
from tenantwatch.services.errors import Forbidden, Invalid


def require(who: Principal, scope: Scope) -> None:
    """Raise Forbidden unless the principal holds (or implies) the scope."""
    if not who.can(scope):
        raise Forbidden(f"this needs the {scope!s} scope; use a key that has it")


def cursor_key(cursor: str | None) -> str | int | None:
    """Return the sort key in a page cursor. Raise Invalid (field 'cursor') for a forged one."""
    if not cursor:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError as exc:
        raise Invalid(str(exc), field="cursor") from None
