"""Request dependencies: the runtime, the caller (from its Bearer key) and paging."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator
from starlette.exceptions import HTTPException

from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor
from tenantwatch.runtime.root import Runtime

_bearer = HTTPBearer(auto_error=False, description="an API key: Authorization: Bearer tw_...")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def request_id(request: Request) -> str | None:
    rid: str | None = request.scope.get("state", {}).get("request_id")
    return rid


RuntimeDep = Annotated[Runtime, Depends(runtime)]
RequestId = Annotated[str | None, Depends(request_id)]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def authenticate(
    request: Request, rt: Runtime, credentials: HTTPAuthorizationCredentials | None, scope: Scope
) -> Principal:
    """Return the caller of a request. Raise 401 without a valid key, 403 without the scope."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing API key; send Authorization: Bearer <key>", _CHALLENGE)
    principal = await rt.api_keys.authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(401, "unknown or revoked API key", _CHALLENGE)
    request.scope.setdefault("state", {})["principal"] = principal
    if not principal.can(scope):
        raise HTTPException(403, f"this needs the {scope!s} scope; use a key that has it")
    return principal


def caller(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """Return a dependency that authenticates the request and demands the scope."""

    async def dependency(request: Request, rt: RuntimeDep, credentials: Credentials) -> Principal:
        return await authenticate(request, rt, credentials, scope)

    return dependency


Reader = Annotated[Principal, Depends(caller(Scope.READ))]
Writer = Annotated[Principal, Depends(caller(Scope.WRITE))]
Admin = Annotated[Principal, Depends(caller(Scope.ADMIN))]


def _valid_cursor(value: str | None) -> str | None:
    """Refuse a forged cursor as a 422 on the query parameter (decode_cursor says why)."""
    if value:  # an empty cursor asks for the first page
        decode_cursor(value)
    return value


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="next_cursor of the previous page"),
    AfterValidator(_valid_cursor),
]
DEFAULT_PAGE = DEFAULT_LIMIT
