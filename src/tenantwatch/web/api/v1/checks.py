"""/api/v1/checks: check CRUD (validated as tenantwatch.yml's `checks:`), runs and history."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from tenantwatch.config.checks_model import CheckConfig
from tenantwatch.domain.checks import CheckKind
from tenantwatch.runtime.root import Runtime
from tenantwatch.web.check_schemas import (
    CheckOut,
    CheckPage,
    RollupOut,
    RunOut,
    RunPage,
    StateChangeOut,
    StateChangePage,
)
from tenantwatch.web.deps import DEFAULT_PAGE, Cursor, Limit, Reader, RequestId, RuntimeDep, Writer
from tenantwatch.web.errors import AUTH, responses
from tenantwatch.web.schemas import NO_NUL, TenantId

router = APIRouter(prefix="/checks", tags=["checks"], responses=AUTH)
CheckPath = Annotated[str, Path(max_length=100, pattern=NO_NUL, description="check id")]
Hours = Annotated[float, Query(gt=0, le=24 * 366, description="how far back, in hours")]
NewCheck = Annotated[CheckConfig, Body(description="a check, as under `checks:` in the config")]


def _base(rt: Runtime) -> str:
    return rt.settings.base_url


@router.get("", response_model=CheckPage, summary="List checks with their state")
async def list_checks(
    rt: RuntimeDep,
    who: Reader,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
    tenant: TenantId | None = None,
    kind: CheckKind | None = None,
    archived: Annotated[
        bool, Query(description="only the checks the config file no longer declares")
    ] = False,
) -> CheckPage:
    page = await rt.checks.list(
        who, cursor=cursor, limit=limit, tenant_id=tenant, kind=kind, archived=archived
    )
    return CheckPage(
        items=[CheckOut.of(c, s, _base(rt)) for c, s in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "",
    response_model=CheckOut,
    status_code=201,
    summary="Create a check",
    description="Checks made through the API reach public addresses, internal ones only when "
    "check_runner.allow_private_targets lists them (postgres and redis: listed destinations "
    "only); ids are '<tenant>.<name>'; python checks, server file paths and ping tokens are "
    "declared in tenantwatch.yml only (403).",
    responses=responses(404, 409),
)
async def create_check(body: NewCheck, rt: RuntimeDep, who: Writer, rid: RequestId) -> CheckOut:
    check = await rt.checks.create(who, body, request_id=rid)
    _, state = await rt.checks.get(who, check.id)
    return CheckOut.of(check, state, _base(rt))


@router.get("/{check_id}", response_model=CheckOut, summary="Get a check", responses=responses(404))
async def get_check(check_id: CheckPath, rt: RuntimeDep, who: Reader) -> CheckOut:
    check, state = await rt.checks.get(who, check_id)
    return CheckOut.of(check, state, _base(rt))


@router.put(
    "/{check_id}",
    response_model=CheckOut,
    summary="Replace a check",
    responses=responses(404, 409),
)
async def replace_check(
    check_id: CheckPath, body: NewCheck, rt: RuntimeDep, who: Writer, rid: RequestId
) -> CheckOut:
    check = await rt.checks.replace(who, check_id, body, request_id=rid)
    rt.check_engine.pings.forget(check.token)
    _, state = await rt.checks.get(who, check.id)
    return CheckOut.of(check, state, _base(rt))


@router.delete(
    "/{check_id}",
    status_code=204,
    summary="Delete a check and its history",
    responses=responses(404, 409),
    response_class=Response,
)
async def delete_check(check_id: CheckPath, rt: RuntimeDep, who: Writer, rid: RequestId) -> None:
    check, _ = await rt.checks.get(who, check_id)
    await rt.checks.delete(who, check_id, request_id=rid)
    rt.check_engine.pings.forget(check.token)


@router.post(
    "/{check_id}/run",
    response_model=RunOut,
    summary="Run a check now and record the result",
    responses=responses(404, 409),
)
async def run_check(check_id: CheckPath, rt: RuntimeDep, who: Writer) -> RunOut:
    check = await rt.checks.runnable(who, check_id)
    runs, _ = await rt.check_engine.run_now([check])
    return RunOut.of(runs[0])


@router.get(
    "/{check_id}/results",
    response_model=RunPage,
    summary="A check's results, newest first",
    responses=responses(404),
)
async def check_results(
    check_id: CheckPath,
    rt: RuntimeDep,
    who: Reader,
    hours: Hours = 24,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> RunPage:
    page = await rt.checks.history(
        who, tenant_id=None, check_id=check_id, hours=hours, limit=limit, cursor=cursor
    )
    return RunPage(items=[RunOut.of(r, i) for i, r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/{check_id}/events",
    response_model=StateChangePage,
    summary="A check's state changes (up, down), newest first",
    responses=responses(404),
)
async def check_events(
    check_id: CheckPath,
    rt: RuntimeDep,
    who: Reader,
    hours: Hours = 24 * 7,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> StateChangePage:
    page = await rt.checks.change_page(who, check_id, hours=hours, limit=limit, cursor=cursor)
    return StateChangePage(
        items=[StateChangeOut.of(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{check_id}/uptime",
    response_model=list[RollupOut],
    summary="Uptime and response time per minute, hour or day",
    responses=responses(404),
)
async def check_uptime(
    check_id: CheckPath,
    rt: RuntimeDep,
    who: Reader,
    resolution: Annotated[str, Query(pattern=r"^(1m|1h|1d)$")] = "1h",
    hours: Hours = 24,
    limit: Annotated[int, Query(ge=1, le=10_000, description="most buckets, oldest first")] = 1000,
) -> list[RollupOut]:
    since = rt.ctx.clock() - timedelta(hours=hours)
    rows = await rt.checks.uptime(who, check_id, resolution=resolution, since=since, limit=limit)
    return [
        RollupOut(
            bucket=r.bucket,
            runs=r.runs,
            ok_runs=r.ok_runs,
            uptime_percentage=round(100 * r.ok_runs / r.runs, 4) if r.runs else 0.0,
            avg_response_time_ms=round(1000 * r.duration_sum / r.runs, 3) if r.runs else 0.0,
            max_response_time_ms=round(1000 * r.duration_max, 3),
        )
        for r in rows
    ]
