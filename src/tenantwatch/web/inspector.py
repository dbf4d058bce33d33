"""A request inspector: local receivers for the demo that show what each one got.

With `inspector: {enabled: true}` in tenantwatch.yml, any request to
`/inspector/<bin>/...` is recorded (method, path, headers with credentials masked, body)
and answered `ok`, so webhook, Slack, PagerDuty, Teams and Twilio receivers can point at
tenantwatch itself; an SMTP sink on `inspector.smtp_port` records emails the same way.
`GET /inspector` shows the latest requests per bin, and above them the deliveries that
failed (retrying or dead, with the status code or error), read from the outbox's log;
`GET /inspector/requests` and `GET /inspector/failures` give the same as JSON. It has no
authentication: enable it on a developer machine only.
"""

from __future__ import annotations

import html
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from tenantwatch import jsonio
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tenantwatch.web.deps import runtime
from tenantwatch.web.notification_schemas import NotificationOut, NotificationPage

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the last page")]

router = APIRouter(
    prefix="/inspector",
    tags=["inspector"],
    responses={404: {"description": "the inspector is off (inspector.enabled in the config)"}},
)
_SECRET_HEADERS = {"authorization", "x-api-key", "cookie"}


async def _failures(request: Request, limit: int, cursor: str | None) -> NotificationPage:
    page = await runtime(request).notifications.list(
        SYSTEM, cursor=cursor, limit=limit, failing=True
    )
    return NotificationPage(
        items=[NotificationOut.of(r) for r in page.items], next_cursor=page.next_cursor
    )


def _failure_html(r: NotificationOut) -> str:
    when = r.last_attempt_at or r.created_at
    state = "dead" if r.status == "dead" else f"retrying, attempt {r.attempts}"
    code = f"HTTP {r.last_status_code}" if r.last_status_code is not None else "no answer"
    alerts = len(r.fingerprints) if r.fingerprints is not None else "?"
    cells = (
        when.astimezone().strftime("%H:%M:%S"),
        f"{r.receiver} ({r.integration})",
        r.target,
        state,
        code,
        r.last_error or "",
        f"{alerts} alert(s) of group {r.group_key or '-'}",
    )
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"


@router.get("", response_class=HTMLResponse, summary="What each local receiver got (demo)")
async def page(request: Request) -> HTMLResponse:
    inspector = runtime(request).inspector
    if inspector is None:
        return HTMLResponse("the inspector is off; set inspector.enabled in the config", 404)
    failed = await _failures(request, DEFAULT_LIMIT, None)
    failures = (
        "<h2>Failed deliveries</h2><table border=1 cellpadding=3>"
        "<tr><th>last attempt</th><th>receiver</th><th>target</th><th>state</th>"
        "<th>status</th><th>reason</th><th>carried</th></tr>"
        + "".join(_failure_html(r) for r in failed.items)
        + "</table><p><a href='/inspector/failures'>as JSON</a>; all of them: "
        "<code>tenantwatch notifications list --status dead</code></p>"
        if failed.items
        else "<h2>Failed deliveries</h2><p>none</p>"
    )
    rows = []
    for c in reversed(inspector.requests()):
        when = time.strftime("%H:%M:%S", time.localtime(c.at))
        body = html.escape(
            jsonio.dumps(c.body, indent=2) if not isinstance(c.body, str) else c.body
        )
        rows.append(
            f"<details><summary><b>{html.escape(c.bin)}</b> {when} {c.method} "
            f"{html.escape(c.path)}</summary><pre>{body}</pre></details>"
        )
    bins = sorted({c.bin for c in inspector.items})
    counts = ", ".join(f"{html.escape(b)}: {len(inspector.requests(b))}" for b in bins)
    return HTMLResponse(
        "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=5>"
        "<title>tenantwatch inspector</title><h1>Request inspector</h1>"
        + failures
        + "<h2>Received</h2>"
        + f"<p>{counts or 'nothing received yet'}</p>"
        + "".join(rows)
    )


@router.get("/requests", summary="What each local receiver got, as JSON (demo)")
async def requests(request: Request, bin: str | None = None) -> JSONResponse:
    inspector = runtime(request).inspector
    if inspector is None:
        return JSONResponse({"detail": "the inspector is off"}, 404)
    return JSONResponse([c.as_json() for c in inspector.requests(bin)])


@router.get(
    "/failures",
    response_model=NotificationPage,
    summary="Deliveries that failed: retrying or dead, with the reason (demo)",
)
async def failures(
    request: Request, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> NotificationPage | JSONResponse:
    if runtime(request).inspector is None:
        return JSONResponse({"detail": "the inspector is off"}, 404)
    return await _failures(request, limit, cursor)


async def capture(bin: str, path: str, request: Request) -> PlainTextResponse:
    inspector = runtime(request).inspector
    if inspector is None:
        return PlainTextResponse("the inspector is off", 404)
    raw = await request.body()
    headers = {
        k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in request.headers.items()
    }
    inspector.record_request(
        time.time(),
        bin,
        request.method,
        "/" + path,
        headers,
        raw,
        request.headers.get("content-type", ""),
    )
    if "pagerduty" in bin:
        return PlainTextResponse(
            jsonio.dumps({"status": "success", "message": "Event processed"}), 202
        )
    return PlainTextResponse("ok")


async def capture_bin(bin: str, request: Request) -> PlainTextResponse:
    return await capture(bin, "", request)


# `/inspector/slack` is a receiver as `/inspector/slack/...` is: without its own route the
# router would answer a 307 to the path with a trailing slash
for _method in ("POST", "PUT"):
    router.add_api_route(
        "/{bin}",
        capture_bin,
        methods=[_method],
        summary="A local receiver (demo)",
        operation_id=f"inspector_capture_bin_{_method.lower()}",
    )
    router.add_api_route(
        "/{bin}/{path:path}",
        capture,
        methods=[_method],
        summary="A local receiver (demo)",
        operation_id=f"inspector_capture_{_method.lower()}",
    )
