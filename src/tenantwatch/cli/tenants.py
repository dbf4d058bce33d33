"""tenantwatch tenant create|list|show."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from tenantwatch.cli import tables
from tenantwatch.cli.common import (
    ConfigOption,
    cli_principal,
    console,
    err_console,
    settings_from_env,
    with_services,
)
from tenantwatch.config.model import Config
from tenantwatch.domain.tenants import Tenant, TenantStatus
from tenantwatch.runtime.builders import Services
from tenantwatch.services.tenants import TenantInput

app = typer.Typer(help="Manage tenants.", no_args_is_help=True)


def _labels(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            err_console.print(f"[red]--label {pair!r}:[/red] write it as name=value")
            raise typer.Exit(2)
        out[name] = value
    return out


@app.command("create")
def create(
    tenant_id: str = typer.Argument(..., help="slug, e.g. acme-corp", show_default=False),
    name: str = typer.Option(..., "--name", help="display name", show_default=False),
    tier: str = typer.Option("basic", "--tier", help="basic, professional, enterprise or custom"),
    timezone: str = typer.Option("UTC", "--timezone", help="IANA timezone"),
    label: list[str] = typer.Option([], "--label", help="name=value; repeat for more"),
    config: Path | None = ConfigOption,
) -> None:
    """Create a tenant."""
    data = TenantInput(id=tenant_id, name=name, tier=tier, timezone=timezone, labels=_labels(label))

    async def work(services: Services, _: Config) -> Tenant:
        return await services.tenants.create(cli_principal(), data)

    tenant = with_services(settings_from_env(config), work, writes=True)
    console.print(f"created tenant [bold]{tenant.id}[/bold] ({tenant.tier})")


TENANT_COLUMNS = [
    tables.Col("id", no_wrap=True),
    tables.Col("name", 2, wrap=True),
    tables.Col("tier", 1),
    tables.Col("status"),
    tables.Col("timezone", 3),
    tables.Col("labels", 4, wrap=True),
    tables.Col("managed by", 3),
]


def tenant_row(t: Tenant) -> list[str]:
    return [
        t.id,
        escape(t.name),
        t.tier,
        f"[yellow]{t.status}[/]" if t.status == TenantStatus.SUSPENDED else str(t.status),
        t.timezone,
        escape(", ".join(f"{k}={v}" for k, v in sorted(t.labels.items()))),
        t.managed_by,
    ]


@app.command("list")
def list_(
    tier: str | None = typer.Option(None, "--tier", help="only this tier"),
    status: TenantStatus | None = typer.Option(None, "--status", help="active or suspended"),
    output: tables.Output = tables.OutputOption,
    wide: bool = tables.WideOption,
    config: Path | None = ConfigOption,
) -> None:
    """List tenants as a table (or JSON)."""

    async def work(services: Services, _: Config) -> list[Tenant]:
        return await services.tenants.all(
            cli_principal(), tier=tier, status=str(status) if status else None
        )

    tenants = with_services(settings_from_env(config), work)
    if output is tables.Output.JSON:
        tables.print_json(tenants)
        return
    tables.print_table(
        console,
        TENANT_COLUMNS,
        [tenant_row(t) for t in tenants],
        wide=wide,
        title=f"{len(tenants)} tenants",
    )


@app.command("show")
def show(
    tenant_id: str = typer.Argument(..., show_default=False),
    config: Path | None = ConfigOption,
) -> None:
    """Show one tenant with its effective SLA targets."""

    async def work(services: Services, _: Config) -> tuple[Tenant, Services]:
        return await services.tenants.get(cli_principal(), tenant_id), services

    tenant, services = with_services(settings_from_env(config), work)
    sla = services.ctx.tiers.effective_sla(tenant.tier, tenant.sla_overrides)
    table = Table(show_header=False, title=f"tenant {tenant.id}")
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("name", tenant.name),
        ("tier", tenant.tier),
        ("status", str(tenant.status)),
        ("timezone", tenant.timezone),
        ("labels", ", ".join(f"{k}={v}" for k, v in sorted(tenant.labels.items())) or "-"),
        ("managed by", tenant.managed_by),
        ("created", f"{tenant.created_at:%Y-%m-%d %H:%M:%S} UTC" if tenant.created_at else "-"),
    ]
    for key, target in sla.as_dict().items():
        marker = " (override)" if key in tenant.sla_overrides else ""
        rows.append((f"sla {key}", f"{target}{marker}"))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
