"""/metrics: tenantwatch's own metrics in the Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tenantwatch.domain.apikeys import Scope
from tenantwatch.web.deps import Credentials, RuntimeDep, authenticate
from tenantwatch.web.errors import AUTH

router = APIRouter(tags=["service"])


@router.get(
    "/metrics",
    summary="tenantwatch's own metrics (Prometheus text format)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **AUTH},
)
async def metrics(request: Request, rt: RuntimeDep, credentials: Credentials) -> Response:
    if not rt.settings.metrics_public:
        await authenticate(request, rt, credentials, Scope.READ)
    registry = request.app.state.telemetry.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
