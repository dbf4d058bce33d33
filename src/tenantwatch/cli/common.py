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
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tenantwatch.config.errors import ConfigError
from tenantwatch.config.model import Config
from tenantwatch.configuration import load_config
from tenantwatch.domain.apikeys import Principal, Scope, effective_scopes
from tenantwatch.domain.config_source import ConfigSource
from tenantwatch.runtime import builders
from tenantwatch.runtime.builders import Services
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


def served_config(settings: Settings, recorded: ConfigSource | None) -> tuple[Settings, Config]:
    """The settings and config a command that only reads uses: the file given, else the
    one the server records it serves from (for custom tiers and receivers), else none.
    Never synced."""
    if settings.config is not None:
        return settings, read_config(settings)
    if recorded is None or recorded.path is None:
        return settings, Config()
    served = settings.model_copy(update={"config": Path(recorded.path)})
    try:
        return served, load_config(Path(recorded.path), dict(os.environ))
    except (ConfigError, OSError):
        err_console.print(
            f"[yellow]note:[/yellow] the server's config {recorded.path} cannot be read here; "
            "custom tiers are unknown (pass --config FILE)",
            highlight=False,
        )
        return settings, Config()


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
            f"[red]cannot use the database {builders.shown_database(settings)}:[/red] "
            f"{type(reason).__name__}: {reason}".splitlines()[0],
            highlight=False,
        )
        raise typer.Exit(1) from None


def config_for_reading(settings: Settings) -> tuple[Settings, Config]:
    """served_config() for a command that does not otherwise open the database."""
    if settings.config is not None or missing_database(settings):
        return settings, read_config(settings)
    try:
        recorded = asyncio.run(builders.recorded_source(settings))
    except (OSError, DBAPIError):
        recorded = None
    return served_config(settings, recorded)


def missing_database(settings: Settings) -> str | None:
    """Why a command that only reads cannot use the database, before touching it, or None."""
    url = make_url(settings.effective_database_url)
    database = url.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if url.get_backend_name() == "sqlite" and on_disk and not Path(database).exists():
        return (
            f"no database at {database}; start the server first (`make run` or "
            "`tenantwatch serve`), or point TENANTWATCH_DATA_DIR / TENANTWATCH_DATABASE_URL "
            "at the server's"
        )
    return None


def with_services(
    settings: Settings,
    work: Callable[[Services, Config], Awaitable[T]],
    *,
    writes: bool = False,
) -> T:
    """Run work against the database's services, with the config served_config() finds;
    service errors become a message and exit 1. Nothing else is built: no metric store,
    scrapers, pushgateway, outbox or workers.

    A command that `writes` (creating a key, running a check) migrates the database
    first. Any other command only reads: it refuses a missing or older database rather
    than create or migrate it. Neither syncs the config file: only `serve` and
    `config apply` do."""
    if not writes and (problem := missing_database(settings)):
        err_console.print(f"[red]error:[/red] {problem}", highlight=False)
        raise typer.Exit(1)

    async def main() -> T:
        if not writes and (problem := await builders.schema_problem(settings)):
            err_console.print(f"[red]error:[/red] {problem}", highlight=False)
            raise typer.Exit(1)
        served, config = served_config(settings, await builders.recorded_source(settings))
        db = builders.open_database(served, config)
        try:
            if writes:
                await db.migrate()
            return await work(builders.build_services(db, config), config)
        finally:
            await db.close()

    try:
        with database_errors(settings):
            return asyncio.run(main())
    except ServiceError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
