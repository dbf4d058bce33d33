"""tenantwatch sla status | report: tenants by SLA compliance, and SLA reports (JSON, CSV,
PDF) from a running tenantwatch, one tenant's or every tenant's with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tenantwatch import jsonio
from tenantwatch.cli import tables
from tenantwatch.cli.common import console, err_console, settings_from_env
from tenantwatch.cli.query import QueryFailed, base_url, fetch, resolve_key

app = typer.Typer(help="SLA compliance and reports.", no_args_is_help=True)
REPORTS = "/api/v1/monitoring/reports/sla"
PeriodOption = typer.Option(
    "monthly",
    "--period",
    help="daily, weekly, monthly, quarterly, yearly (calendar, in each tenant's timezone) "
    "or 7d, 28d, 30d (rolling)",
)
DateOption = typer.Option(
    None, "--date", help="a date (YYYY-MM-DD) in the period to report; default the current one"
)
UrlOption = typer.Option(None, "--url", help="tenantwatch's URL (default: the local server)")
KeyOption = typer.Option(
    None, "--key", envvar="TENANTWATCH_API_KEY", help="API key (default: the saved admin key)"
)


def _get(url: str | None, key: str | None, path: str, params: dict[str, str]) -> bytes:
    settings = settings_from_env()
    try:
        return fetch(base_url(url, settings), path, resolve_key(key, settings), params=params)
    except QueryFailed as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


def _params(period: str, day: str | None, **more: str) -> dict[str, str]:
    out = {"period": period, **more}
    if day:
        out["date"] = day
    return out


def _pct(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}%"


STATUS_COLUMNS = [
    tables.Col("tenant", no_wrap=True),
    tables.Col("tier"),
    tables.Col("SLA", justify="center"),
    tables.Col("availability", justify="right"),
    tables.Col("target", 1, justify="right"),
    tables.Col("budget left", 1, justify="right"),
    tables.Col("error rate", 2, justify="right"),
    tables.Col("health", 2, justify="right"),
    tables.Col("credit", 2, justify="right"),
    tables.Col("violations", 3, wrap=True),
]


def _target(row: dict[str, Any]) -> Any:
    for o in row["objectives"]:
        if o["objective"] == "availability_percentage":
            return o["target"]
    return None


@app.command()
def status(
    period: str = PeriodOption,
    day: str | None = DateOption,
    output: tables.Output = tables.OutputOption,
    wide: bool = tables.WideOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """Every tenant's SLA for the period, the ones in breach first."""
    answer = jsonio.loads(_get(url, key, REPORTS, _params(period, day, format="json")))
    rows = sorted(
        answer["tenants"],
        key=lambda t: (t["sla_compliance"], float(t["availability"] or 101), t["tenant_id"]),
    )
    if output is tables.Output.JSON:
        tables.print_json({**answer, "tenants": rows})
        return
    table = []
    for t in rows:
        budget = t["error_budget"]
        table.append(
            [
                t["tenant_id"],
                t["tier"],
                "[green]met[/green]" if t["sla_compliance"] else "[red]missed[/red]",
                _pct(t["availability"]),
                _pct(_target(t), 2),
                "-" if budget is None else _pct(float(budget["remaining_ratio"]) * 100, 1),
                _pct(t["error_rate"], 2),
                f"{t['health_score']:.1f}",
                _pct(t["credit_percentage"], 0),
                escape("; ".join(t["violations"])),
            ]
        )
    overall = answer["overall_compliance"]
    title = f"SLA {period}: {answer['compliant_tenants']}/{answer['total_tenants']} tenants met"
    if overall is not None:
        title += f" ({float(overall):g}%)"
    tables.print_table(console, STATUS_COLUMNS, table, wide=wide, title=title)


def _write(data: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)


def _tenant_ids(url: str | None, key: str | None) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        page = jsonio.loads(_get(url, key, "/api/v1/tenants", params))
        ids += [t["id"] for t in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            return ids


@app.command()
def report(
    tenant: str | None = typer.Option(
        None, "--tenant", help="one tenant's report; without it, every tenant's and a summary"
    ),
    period: str = PeriodOption,
    day: str | None = DateOption,
    form: str = typer.Option("json", "--format", help="json, csv or pdf"),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="the file to write (one tenant), or the directory for every tenant's files; "
        "default: standard output for one tenant's json or csv",
    ),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """Write an SLA report: `--tenant T --format pdf -o report.pdf`, or every tenant's
    report and the platform summary into a directory (`-o reports/`)."""
    if form not in ("json", "csv", "pdf"):
        err_console.print("[red]--format:[/red] use json, csv or pdf")
        raise typer.Exit(2)
    if tenant is not None:
        if out is None and form == "pdf":
            err_console.print("[red]-o:[/red] a PDF goes to a file; add e.g. -o report.pdf")
            raise typer.Exit(2)
        _write(_get(url, key, REPORTS, _params(period, day, tenant_id=tenant, format=form)), out)
        if out is not None:
            err_console.print(f"wrote {out}", highlight=False)
        return
    if out is None:
        err_console.print("[red]-o:[/red] name a directory for every tenant's reports")
        raise typer.Exit(2)
    out.mkdir(parents=True, exist_ok=True)
    ids = _tenant_ids(url, key)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task("SLA reports", total=len(ids) + 1)
        for tenant_id in ids:
            params = _params(period, day, tenant_id=tenant_id, format=form)
            _write(_get(url, key, REPORTS, params), out / f"{tenant_id}-{period}.{form}")
            bar.advance(task)
        summary = _get(url, key, REPORTS, _params(period, day, format=form))
        _write(summary, out / f"platform-{period}.{form}")
        bar.advance(task)
    err_console.print(f"wrote {len(ids)} tenant reports and the summary to {out}/", highlight=False)
