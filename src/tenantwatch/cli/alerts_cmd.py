"""tenantwatch alerts list|ack|resolve and tenantwatch silence add|list|expire (as amtool).

Both talk to a running tenantwatch over its API (the alert manager's state lives in the
server), with the admin key `tenantwatch serve` saved, or --key / TENANTWATCH_API_KEY.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

import typer
from rich.markup import escape

from tenantwatch import jsonio
from tenantwatch.alertmanager.routing import RoutingError, parse_matchers
from tenantwatch.cli import tables
from tenantwatch.cli.common import console, err_console, settings_from_env
from tenantwatch.cli.query import base_url, resolve_key
from tenantwatch.domain.durations import parse_duration
from tenantwatch.gotext.times import format_rfc3339_nano

alerts_app = typer.Typer(help="List, acknowledge and resolve alerts (as amtool alert)")
silence_app = typer.Typer(help="Add, list and expire silences (as amtool silence)")

UrlOption = typer.Option(None, "--url", help="tenantwatch's URL (default: the local server)")
KeyOption = typer.Option(
    None, "--key", envvar="TENANTWATCH_API_KEY", help="API key (default: the saved admin key)"
)
COLORS = {"critical": "red", "error": "red", "warning": "yellow", "info": "cyan"}


class ApiFailed(Exception):
    pass


def api(method: str, url: str | None, key: str | None, path: str, body: Any = None) -> Any:
    """One JSON request to the running server; exit 1 with its reason when it fails."""
    settings = settings_from_env()
    base = base_url(url, settings)
    secret = resolve_key(key, settings)
    data = jsonio.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (base_url allows http and https only)
        base + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        try:
            parsed = jsonio.loads(detail)
            detail = parsed.get("detail", parsed) if isinstance(parsed, dict) else parsed
            if isinstance(detail, list):
                detail = "; ".join(str(d.get("msg", d)) for d in detail)
        except ValueError:
            pass
        err_console.print(f"[red]{exc.code}:[/red] {detail}", highlight=False)
        raise typer.Exit(1) from None
    except (urllib.error.URLError, OSError) as exc:
        err_console.print(
            f"[red]cannot reach tenantwatch at {base}:[/red] {exc}; is it running? "
            "Point at it with --url",
            highlight=False,
        )
        raise typer.Exit(1) from None
    return jsonio.loads(raw) if raw else None


def ago(iso: str | None, now: float) -> str:
    if not iso:
        return ""
    then = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    seconds = max(0, int(now - then))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


ALERT_COLUMNS = [
    tables.Col("ID", no_wrap=True),
    tables.Col("alert", wrap=True),
    tables.Col("tenant", 1),
    tables.Col("severity", 1),
    tables.Col("status", 2),
    tables.Col("since", 3, justify="right"),
    tables.Col("count", 4, justify="right"),
    tables.Col("summary", 3, wrap=True),
]


def alert_row(a: dict[str, Any], now: float) -> list[str]:
    sev = a.get("severity") or ""
    status = a["status"] + (" (flapping)" if a.get("flapping") else "")
    return [
        a["alert_id"],
        escape(a["alert_name"]),
        escape(a.get("tenant_id") or ""),
        f"[{COLORS.get(sev, 'white')}]{escape(sev)}[/]",
        status,
        ago(a.get("starts_at"), now),
        str(a.get("occurrence_count", 1)),
        escape(a.get("alert_description", "")),
    ]


@alerts_app.command("list")
def list_alerts(
    status: str | None = typer.Option(None, help="active, acknowledged or resolved"),
    severity: str | None = typer.Option(None, help="info, warning, error or critical"),
    tenant: str | None = typer.Option(None, help="only this tenant's alerts"),
    limit: int = typer.Option(100, min=1, max=1000),
    output: tables.Output = tables.OutputOption,
    wide: bool = tables.WideOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """List alerts, most severe first."""
    params = {"limit": str(limit)}
    for name, value in (("status", status), ("severity", severity), ("tenant_id", tenant)):
        if value:
            params[name] = value
    answer = api("GET", url, key, "/api/v1/monitoring/alerts?" + urllib.parse.urlencode(params))
    if output is tables.Output.JSON:
        tables.print_json(answer["alerts"])
        return
    now = time.time()
    rows = [alert_row(a, now) for a in answer["alerts"]]
    title = f"{len(rows)} alerts"
    tables.print_table(console, ALERT_COLUMNS, rows, wide=wide, title=title)


@alerts_app.command("ack")
def ack(
    alert_id: str = typer.Argument(..., help="the alert's ID (its fingerprint)"),
    notes: str | None = typer.Option(None, "--notes", "-n"),
    duration: str | None = typer.Option(
        None, "--for", help="the acknowledgement runs out after this long (e.g. 2h)"
    ),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """Acknowledge a firing alert: it stops paging and escalating."""
    body: dict[str, Any] = {"notes": notes}
    if duration:
        body["until"] = datetime.fromtimestamp(time.time() + _seconds(duration), UTC).isoformat()
    a = api("POST", url, key, f"/api/v1/monitoring/alerts/{alert_id}/acknowledge", body)
    console.print(f"acknowledged {a['alert_name']} ({a['alert_id']})")


@alerts_app.command("resolve")
def resolve(
    alert_id: str = typer.Argument(..., help="the alert's ID (its fingerprint)"),
    notes: str | None = typer.Option(None, "--notes", "-n"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """Resolve an alert by hand, with notes; the resolution is notified."""
    a = api(
        "POST",
        url,
        key,
        f"/api/v1/monitoring/alerts/{alert_id}/resolve",
        {"resolution_notes": notes},
    )
    console.print(f"resolved {a['alert_name']} ({a['alert_id']})")


def _seconds(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        err_console.print(f"[red]duration:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None


def api_matchers(texts: list[str]) -> list[dict[str, Any]]:
    """amtool's matcher arguments (alertname=Foo, severity=~"crit.*") in API v2 form."""
    try:
        parsed = parse_matchers(texts)
    except RoutingError as exc:
        err_console.print(f"[red]matcher:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    return [
        {
            "name": m.name,
            "value": m.value,
            "isRegex": m.op in ("=~", "!~"),
            "isEqual": m.op in ("=", "=~"),
        }
        for m in parsed
    ]


