"""Plain ASGI middleware: request id, one structured log line and metrics per request."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantwatch.web.telemetry import Telemetry

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
log = structlog.get_logger("tenantwatch.http")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """Return the caller's X-Request-ID when it is safe to echo, else a new one."""
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SAFE_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """Return the matched route's full path template, e.g. /api/v1/tenants/{tenant_id}, or
    "<unmatched>": never segments of the requested path, which may hold secrets (a push
    path's labels) and would give every distinct path a series of its own.

    FastAPI routers included with a prefix report their own, unprefixed template; the
    prefix is the part of the path before the longest tail the route's pattern matches
    (our prefixes are fixed text, so it holds no part of what the client chose).
    """
    route = scope.get("route")
    inner: str | None = getattr(route, "path", None)
    pattern = getattr(route, "path_regex", None)
    if not inner or pattern is None:
        return UNMATCHED
    path: str = scope["path"]
    start = 0
    while start != -1:
        if pattern.match(path[start:]):
            return path[:start] + inner
        start = path.find("/", start + 1)
    return UNMATCHED


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        start = time.perf_counter()
        header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        self.telemetry.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.telemetry.in_flight.dec()
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            method = scope["method"]
            self.telemetry.requests.labels(method, route, str(status)).inc()
            self.telemetry.duration.labels(method, route).observe(elapsed)
            principal = state.get("principal")
            log.info(
                "request",
                request_id=request_id,
                method=method,
                path=scope["path"],
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                tenant=getattr(principal, "tenant_id", None)
                or scope.get("path_params", {}).get("tenant_id"),
                actor=getattr(principal, "actor", None),
            )
