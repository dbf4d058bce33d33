"""/-/reload: read tenantwatch.yml again, as Prometheus' lifecycle endpoint does."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tenantwatch.config.errors import ConfigError
from tenantwatch.web.deps import Admin, RuntimeDep
from tenantwatch.web.errors import AUTH, ErrorBody

router = APIRouter(prefix="/-", tags=["service"], responses=AUTH)

SUMMARY = "Reload tenantwatch.yml: scrape jobs and rule files (as Prometheus' /-/reload)"
DESCRIPTION = (
    "Reads the config file again and applies its scrape jobs and rule files; targets whose "
    "labels and URL are unchanged keep scraping. An invalid file keeps the running config "
    "and answers 500 with every problem as file:line, as Prometheus does. Needs an admin "
    "key not bound to a tenant. `kill -HUP` on the server process does the same."
)


async def reload(rt: RuntimeDep, who: Admin) -> Response:
    if who.tenant_id is not None:
        raise HTTPException(
            403, "reloading the config needs an admin key not bound to a tenant; use one"
        )
    try:
        await rt.reload_config()
    except ConfigError as exc:
        # Prometheus answers a failed reload with 500 and the error (web.go, reload)
        return JSONResponse({"detail": f"failed to reload config: {exc}"}, status_code=500)
    return Response(status_code=200)


for _method in ("POST", "PUT"):
    router.add_api_route(
        "/reload",
        reload,
        methods=[_method],
        summary=SUMMARY,
        description=DESCRIPTION,
        operation_id=f"reload_{_method.lower()}",
        response_class=Response,
        responses={
            200: {"description": "the new config runs"},
            500: {"model": ErrorBody, "description": "invalid config; the old one keeps running"},
        },
    )
