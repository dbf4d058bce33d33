"""tenantwatch health [--tenant T] and tenantwatch checks list|run ID.

They show what the server's database holds; they never sync the config file (only
`serve` and `config apply` do), so a shell without TENANTWATCH_CONFIG changes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from tenantwatch.cli import numbers, tables
from tenantwatch.cli.common import (
    ConfigOption,
    cli_principal,
    console,
    settings_from_env,
    with_services,
)
from tenantwatch.config.model import Config
from tenantwatch.domain.check_record import cli_values
from tenantwatch.domain.checks import Check, CheckRun, CheckState
from tenantwatch.domain.health_score import WEIGHTS
from tenantwatch.domain.tenant_health import TenantHealth
from tenantwatch.runtime.builders import Services
from tenantwatch.runtime.root import build_check_engine

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
    return numbers.milliseconds(seconds)


def health(
    output: tables.Output = tables.OutputOption,
    wide: bool = tables.WideOption,
    tenant: str | None = typer.Option(None, "--tenant", help="only this tenant, with its checks"),
    config: Path | None = ConfigOption,
) -> None:
    """Show each tenant's health, lowest score first: status, score and its components.

    The score (0-100) is 0.4 x uptime + 0.3 x latency + 0.2 x errors + 0.1 x cpu/mem, those
    four columns being its component scores (0-100; the API's uptime, response_time,
    error_rate and resource_utilization). -o json adds each component's weight and
    weighted part. docs/health-checks.md says what feeds each component."""

    async def work(
        services: Services, _: Config
    ) -> tuple[list[TenantHealth], list[tuple[Check, CheckState]], dict[str, str]]:
        who = cli_principal()
        if tenant is None:
            return list(await services.checks.platform(who)), [], {}
        page = await services.checks.list(who, tenant_id=tenant, limit=1000)
        rows = list(page.items)
        return [await services.checks.health(who, tenant)], rows, await strips(services, rows)

    healths, checks, strip = with_services(settings_from_env(config), work)
    _print_health(healths, checks, strip, output, wide)


HEALTH_COLUMNS = [
    tables.Col("tenant", no_wrap=True),
    tables.Col("status"),
    tables.Col("score", justify="right"),
    # the score's components, in WEIGHTS order
    tables.Col("uptime", 1, justify="right"),
    tables.Col("latency", 1, justify="right"),
    tables.Col("errors", 1, justify="right"),
    tables.Col("cpu/mem", 1, justify="right"),
    tables.Col("up", 2, justify="right"),
    tables.Col("down", 2, justify="right"),
    tables.Col("avg response", 4, justify="right"),
    tables.Col("why", 3, wrap=True),
]


def _component_cells(h: TenantHealth) -> list[str]:
    scores = {c.name: c.score for c in h.components}
    return [numbers.score(scores.get(name)) for name in WEIGHTS]


def health_json(h: TenantHealth) -> dict[str, object]:
    """A tenant's health as `-o json` prints it: each component with its weighted part."""
    components = [{**tables.plain(c), "weighted": c.weighted} for c in h.components]
    return {**tables.plain(h), "components": components}


def _print_health(
    healths: Sequence[TenantHealth],
    checks: Sequence[tuple[Check, CheckState]],
    strip: Mapping[str, str],
    output: tables.Output,
    wide: bool,
) -> None:
    ordered = sorted(healths, key=lambda h: (101 if h.score is None else h.score, h.tenant_id))
    if output is tables.Output.JSON:
        tables.print_json(
            {
                "tenants": [health_json(h) for h in ordered],
                "checks": [check_json(c, s) for c, s in checks],
            }
        )
        return
    rows = [
        [
            h.tenant_id,
            _status(str(h.status)),
            numbers.score(h.score),
            *_component_cells(h),
            str(h.checks_up),
            str(h.checks_down),
            numbers.milliseconds(
                None if h.avg_response_time_ms is None else h.avg_response_time_ms / 1000
            ),
            escape("; ".join(h.reasons[:2])),
        ]
        for h in ordered
    ]
    tables.print_table(console, HEALTH_COLUMNS, rows, wide=wide, title="tenant health")
    if checks:
        _print_checks(checks, strip, wide)


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


async def strips(services: Services, rows: Sequence[tuple[Check, CheckState]]) -> dict[str, str]:
    """The last day's uptime strip of each check (none when there are too many checks)."""
    if len(rows) > STRIP_LIMIT:
        return {}
    now = services.ctx.clock()
    since = now - timedelta(hours=HOURS)
    out = {}
    for c, _ in rows:
        buckets = await services.checks.uptime(cli_principal(), c.id, resolution="1h", since=since)
        out[c.id] = uptime_strip(buckets, now)
    return out


def check_json(c: Check, s: CheckState) -> dict[str, object]:
    """A check and its state as `-o json` prints it: secrets hidden, no heartbeat token."""
    return {**cli_values(c), "state": s}


def _print_checks(
    rows: Sequence[tuple[Check, CheckState]],
    strip: Mapping[str, str] | None = None,
    wide: bool = False,
) -> None:
    columns = [
        tables.Col("id", no_wrap=True),
        tables.Col("tenant", 2),
        tables.Col("kind", 3),
        tables.Col("state"),
        tables.Col("since", 6),
        tables.Col("last run", 4, no_wrap=True),
        tables.Col("last", 2, justify="right", no_wrap=True),
        tables.Col("error", 1, wrap=True),
    ]
    if strip:
        columns.insert(4, tables.Col(f"last {HOURS}h", 5, no_wrap=True))
    cells = []
    for c, s in rows:
        row = [
            c.id,
            c.tenant_id,
            str(c.kind),
            _status(str(s.status)),
            s.since.strftime("%Y-%m-%d %H:%M:%S") if s.since else "-",
            s.last_run_at.strftime("%H:%M:%S") if s.last_run_at else "-",
            _ms(s.last_duration_s),
            escape((s.last_error or "")[:60]),
        ]
        if strip:
            row.insert(4, strip.get(c.id, ""))
        cells.append(row)
    tables.print_table(console, columns, cells, wide=wide, title="checks")


@app.command("list")
def list_(
    output: tables.Output = tables.OutputOption,
    wide: bool = tables.WideOption,
    tenant: str | None = typer.Option(None, "--tenant", help="only this tenant"),
    config: Path | None = ConfigOption,
) -> None:
    """List checks with their state."""

    async def work(
        services: Services, _: Config
    ) -> tuple[list[tuple[Check, CheckState]], dict[str, str]]:
        out: list[tuple[Check, CheckState]] = []
        cursor = None
        while True:
            page = await services.checks.list(
                cli_principal(), tenant_id=tenant, cursor=cursor, limit=500
            )
            out += page.items
            if page.next_cursor is None:
                return out, await strips(services, out)
            cursor = page.next_cursor

    rows, strip = with_services(settings_from_env(config), work)
    if output is tables.Output.JSON:
        tables.print_json([check_json(c, s) for c, s in rows])
        return
    _print_checks(rows, strip, wide)
    console.print(f"{len(rows)} checks")


@app.command("run")
def run(
    check_id: str = typer.Argument(..., help="the check's id", show_default=False),
    config: Path | None = ConfigOption,
) -> None:
    """Run one check now, record the result and print it."""

    async def work(services: Services, config: Config) -> CheckRun:
        check = await services.checks.runnable(cli_principal(), check_id)
        engine = build_check_engine(services, config)
        try:
            runs, _ = await engine.run_now([check])
        finally:
            await engine.stop()
        return runs[0]

    result = with_services(settings_from_env(config), work, writes=True)
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
