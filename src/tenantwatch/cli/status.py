"""tenantwatch status: a platform overview."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from tenantwatch.cli.common import (
    ConfigOption,
    cli_principal,
    console,
    settings_from_env,
    with_services,
)
from tenantwatch.config.model import Config
from tenantwatch.runtime.builders import Services, shown_database


def status(config: Path | None = ConfigOption) -> None:
    """Show the platform at a glance: tenants by tier and status."""
    settings = settings_from_env(config)

    async def work(services: Services, _: Config) -> tuple[list[tuple[str, str, int]], list[str]]:
        return list(await services.tenants.counts(cli_principal())), services.ctx.tiers.names()

    counts, tiers = with_services(settings, work)
    statuses = ["active", "suspended"]
    grid = {(tier, st): n for tier, st, n in counts}
    table = Table(title="tenants by tier and status")
    table.add_column("tier")
    for st in statuses:
        table.add_column(st, justify="right")
    table.add_column("total", justify="right", style="bold")
    for tier in sorted(set(tiers) | {t for t, _, _ in counts}):
        row = [grid.get((tier, st), 0) for st in statuses]
        table.add_row(tier, *(str(n) for n in row), str(sum(row)))
    totals = [
        sum(grid.get((t, st), 0) for t in set(tiers) | {t for t, _, _ in counts}) for st in statuses
    ]
    table.add_row("all", *(str(n) for n in totals), str(sum(totals)), style="bold")
    console.print(f"database: {shown_database(settings)}")
    console.print(table)
