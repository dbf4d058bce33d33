"""tenantwatch config check FILE and config apply FILE."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

from tenantwatch.cli.common import (
    console,
    database_errors,
    err_console,
    read_config,
    settings_from_env,
)
from tenantwatch.config.errors import ConfigError
from tenantwatch.configuration import load_config
from tenantwatch.runtime import builders
from tenantwatch.services.config_sync import ConfigSyncReport
from tenantwatch.services.errors import ServiceError

app = typer.Typer(help="Work with tenantwatch.yml.", no_args_is_help=True)


@app.command("check")
def check(
    files: list[Path] = typer.Argument(..., help="config files to check", show_default=False),
) -> None:
    """Check config files; print every problem as file:line: message and exit 1 if any."""
    failed = False
    for file in files:
        try:
            config = load_config(file, dict(os.environ))
        except ConfigError as exc:
            failed = True
            for issue in exc.issues:
                err_console.print(str(issue), markup=False, highlight=False)
            continue
        console.print(
            f"{file}: OK ({len(config.tenants)} tenants, {len(config.tiers)} custom tiers, "
            f"{len(config.scrape_configs)} scrape jobs)",
            markup=False,
            highlight=False,
        )
    if failed:
        raise typer.Exit(1)


def sync_summary(report: ConfigSyncReport) -> list[str]:
    """What a config sync changed, a line per kind of change (none when nothing changed)."""
    t, c = report.tenants, report.checks
    parts = [
        ("tenants created", t.created),
        ("tenants changed", t.updated),
        ("tenants released to the API", t.released),
        ("checks created", c.created),
        ("checks changed", c.updated),
        ("checks restored", c.restored),
        ("checks archived (no longer declared; history kept)", c.archived),
    ]
    return [f"{what}: {', '.join(ids)}" for what, ids in parts if ids]


@app.command("apply")
def apply(
    file: Path = typer.Argument(..., help="the config file to sync", show_default=False),
    force: bool = typer.Option(
        False, "--force", help="also when it would archive every check and release every tenant"
    ),
) -> None:
    """Sync FILE's tenants and checks into the database and make it the file the server
    serves from (a later `serve` must use it). Checks it no longer declares are archived
    with their history; tenants it no longer declares are released to the API."""
    settings = settings_from_env(file)
    config = read_config(settings, exit_code=1)

    async def main() -> ConfigSyncReport:
        db = builders.open_database(settings, config)
        try:
            services = builders.build_services(db, config)
            await db.migrate()
            return await builders.sync_config(services, settings, config, force=force, switch=True)
        finally:
            await db.close()

    try:
        with database_errors(settings):
            report = asyncio.run(main())
    except ServiceError as exc:
        err_console.print(f"[red]not applied:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    lines = sync_summary(report)
    console.print(f"{file}: applied", markup=False, highlight=False)
    for line in lines or ["nothing changed"]:
        console.print(f"  {line}", markup=False, highlight=False)
    console.print(
        "  a running server keeps its rules and receivers until it restarts with this file",
        markup=False,
        highlight=False,
    )
