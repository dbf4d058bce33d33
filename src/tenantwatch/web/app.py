"""The FastAPI app factory: create_app(settings, runtime) mounts the routers and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI

from tenantwatch import __version__
from tenantwatch.config.model import Config
from tenantwatch.logs import configure_logging
from tenantwatch.metrics.rejections import RejectionsCollector
from tenantwatch.metrics.scrape_metrics import ScrapeCollector
from tenantwatch.metrics.store_metrics import StoreCollector
from tenantwatch.runtime.root import Role, Runtime
from tenantwatch.settings import Settings
from tenantwatch.web import (
    docs_ui,
    errors,
    health,
    home,
    inspector,
    lifecycle,
    metrics_route,
    ping,
)
from tenantwatch.web.api import alertmanager, prom, prom_rules, prom_targets, push, v1, webhooks
from tenantwatch.web.body_limit import BodyLimit
from tenantwatch.web.middleware import RequestContextMiddleware
from tenantwatch.web.telemetry import Telemetry

DESCRIPTION = (
    "Tenant-aware monitoring, SLAs, alerting and incident response for multi-tenant SaaS. "
    "Authenticate with `Authorization: Bearer <API key>`; a key bound to a tenant sees only "
    "that tenant. Lists are paged: pass `next_cursor` back as `?cursor=`."
)


def body_caps(config: Config) -> dict[str, Any]:
    """BodyLimit's caps: JSON bodies by default, alert batches, pushes and remote-writes."""
    ingest = int(config.metrics.limits.max_body_size)
    return {
        "default": int(config.http.max_body_size),
        "routes": {
            ("POST", "/api/v2/alerts"): int(config.http.max_alerts_body_size),
            ("POST", "/webhooks/alerts"): int(config.http.max_alerts_body_size),
            ("POST", push.REMOTE_WRITE_ROUTE): ingest,
            ("PUT", push.PUSH_ROUTE): ingest,
            ("POST", push.PUSH_ROUTE): ingest,
        },
    }


def create_app(
    settings: Settings, runtime: Runtime, *, roles: Collection[Role] | None = None
) -> FastAPI:
    """Return the ASGI app over the runtime: routers and middleware. With roles (an app
    embedded without `tenantwatch serve`), its lifespan starts the runtime in those roles
    and stops it."""
    if not structlog.is_configured():
        # embedded without `tenantwatch serve`: still no rich tracebacks with request locals
        configure_logging(settings.log_level, settings.log_format)
    telemetry = Telemetry(runtime.engine)
    telemetry.registry.register(StoreCollector(runtime.metrics.store))
    telemetry.registry.register(ScrapeCollector(runtime.metrics.scrapes))
    telemetry.registry.register(RejectionsCollector(runtime.metrics.rejections))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if roles is not None:
            await runtime.start(roles)
        try:
            yield
        finally:
            if roles is not None:
                await runtime.stop()

    app = FastAPI(
        title="tenantwatch",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # docs_ui serves /docs and /redoc without a CDN
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.telemetry = telemetry
    errors.install(app)
    docs_ui.install(app)
    app.include_router(home.router)
    app.include_router(health.router)
    app.include_router(lifecycle.router)
    app.include_router(metrics_route.router)
    app.include_router(v1.router)
    app.include_router(prom.router)
    app.include_router(prom_rules.router)
    app.include_router(prom_targets.router)
    app.include_router(alertmanager.router)
    app.include_router(push.router)
    app.include_router(webhooks.router)
    app.include_router(ping.router)
    app.include_router(inspector.router)
    app.add_middleware(BodyLimit, **body_caps(runtime.config))
    app.add_middleware(RequestContextMiddleware, telemetry=telemetry)
    app.add_middleware(ping.PingFastPath)
    return app
