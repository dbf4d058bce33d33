"""The FastAPI app factory: create_app(settings, config) wires everything; nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI

from tenantwatch import __version__
from tenantwatch.adapters.smtp_sink import SmtpSink
from tenantwatch.config.model import Config
from tenantwatch.logs import configure_logging
from tenantwatch.metrics.rejections import RejectionsCollector
from tenantwatch.metrics.scrape_metrics import ScrapeCollector
from tenantwatch.metrics.store_metrics import StoreCollector
from tenantwatch.runtime import Runtime, build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.web import docs_ui, errors, health, home, inspector, metrics_route, ping
from tenantwatch.web.api import alertmanager, prom, prom_rules, push, v1
from tenantwatch.web.body_limit import BodyLimit
from tenantwatch.web.inspector import Captured
from tenantwatch.web.middleware import RequestContextMiddleware
from tenantwatch.web.telemetry import Telemetry

DESCRIPTION = (
    "Tenant-aware monitoring, SLAs, alerting and incident response for multi-tenant SaaS. "
    "Authenticate with `Authorization: Bearer <API key>`; a key bound to a tenant sees only "
    "that tenant. Lists are paged: pass `next_cursor` back as `?cursor=`."
)


def start_smtp_sink(rt: Runtime) -> SmtpSink | None:
    """The inspector's SMTP receiver, when the config asks for one."""
    port = rt.config.inspector.smtp_port
    if rt.inspector is None or port is None:
        return None
    found = rt.inspector

    def record(message: dict[str, Any]) -> None:
        found.record(Captured(message["at"], "smtp", "SMTP", "/", {}, message))

    sink = SmtpSink(port, record)
    sink.start()
    return sink


def body_caps(config: Config) -> dict[str, Any]:
    """BodyLimit's caps: JSON bodies by default, alert batches, pushes and remote-writes."""
    ingest = int(config.metrics.limits.max_body_size)
    return {
        "default": int(config.http.max_body_size),
        "routes": {
            ("POST", "/api/v2/alerts"): int(config.http.max_alerts_body_size),
            ("POST", push.REMOTE_WRITE_ROUTE): ingest,
            ("PUT", push.PUSH_ROUTE): ingest,
            ("POST", push.PUSH_ROUTE): ingest,
        },
    }


def create_app(
    settings: Settings,
    config: Config | None = None,
    *,
    runtime: Runtime | None = None,
    run_checks: bool | None = None,
) -> FastAPI:
    """Return the ASGI app. On startup it migrates the database and syncs the config's tenants
    and checks. The check scheduler runs unless run_checks is False (by default it runs when
    the app builds its own runtime)."""
    scheduling = run_checks if run_checks is not None else runtime is None
    if not structlog.is_configured():
        # embedded without `tenantwatch serve`: still no rich tracebacks with request locals
        configure_logging(settings.log_level, settings.log_format)
    rt = runtime or build_runtime(settings, config)
    telemetry = Telemetry(rt.engine)
    if rt.metrics is not None:
        telemetry.registry.register(StoreCollector(rt.metrics.store))
        telemetry.registry.register(ScrapeCollector(rt.metrics.scrapes))
        telemetry.registry.register(RejectionsCollector(rt.metrics.rejections))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await prepare(rt)
        metrics = rt.metrics if rt.metrics is not None and not rt.metrics.running else None
        if metrics is not None:
            await metrics.start()
        await rt.check_engine.start(schedule=scheduling, samples=rt.metrics is not None)
        smtp = start_smtp_sink(rt)
        await rt.start_alerting()
        rules = rt.rules if scheduling and rt.metrics is not None else None
        if rules is not None:
            await rt.reload_rules()
            await rules.start()
        try:
            yield
        finally:
            if rules is not None:
                await rules.stop()
            await rt.stop_alerting()
            if smtp is not None:
                smtp.stop()
            await rt.check_engine.stop()
            if metrics is not None:
                await metrics.stop()
            if runtime is None:
                await rt.close()

    app = FastAPI(
        title="tenantwatch",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # docs_ui serves /docs and /redoc without a CDN
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = rt
    app.state.telemetry = telemetry
    errors.install(app)
    docs_ui.install(app)
    app.include_router(home.router)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    app.include_router(v1.router)
    app.include_router(prom.router)
    app.include_router(prom_rules.router)
    app.include_router(alertmanager.router)
    app.include_router(push.router)
    app.include_router(ping.router)
    app.include_router(inspector.router)
    app.add_middleware(BodyLimit, **body_caps(rt.config))
    app.add_middleware(RequestContextMiddleware, telemetry=telemetry)
    app.add_middleware(ping.PingFastPath)
    return app
