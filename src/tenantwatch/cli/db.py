"""tenantwatch migrate."""

from __future__ import annotations

import asyncio

from tenantwatch.adapters.db.engine import create_engine, redact_url
from tenantwatch.adapters.db.migrate import migrate as run_migrations
from tenantwatch.cli.common import console, database_errors, settings_from_env


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

    with database_errors(settings):
        before, after = asyncio.run(main())
    if before == after:
        console.print(f"{redact_url(url)}: already at revision {after}")
    else:
        console.print(f"{redact_url(url)}: migrated {before or 'empty'} -> {after}")
