"""GET /: a plain page linking to what this server offers, until a web UI takes its place.

It links only pages that open without an API key; the keyed APIs are listed with how to
send the key, so every link on it opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tenantwatch import __version__
from tenantwatch.web.docs_ui import DOCS, REDOC

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Entry:
    path: str
    what: str


@dataclass(frozen=True)
class HomeFacts:
    """What the page depends on: the server's own settings and config."""

    base_url: str
    key_file: str
    metrics_public: bool
    inspector: bool


def open_pages(facts: HomeFacts) -> list[tuple[str, list[Entry]]]:
    """The sections of pages that answer without a key, as (heading, entries)."""
    sections = [
        (
            "API documentation",
            [
                Entry(DOCS, "Swagger UI: every route, try it with Authorize and a key"),
                Entry(REDOC, "ReDoc: the same, for reading"),
                Entry("/openapi.json", "the OpenAPI document"),
            ],
        ),
        (
            "Service",
            [
                Entry("/health", "status, version and time"),
                Entry("/health/live", "liveness probe"),
                Entry("/health/ready", "readiness probe: 503 while the database does not answer"),
                Entry("/health/detailed", "each dependency"),
            ]
            + ([Entry("/metrics", "tenantwatch's own metrics")] if facts.metrics_public else []),
        ),
    ]
    if facts.inspector:
        sections.append(
            (
                "Request inspector (demo)",
                [
                    Entry("/inspector", "what each local receiver got"),
                    Entry("/inspector/requests", "the same, as JSON"),
                ],
            )
        )
    return sections


def keyed_apis(facts: HomeFacts) -> list[Entry]:
    """Entry points of the APIs that need a key."""
    entries = [
        Entry("/api/v1/tenants", "tenants, tiers, API keys, audit log (/api/v1/...)"),
        Entry("/api/v1/checks", "health checks, their results and uptime"),
        Entry("/api/v1/monitoring/health/platform", "seed 002's monitoring APIs"),
        Entry("/api/v1/monitoring/alerts", "alerts: list, acknowledge, resolve"),
        Entry("/api/v1/query?query=up", "Prometheus HTTP API (a Grafana data source)"),
        Entry("/api/v1/targets", "scrape targets: health, last error, dropped targets"),
        Entry("/api/v2/alerts", "Alertmanager API v2 (Prometheus, vmalert, Grafana, amtool)"),
    ]
    if not facts.metrics_public:
        entries.append(Entry("/metrics", "tenantwatch's own metrics"))
    return entries


def render(facts: HomeFacts, root_path: str = "") -> str:
    """The page's HTML; links are relative to the server (behind root_path)."""
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width, initial-scale=1'>",
        f"<title>tenantwatch {escape(__version__)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5}code,pre{background:#f4f4f4;padding:0 .2em}"
        "pre{padding:.5em;overflow-x:auto}td{padding:0 1em .2em 0;vertical-align:top}</style>",
        "</head><body>",
        f"<h1>tenantwatch <small>{escape(__version__)}</small></h1>",
        "<p>Tenant-aware monitoring, SLAs and alerting. This page lists what the server "
        "offers until a web UI replaces it.</p>",
    ]
    for heading, entries in open_pages(facts):
        parts.append(f"<h2>{escape(heading)}</h2><table>")
        for e in entries:
            href = escape(root_path + e.path, quote=True)
            parts.append(
                f"<tr><td><a href='{href}'>{escape(e.path)}</a></td><td>{escape(e.what)}</td></tr>"
            )
        parts.append("</table>")
    example = (
        f'curl -H "Authorization: Bearer $(cat {facts.key_file})" {facts.base_url}/api/v1/tenants'
    )
    parts.append(
        "<h2>APIs (with an API key)</h2><p>These answer 401 without a key. Send one as "
        "<code>Authorization: Bearer &lt;key&gt;</code> (the Prometheus and Alertmanager "
        "APIs also take it as the basic-auth password). <code>tenantwatch serve</code> "
        f"keeps an admin key in <code>{escape(facts.key_file)}</code>; "
        "<code>tenantwatch apikey create</code> issues more.</p>"
        f"<pre>{escape(example)}</pre><table>"
    )
    for e in keyed_apis(facts):
        parts.append(f"<tr><td><code>{escape(e.path)}</code></td><td>{escape(e.what)}</td></tr>")
    parts.append("</table></body></html>")
    return "".join(parts)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    rt = request.app.state.runtime
    root_path = request.scope.get("root_path", "")
    facts = HomeFacts(
        base_url=str(request.base_url).rstrip("/"),
        key_file=str(rt.settings.admin_key_file),
        metrics_public=rt.settings.metrics_public,
        inspector=rt.inspector is not None,
    )
    return HTMLResponse(render(facts, root_path))
