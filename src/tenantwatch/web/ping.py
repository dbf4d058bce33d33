"""Heartbeat pings in Healthchecks' URL scheme: /ping/<token>[/start|/fail|/<exit status>].

GET, POST and HEAD all count (cron jobs use `curl -fsS -m 10 --retry 5 URL`). Answers are
plain text: 200 "OK", 404 "not found" for an unknown token, 400 for an unknown suffix,
429 with Retry-After when one token is pinged faster than check_runner.ping_burst and
ping_rate allow.
`PingFastPath` serves these paths before the request logging and routing layers, so bursts
of thousands of pings per second are cheap; the routes below document the same handler.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tenantwatch.domain.heartbeat import ping_kind
from tenantwatch.domain.ping_limit import PingLimited
from tenantwatch.runtime.root import Runtime

router = APIRouter(prefix="/ping", tags=["heartbeats"])
Token = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
_METHODS = {"GET", "POST", "HEAD"}


Answer = tuple[int, str, list[tuple[str, str]]]  # status, text, extra headers


async def handle_ping(rt: Runtime, token: str, suffix: str | None, remote: str | None) -> Answer:
    """Record one ping; return the HTTP status, text and extra headers to answer with."""
    status: int | None = None
    if suffix is not None and suffix.isdigit() and len(suffix) <= 3:
        status = int(suffix)
        suffix = None
    try:
        kind = ping_kind(status, suffix)
    except ValueError as exc:
        return 400, str(exc), []
    if not token or len(token) > 64:
        return 404, "not found", []
    try:
        check = await rt.check_engine.pings.ping(token, kind, status, remote)
    except PingLimited as exc:
        return 429, str(exc), [("Retry-After", str(exc.retry_after_s))]
    except RuntimeError:
        return 503, "the ping could not be stored; retry", []
    return (200, "OK", []) if check is not None else (404, "not found", [])


def _split(path: str) -> tuple[str, str | None] | None:
    parts = path.split("/")  # "", "ping", token[, suffix]
    if len(parts) == 3:
        return parts[2], None
    if len(parts) == 4 and parts[3]:
        return parts[2], parts[3]
    return None


class PingFastPath:
    """Answer /ping/... before the rest of the stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        split = _split(path) if path.startswith("/ping/") else None
        if split is None or scope["method"] not in _METHODS:
            await self.app(scope, receive, send)
            return
        while (await receive()).get("more_body"):  # a body (job output) is read and dropped
            pass
        rt: Runtime = scope["app"].state.runtime
        client = scope.get("client")
        code, text, extra = await handle_ping(rt, split[0], split[1], client[0] if client else None)
        body = b"" if scope["method"] == "HEAD" else text.encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(text.encode())).encode()),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in extra]
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _answer(request: Request, token: str, suffix: str | None) -> PlainTextResponse:
    rt: Runtime = request.app.state.runtime
    client = request.client
    code, text, extra = await handle_ping(rt, token, suffix, client.host if client else None)
    return PlainTextResponse(text, status_code=code, headers=dict(extra))


async def ping_success(token: Token, request: Request) -> PlainTextResponse:
    """Heartbeat: the job succeeded."""
    return await _answer(request, token, None)


async def ping_signal(
    token: Token,
    signal: Annotated[str, Path(max_length=8, pattern=r"^(start|fail|\d{1,3})$")],
    request: Request,
) -> PlainTextResponse:
    """Heartbeat: /start, /fail or /<exit status 0-255>."""
    return await _answer(request, token, signal)


for _method in ("GET", "POST", "HEAD"):
    router.add_api_route(
        "/{token}",
        ping_success,
        methods=[_method],
        summary="Heartbeat: the job succeeded",
        operation_id=f"ping_success_{_method.lower()}",
        response_class=PlainTextResponse,
        responses={
            404: {"description": "unknown token"},
            429: {"description": "too many pings for this token; see Retry-After"},
        },
    )
    router.add_api_route(
        "/{token}/{signal}",
        ping_signal,
        methods=[_method],
        summary="Heartbeat: /start, /fail or /<exit status 0-255>",
        operation_id=f"ping_signal_{_method.lower()}",
        response_class=PlainTextResponse,
        responses={
            400: {"description": "unknown signal"},
            404: {"description": "unknown token"},
            429: {"description": "too many pings for this token; see Retry-After"},
        },
    )
