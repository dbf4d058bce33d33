"""What every command shares: settings from the environment, config loading, async running."""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from tenantwatch.adapters.db.engine import redact_url
from tenantwatch.config import Config, ConfigError, load_config
from tenantwatch.domain.apikeys import Principal, Scope, effective_scopes
from tenantwatch.runtime import Runtime, build_runtime
from tenantwatch.services.errors import ServiceError
from tenantwatch.settings import Settings

T = TypeVar("T")
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    help="tenantwatch.yml (default: $TENANTWATCH_CONFIG)",
    show_default=False,
)


def settings_from_env(config: Path | None = None) -> Settings:
    """Return Settings from TENANTWATCH_* variables, with a --config given on the command line."""
    try:
        settings = Settings()
    except Exception as exc:  # pydantic's message names the variable
        err_console.print(f"[red]invalid TENANTWATCH_* setting:[/red] {exc}")
        raise typer.Exit(2) from None
    if config is not None:
        settings = settings.model_copy(update={"config": config})
    return settings


def read_config(settings: Settings, exit_code: int = 2) -> Config:
    """Return the config named by the settings (empty without one); print errors and exit."""
    if settings.config is None:
        return Config()
    try:
        return load_config(settings.config, dict(os.environ))
    except ConfigError as exc:
        for issue in exc.issues:
            err_console.print(str(issue), markup=False, highlight=False)
        raise typer.Exit(exit_code) from None


def cli_principal() -> Principal:
    """The operator at the terminal: full rights, recorded in the audit log by user name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Principal(actor=f"cli:{user}", scopes=effective_scopes([Scope.ADMIN]))


@contextmanager
def database_errors(settings: Settings) -> Iterator[None]:
    """Turn a database that cannot be reached or used into one clear line and exit 1."""
    try:
        yield
    except (OSError, DBAPIError) as exc:
        reason = getattr(exc, "orig", None) or exc
        err_console.print(
            f"[red]cannot use the database {redact_url(settings.effective_database_url)}:[/red] "
            f"{type(reason).__name__}: {reason}".splitlines()[0],
            highlight=False,
        )
        raise typer.Exit(1) from None


def with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run work against a migrated database; service errors become a message and exit 1."""
    config = read_config(settings)

    async def main() -> T:
        from tenantwatch.adapters.db.migrate import migrate

        rt = build_runtime(settings, config)
        try:
            await migrate(rt.engine)
            return await work(rt)
        finally:
            await rt.close()

    try:
        with database_errors(settings):
            return asyncio.run(main())
    except ServiceError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
