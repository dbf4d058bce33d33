"""tenantwatch config check FILE."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from tenantwatch.cli.common import console, err_console
from tenantwatch.config import ConfigError, load_config

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
