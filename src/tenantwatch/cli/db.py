"""tenantwatch migrate."""

from __future__ import annotations

import asyncio

from tenantwatch.cli.common import console, database_errors, settings_from_env
from tenantwatch.runtime.builders import migrate_database, shown_database


def migrate() -> None:
    """Apply database migrations (serve does this too on start)."""
    settings = settings_from_env()
    with database_errors(settings):
        before, after = asyncio.run(migrate_database(settings))
    if before == after:
        console.print(f"{shown_database(settings)}: already at revision {after}")
    else:
        console.print(f"{shown_database(settings)}: migrated {before or 'empty'} -> {after}")
