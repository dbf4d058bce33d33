"""tenantwatch health [--tenant T] and tenantwatch checks list|run ID.

They show what the server's database holds; they never sync the config file (only
`serve` and `config apply` do), so a shell without TENANTWATCH_CONFIG changes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tenantwatch.cli.common import (
    ConfigOption,
    cli_principal,
    console,
    settings_from_env,
    with_runtime,
)
from tenantwatch.domain.checks import Check, CheckRun, CheckState
from tenantwatch.domain.tenant_health import TenantHealth
from tenantwatch.runtime import Runtime

app = typer.Typer(help="List and run health checks.", no_args_is_help=True)

_COLOUR = {
    "healthy": "green",
    "up": "green",
    "degraded": "yellow",
    "unhealthy": "red",
    "down": "red",
    "unknown": "dim",
}


def _status(text: str) -> str:
    return f"[{_COLOUR.get(text, 'white')}]{text}[/]"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def health(
    tenant: str | None = typer.Option(None, "--tenant", help="only this tenant, with its checks"),
    config: Path | None = ConfigOption,
) -> None:
    """Show each tenant's health: status, score and checks up/down."""

    async def work(
        rt: Runtime,
    ) -> tuple[list[TenantHealth], list[tuple[Check, CheckState]], dict[str, str]]:
        who = cli_principal()
        if tenant is None:
            return list(await rt.checks.platform(who)), [], {}
        page = await rt.checks.list(who, tenant_id=tenant, limit=1000)
        rows = list(page.items)
        return [await rt.checks.health(who, tenant)], rows, await strips(rt, rows)

    healths, checks, strip = with_runtime(settings_from_env(config), work)
    table = Table(title="tenant health")
    for col in ("tenant", "status", "score", "up", "down", "avg response", "why"):
        table.add_column(col, justify="right" if col in ("score", "up", "down") else "left")
    for h in sorted(healths, key=lambda h: (h.score if h.score is not None else 101, h.tenant_id)):
        avg = f"{h.avg_response_time_ms:.0f} ms" if h.avg_response_time_ms is not None else "-"
        table.add_row(
            h.tenant_id,
            _status(str(h.status)),
            "-" if h.score is None else f"{h.score:g}",
            str(h.checks_up),
            str(h.checks_down),
            avg,
            "; ".join(h.reasons[:2]),
        )
    console.print(table)
    if checks:
        _print_checks(checks, strip)


HOURS = 24
STRIP_LIMIT = 200  # checks; above this the uptime strip is left out (one query per check)


def uptime_strip(buckets: Sequence[Any], end: datetime, hours: int = HOURS) -> str:
    """One character per hour, oldest first, as status pages draw uptime: a green block for
    an hour without failures, yellow for at least 99%, red below, a dim dot without runs."""
    by_hour = {b.bucket: b for b in buckets}
    last = end.replace(minute=0, second=0, microsecond=0)
    out = []
    for i in range(hours - 1, -1, -1):
        b = by_hour.get(last - timedelta(hours=i))
        if b is None or not b.runs:
            out.append("[dim]·[/]")
        elif b.ok_runs == b.runs:
            out.append("[green]█[/]")
        elif b.ok_runs / b.runs >= 0.99:
            out.append("[yellow]▆[/]")
        else:
            out.append("[red]▃[/]")
    return "".join(out)


async def strips(rt: Runtime, rows: Sequence[tuple[Check, CheckState]]) -> dict[str, str]:
    """The last day's uptime strip of each check (none when there are too many checks)."""
    if len(rows) > STRIP_LIMIT:
        return {}
    now = rt.ctx.clock()
    since = now - timedelta(hours=HOURS)
    out = {}
    for c, _ in rows:
        buckets = await rt.checks.uptime(cli_principal(), c.id, resolution="1h", since=since)
        out[c.id] = uptime_strip(buckets, now)
    return out


def _print_checks(
    rows: Sequence[tuple[Check, CheckState]], strip: Mapping[str, str] | None = None
) -> None:
    table = Table(title="checks")
    columns = ["id", "tenant", "kind", "state", "since", "last run", "last", "error"]
    if strip:
        columns.insert(4, f"last {HOURS}h")
    for col in columns:
        table.add_column(col, no_wrap=col.startswith("last "))
    for c, s in rows:
        cells = [
            c.id,
            c.tenant_id,
            str(c.kind),
            _status(str(s.status)),
            s.since.strftime("%Y-%m-%d %H:%M:%S") if s.since else "-",
            s.last_run_at.strftime("%H:%M:%S") if s.last_run_at else "-",
            _ms(s.last_duration_s),
            (s.last_error or "")[:60],
        ]
        if strip:
            cells.insert(4, strip.get(c.id, ""))
        table.add_row(*cells)
    console.print(table)


@app.command("list")
def list_(
    tenant: str | None = typer.Option(None, "--tenant", help="only this tenant"),
    config: Path | None = ConfigOption,
) -> None:
    """List checks with their state."""

    async def work(rt: Runtime) -> tuple[list[tuple[Check, CheckState]], dict[str, str]]:
        out: list[tuple[Check, CheckState]] = []
        cursor = None
        while True:
            page = await rt.checks.list(cli_principal(), tenant_id=tenant, cursor=cursor, limit=500)
            out += page.items
            if page.next_cursor is None:
                return out, await strips(rt, out)
            cursor = page.next_cursor

    rows, strip = with_runtime(settings_from_env(config), work)
    _print_checks(rows, strip)
    console.print(f"{len(rows)} checks")


@app.command("run")
def run(
    check_id: str = typer.Argument(..., help="the check's id", show_default=False),
    config: Path | None = ConfigOption,
) -> None:
    """Run one check now, record the result and print it."""

    async def work(rt: Runtime) -> CheckRun:
        check = await rt.checks.runnable(cli_principal(), check_id)
        runs, _ = await rt.check_engine.run_now([check])
        return runs[0]

    result = with_runtime(settings_from_env(config), work, writes=True)
    verdict = "[green]passed[/green]" if result.ok else "[red]failed[/red]"
    console.print(f"{result.check_id}: {verdict} in {_ms(result.duration_s)}")
    if result.status_code is not None:
        console.print(f"  status {result.status_code}")
    for name, seconds in result.phases.items():
        console.print(f"  {name:<11}{_ms(seconds)}")
    for c in result.conditions:
        mark = "[green]✓[/green]" if c.ok else "[red]✗[/red]"
        console.print(f"  {mark} {c.detail}", highlight=False)
    if result.error:
        console.print(f"  [red]{result.error}[/red]", highlight=False)
    if not result.ok:
        raise typer.Exit(1)
