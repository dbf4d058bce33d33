"""tenantwatch apikey create|list|revoke."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.markup import escape

from tenantwatch.cli import tables
from tenantwatch.cli.common import cli_principal, console, settings_from_env, with_services
from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import ApiKey, Scope
from tenantwatch.runtime.builders import Services
from tenantwatch.services.apikeys import IssuedKey

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@app.command("create")
def create(
    scope: list[Scope] = typer.Option(
        ..., "--scope", help="repeat for several", show_default=False
    ),
    tenant: str | None = typer.Option(None, "--tenant", help="bind the key to this tenant"),
    name: str = typer.Option("cli", "--name", help="what the key is for"),
) -> None:
    """Issue an API key. The key is printed once, alone on the last line."""

    async def work(services: Services, _: Config) -> IssuedKey:
        return await services.api_keys.issue(
            cli_principal(), name=name, scopes=scope, tenant_id=tenant
        )

    issued = with_services(settings_from_env(), work, writes=True)
    bound = f" bound to tenant {issued.key.tenant_id}" if issued.key.tenant_id else ""
    scopes = ", ".join(str(s) for s in issued.key.scopes)
    console.print(f"created API key {issued.key.id} ({scopes}){bound}; it is shown only now:")
    print(issued.secret)  # plain, so scripts can take the last line


KEY_COLUMNS = [
    tables.Col("id", no_wrap=True),
    tables.Col("name", 1, wrap=True),
    tables.Col("prefix", 5, no_wrap=True),
    tables.Col("scopes", wrap=True),
    tables.Col("tenant"),
    tables.Col("created", 4),
    tables.Col("last used", 2),
    tables.Col("revoked", 3),
]


def _minute(at: datetime | None, empty: str = "") -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else empty


def key_row(k: ApiKey) -> list[str]:
    cells = [
        k.id,
        escape(k.name),
        k.prefix + "…",
        ", ".join(str(s) for s in k.scopes),
        k.tenant_id or "*",
        _minute(k.created_at),
        _minute(k.last_used_at, "never"),
        _minute(k.revoked_at),
    ]
    return [f"[dim]{c}[/]" for c in cells] if k.revoked_at else cells


@app.command("list")
def list_(
    include_revoked: bool = typer.Option(False, "--all", help="include revoked keys"),
    output: tables.Output = tables.OutputOption,
    wide: bool = tables.WideOption,
) -> None:
    """List API keys (never their secrets)."""

    async def work(services: Services, _: Config) -> list[ApiKey]:
        out: list[ApiKey] = []
        cursor = None
        while True:
            page = await services.api_keys.list(
                cli_principal(), cursor=cursor, limit=500, include_revoked=include_revoked
            )
            out.extend(page.items)
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    keys = with_services(settings_from_env(), work)
    if output is tables.Output.JSON:
        tables.print_json(keys)
        return
    tables.print_table(
        console, KEY_COLUMNS, [key_row(k) for k in keys], wide=wide, title=f"{len(keys)} API keys"
    )


@app.command("revoke")
def revoke(
    key_id: str = typer.Argument(..., help="the key's id (k_...)", show_default=False),
) -> None:
    """Revoke an API key; requests with it get 401 from then on."""

    async def work(services: Services, _: Config) -> ApiKey:
        return await services.api_keys.revoke(cli_principal(), key_id)

    key = with_services(settings_from_env(), work, writes=True)
    console.print(f"revoked API key {key.id} ({key.name})")
