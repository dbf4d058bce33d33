"""A request inspector: local receivers for the demo that show what each one got.

With `inspector: {enabled: true}` in tenantwatch.yml, any request to
`/inspector/<bin>/...` is recorded (method, path, headers with credentials masked, body)
and answered `ok`, so webhook, Slack, PagerDuty, Teams and Twilio receivers can point at
tenantwatch itself; an SMTP sink on `inspector.smtp_port` records emails the same way.
`GET /inspector` shows the latest requests per bin; `GET /inspector/requests` gives them
as JSON. It has no authentication: enable it on a developer machine only.
"""

from __future__ import annotations

import html
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

router = APIRouter(
    prefix="/inspector",
    tags=["inspector"],
    responses={404: {"description": "the inspector is off (inspector.enabled in the config)"}},
)
_SECRET_HEADERS = {"authorization", "x-api-key", "cookie"}


@dataclass
class Captured:
    at: float
    bin: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "bin": self.bin,
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
        }


@dataclass
class Inspector:
    limit: int = 500
    items: deque[Captured] = field(default_factory=deque)

    def record(self, item: Captured) -> None:
        self.items.append(item)
        while len(self.items) > self.limit:
            self.items.popleft()

    def requests(self, bin: str | None = None) -> list[Captured]:
        return [c for c in self.items if bin is None or c.bin == bin]


def decode_body(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", "replace")
    if "json" in content_type or text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(text))
    return text


def _inspector(request: Request) -> Inspector | None:
    found: Inspector | None = getattr(request.app.state.runtime, "inspector", None)
    return found


@router.get("", response_class=HTMLResponse, summary="What each local receiver got (demo)")
async def page(request: Request) -> HTMLResponse:
    inspector = _inspector(request)
    if inspector is None:
        return HTMLResponse("the inspector is off; set inspector.enabled in the config", 404)
    rows = []
    for c in reversed(inspector.requests()):
        when = time.strftime("%H:%M:%S", time.localtime(c.at))
        body = html.escape(json.dumps(c.body, indent=2) if not isinstance(c.body, str) else c.body)
        rows.append(
            f"<details><summary><b>{html.escape(c.bin)}</b> {when} {c.method} "
            f"{html.escape(c.path)}</summary><pre>{body}</pre></details>"
        )
    bins = sorted({c.bin for c in inspector.items})
    counts = ", ".join(f"{html.escape(b)}: {len(inspector.requests(b))}" for b in bins)
    return HTMLResponse(
        "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=5>"
        "<title>tenantwatch inspector</title><h1>Request inspector</h1>"
        f"<p>{counts or 'nothing received yet'}</p>" + "".join(rows)
    )


@router.get("/requests", summary="What each local receiver got, as JSON (demo)")
async def requests(request: Request, bin: str | None = None) -> JSONResponse:
    inspector = _inspector(request)
    if inspector is None:
        return JSONResponse({"detail": "the inspector is off"}, 404)
    return JSONResponse([c.as_json() for c in inspector.requests(bin)])


async def capture(bin: str, path: str, request: Request) -> PlainTextResponse:
    inspector = _inspector(request)
    if inspector is None:
        return PlainTextResponse("the inspector is off", 404)
    raw = await request.body()
    headers = {
        k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in request.headers.items()
    }
    inspector.record(
        Captured(
            at=time.time(),
            bin=bin,
            method=request.method,
            path="/" + path,
            headers=headers,
            body=decode_body(raw, request.headers.get("content-type", "")),
        )
    )
    if "pagerduty" in bin:
        return PlainTextResponse(
            json.dumps({"status": "success", "message": "Event processed"}), 202
        )
    return PlainTextResponse("ok")


for _method in ("POST", "PUT"):
    router.add_api_route(
        "/{bin}/{path:path}",
        capture,
        methods=[_method],
        summary="A local receiver (demo)",
        operation_id=f"inspector_capture_{_method.lower()}",
    )
