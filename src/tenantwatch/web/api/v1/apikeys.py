"""/api/v1/apikeys: issue (secret shown once), list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from tenantwatch.web.deps import DEFAULT_PAGE, Admin, Cursor, Limit, RequestId, RuntimeDep
from tenantwatch.web.errors import AUTH, responses
from tenantwatch.web.schemas import NO_NUL, ApiKeyCreate, ApiKeyCreated, ApiKeyOut, ApiKeyPage

router = APIRouter(prefix="/apikeys", tags=["api keys"], responses=AUTH)
KeyPath = Annotated[str, Path(max_length=32, pattern=NO_NUL)]


@router.get("", response_model=ApiKeyPage, summary="List API keys (never their secrets)")
async def list_keys(
    rt: RuntimeDep,
    who: Admin,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
    include_revoked: bool = False,
) -> ApiKeyPage:
    page = await rt.api_keys.list(who, cursor=cursor, limit=limit, include_revoked=include_revoked)
    return ApiKeyPage(items=[ApiKeyOut.of(k) for k in page.items], next_cursor=page.next_cursor)


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=201,
    summary="Issue an API key; the response holds the secret, once",
    responses=responses(404),
)
async def create_key(
    body: ApiKeyCreate, rt: RuntimeDep, who: Admin, rid: RequestId
) -> ApiKeyCreated:
    issued = await rt.api_keys.issue(
        who, name=body.name, scopes=body.scopes, tenant_id=body.tenant_id, request_id=rid
    )
    return ApiKeyCreated(**ApiKeyOut.of(issued.key).model_dump(), key=issued.secret)


@router.get(
    "/{key_id}", response_model=ApiKeyOut, summary="Get an API key", responses=responses(404)
)
async def get_key(key_id: KeyPath, rt: RuntimeDep, who: Admin) -> ApiKeyOut:
    return ApiKeyOut.of(await rt.api_keys.get(who, key_id))


@router.delete(
    "/{key_id}",
    response_model=ApiKeyOut,
    summary="Revoke an API key",
    responses=responses(404),
)
async def revoke_key(key_id: KeyPath, rt: RuntimeDep, who: Admin, rid: RequestId) -> ApiKeyOut:
    return ApiKeyOut.of(await rt.api_keys.revoke(who, key_id, request_id=rid))