def matcher_text(m: dict[str, Any]) -> str:
    equal = m.get("isEqual", True)
    op = ("=~" if equal else "!~") if m["isRegex"] else ("=" if equal else "!=")
    return f'{m["name"]}{op}"{m["value"]}"'


@silence_app.command("add")
def add(
    matchers: list[str] = typer.Argument(..., help='e.g. alertname=CheckDown tenant="acme"'),
    comment: str = typer.Option(..., "--comment", "-c"),
    duration: str = typer.Option("1h", "--duration", "-d"),
    author: str = typer.Option("tenantwatch-cli", "--author", "-a"),
    end_on_resolve: bool = typer.Option(
        False, "--end-on-resolve", help="end once the alerts it silences resolve"
    ),
    rrule: str | None = typer.Option(
        None, "--rrule", help="repeat, e.g. 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=2' (each time --duration)"
    ),
    until: str | None = typer.Option(None, "--until", help="with --rrule: repeat until (e.g. 90d)"),
    timezone: str = typer.Option("UTC", "--timezone", help="with --rrule: its timezone"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """Silence alerts matching all matchers; print the silence's ID."""
    now = time.time()
    body: dict[str, Any] = {
        "matchers": api_matchers(matchers),
        "startsAt": format_rfc3339_nano(now),
        "endsAt": format_rfc3339_nano(now + _seconds(duration)),
        "createdBy": author,
        "comment": comment,
        "endOnResolve": end_on_resolve,
    }
    if rrule:
        body["recurrence"] = {"rrule": rrule, "duration": duration, "timezone": timezone}
        body["endsAt"] = format_rfc3339_nano(now + _seconds(until or "365d"))
    answer = api("POST", url, key, "/api/v2/silences", body)
    console.print(answer["silenceID"], highlight=False)


SILENCE_COLUMNS = [
    tables.Col("ID", no_wrap=True),
    tables.Col("matchers", wrap=True),
    tables.Col("state", 1),
    tables.Col("ends", 2),
    tables.Col("created by", 4),
    tables.Col("comment", 3, wrap=True),
]


def minute(iso: str) -> str:
    """An API timestamp to the minute, in UTC: 2026-03-09 14:05 UTC."""
    at = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M} UTC"


def silence_row(s: dict[str, Any]) -> list[str]:
    return [
        s["id"],
        escape(" ".join(matcher_text(m) for m in s["matchers"])),
        s["status"]["state"],
        minute(s["endsAt"]),
        escape(s["createdBy"]),
        escape(s["comment"]),
    ]


@silence_app.command("list")
def list_silences(
    expired: bool = typer.Option(False, "--expired", help="also show expired silences"),
    output: tables.Output = tables.OutputOption,
    wide: bool = tables.WideOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """List silences."""
    rows = [
        s
        for s in api("GET", url, key, "/api/v2/silences")
        if expired or s["status"]["state"] != "expired"
    ]
    if output is tables.Output.JSON:
        tables.print_json(rows)
        return
    cells = [silence_row(s) for s in rows]
    tables.print_table(console, SILENCE_COLUMNS, cells, wide=wide, title="silences")


@silence_app.command("expire")
def expire(
    silence_ids: list[str] = typer.Argument(..., help="IDs of the silences to end now"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """End silences now."""
    for silence_id in silence_ids:
        api("DELETE", url, key, f"/api/v2/silence/{urllib.parse.quote(silence_id)}")
        console.print(f"expired {silence_id}", highlight=False)
