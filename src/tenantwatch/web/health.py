"""Service endpoints: /health, /health/live, /health/ready, /health/detailed (shapes of seed 003)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tenantwatch import __version__
from tenantwatch.services.health import check_all, rollup
from tenantwatch.web.deps import RuntimeDep
from tenantwatch.web.schemas import DependencyOut, Health, HealthDetailed, Ready

router = APIRouter(prefix="/health", tags=["service"])
CRITICAL = frozenset({"database"})


@router.get("", response_model=Health, summary="Is the process up")
async def health() -> Health:
    return Health(status="healthy", timestamp=datetime.now(UTC), version=__version__)


@router.get("/live", response_model=Health, summary="Liveness probe")
async def live() -> Health:
    return Health(status="alive", timestamp=datetime.now(UTC), version=__version__)


@router.get(
    "/ready",
    response_model=Ready,
    summary="Readiness probe: 200 when the database answers, else 503",
    responses={503: {"model": Ready, "description": "a critical dependency is down"}},
)
async def ready(rt: RuntimeDep) -> JSONResponse:
    statuses = await check_all({k: v for k, v in rt.probes.items() if k in CRITICAL})
    ok = all(s.healthy for s in statuses)
    body = Ready(status="ready" if ok else "not ready", checks={s.name: s.status for s in statuses})
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get(
    "/detailed",
    response_model=HealthDetailed,
    summary="Each dependency's status; 503 when a critical one is down",
    responses={503: {"model": HealthDetailed, "description": "a critical dependency is down"}},
)
async def detailed(rt: RuntimeDep) -> JSONResponse:
    statuses = await check_all(rt.probes)
    overall = rollup(statuses, CRITICAL)
    body = HealthDetailed(
        status=overall,
        timestamp=datetime.now(UTC),
        version=__version__,
        services={s.name: s.status for s in statuses},
        details={
            s.name: DependencyOut(status=s.status, latency_ms=round(s.latency_ms, 2), error=s.error)
            for s in statuses
        },
        workers={"api": "healthy"},
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=503 if overall == "unhealthy" else 200
    )
