"""tenantwatch migrate."""

from __future__ import annotations

import asyncio

import typer

from tenantwatch.adapters.db.engine import create_engine, redact_url
from tenantwatch.adapters.db.migrate import migrate as run_migrations
from tenantwatch.cli.common import console, err_console, settings_from_env


def migrate() -> None:
    """Apply database migrations (serve does this too on start)."""
    settings = settings_from_env()
    url = settings.effective_database_url

    async def main() -> tuple[str | None, str | None]:
        engine = create_engine(url)
        try:
            return await run_migrations(engine)
        finally:
            await engine.dispose()

    try:
        before, after = asyncio.run(main())
    except OSError as exc:
        err_console.print(f"[red]cannot reach the database {redact_url(url)}:[/red] {exc}")
        raise typer.Exit(1) from None
    if before == after:
        console.print(f"{redact_url(url)}: already at revision {after}")
    else:
        console.print(f"{redact_url(url)}: migrated {before or 'empty'} -> {after}")
