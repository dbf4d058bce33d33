"""tenantwatch incidents list | show | ack | resolve | note: incidents on a running server."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import typer
from rich.markup import escape

from tenantwatch.cli import tables
from tenantwatch.cli.alerts_cmd import KeyOption, UrlOption, ago, api
from tenantwatch.cli.common import console

app = typer.Typer(
    help="Incidents: list, show, acknowledge, resolve, annotate.", no_args_is_help=True
)
COLORS = {"P1": "red", "P2": "yellow", "P3": "cyan", "P4": "white"}
COLUMNS = [
    tables.Col("ID", no_wrap=True),
    tables.Col("sev"),
    tables.Col("status"),
    tables.Col("title", wrap=True),
    tables.Col("tenants", 1, wrap=True),
    tables.Col("detected", 2, justify="right"),
    tables.Col("commander", 3),
]


def _tenants(inc: dict[str, Any]) -> str:
    ids = [t["tenant_id"] for t in inc["tenants"]]
    return ", ".join(ids[:3]) + (f" +{len(ids) - 3}" if len(ids) > 3 else "")


def _row(inc: dict[str, Any], now: float) -> list[str]:
    sev = inc["severity"]
    return [
        inc["id"],
        f"[{COLORS.get(sev, 'white')}]{sev}[/]",
        inc["status"],
        escape(inc["title"]),
        escape(_tenants(inc)),
        ago(inc["detected_at"], now),
        escape(inc["roles"].get("incident_commander", "")),
    ]


@app.command("list")
def list_incidents(
    status: str | None = typer.Option(
        "active",
        help="active (the default), open, investigating, identified, monitoring, resolved, or all",
    ),
    severity: str | None = typer.Option(None, help="P1, P2, P3 or P4"),
    tenant: str | None = typer.Option(None, help="only incidents affecting this tenant"),
    limit: int = typer.Option(50, min=1, max=1000),
    output: tables.Output = tables.OutputOption,
    wide: bool = tables.WideOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """List incidents, newest first."""
    params = {"limit": str(limit)}
    for name, value in (("status", status), ("severity", severity), ("tenant_id", tenant)):
        if value and value != "all":
            params[name] = value
    answer = api("GET", url, key, "/api/v1/incidents?" + urllib.parse.urlencode(params))
    if output is tables.Output.JSON:
        tables.print_json(answer["items"])
        return
    now = time.time()
    rows = [_row(i, now) for i in answer["items"]]
    tables.print_table(console, COLUMNS, rows, wide=wide, title=f"{len(rows)} incidents")


@app.command("show")
def show(
    incident_id: str = typer.Argument(..., help="e.g. INC-20261207-0042"),
    output: tables.Output = tables.OutputOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """One incident: its state, tenants, roles and timeline."""
    inc = api("GET", url, key, f"/api/v1/incidents/{incident_id}")
    entries = api("GET", url, key, f"/api/v1/incidents/{incident_id}/timeline")["entries"]
    if output is tables.Output.JSON:
        tables.print_json({**inc, "timeline": entries})
        return
    console.print(
        f"[bold]{escape(inc['id'])}[/bold] {inc['severity']} {inc['status']}: {escape(inc['title'])}"
    )
    tenants = ", ".join(f"{t['tenant_id']} ({t['tier'] or '-'})" for t in inc["tenants"])
    console.print(f"tenants: {escape(tenants) or '-'}")
    roles = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in inc["roles"].items())
    console.print(f"roles: {escape(roles) or 'none assigned'}")
    if inc["runbook"]:
        console.print(f"runbook: {escape(inc['runbook'])}")
    rows = [
        [
            e["at"][:19].replace("T", " "),
            e["kind"],
            escape(e["author"]),
            ("📌 " if e["pinned"] else "") + escape(e["text"]),
        ]
        for e in entries
    ]
    columns = [
        tables.Col("at", no_wrap=True),
        tables.Col("what"),
        tables.Col("who", 1),
        tables.Col("", wrap=True),
    ]
    tables.print_table(console, columns, rows, wide=False, title="timeline")


@app.command("ack")
def ack(
    incident_id: str = typer.Argument(...),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """Acknowledge an incident: someone is on it."""
    inc = api("POST", url, key, f"/api/v1/incidents/{incident_id}/acknowledge", {})
    console.print(f"acknowledged {inc['id']}")


@app.command("resolve")
def resolve(
    incident_id: str = typer.Argument(...),
    reason: str | None = typer.Option(None, "--reason", "-r"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """Resolve an incident."""
    body = {"text": reason} if reason else None
    inc = api("POST", url, key, f"/api/v1/incidents/{incident_id}/resolve", body)
    console.print(f"resolved {inc['id']}")


@app.command("note")
def note(
    incident_id: str = typer.Argument(...),
    text: str = typer.Argument(..., help="what to add to the timeline"),
    pinned: bool = typer.Option(False, "--pin", help="pin it: it stands out in the timeline"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """Add a note to an incident's timeline."""
    api(
        "POST", url, key, f"/api/v1/incidents/{incident_id}/notes", {"text": text, "pinned": pinned}
    )
    console.print(f"noted on {incident_id}")
