"""tenantwatch serve: migrate, sync the config, make sure an admin key exists, serve HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
from collections.abc import Callable, Collection
from pathlib import Path

import typer
import uvicorn

from tenantwatch.cli.banner import ServeRole, print_banner
from tenantwatch.cli.common import (
    ConfigOption,
    console,
    database_errors,
    err_console,
    read_config,
    settings_from_env,
)
from tenantwatch.config.model import Config
from tenantwatch.logs import configure_logging
from tenantwatch.runtime import builders
from tenantwatch.runtime.hangup import reload_on_hangup
from tenantwatch.runtime.root import ALL_ROLES, Role, Runtime, build_runtime
from tenantwatch.services.config_sync import ConfigSyncReport
from tenantwatch.services.errors import ServiceError
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app

# what each --role runs
ROLES: dict[ServeRole, frozenset[Role]] = {
    ServeRole.ALL: ALL_ROLES,
    ServeRole.API: frozenset({Role.API}),
    ServeRole.CHECKS: frozenset({Role.CHECKS}),
}


def save_key(path: Path, secret: str) -> str | None:
    """Write the key readable by its owner only; return why it could not be written, or None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def port_problem(host: str, port: int) -> str | None:
    """Return why the server could not listen on host:port, or None when it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


async def _bootstrap(
    settings: Settings, config: Config, force: bool
) -> tuple[ConfigSyncReport, str | None]:
    """Migrate, sync the config and make sure an admin key exists, before serving."""
    db = builders.open_database(settings, config)
    try:
        services = builders.build_services(db, config)
        await db.migrate()
        report = await builders.sync_config(services, settings, config, force=force)
        issued = await services.api_keys.ensure_admin()
    finally:
        await db.close()
    return report, issued.secret if issued else None


async def _run_checks(settings: Settings, config: Config, force: bool) -> None:
    """Run only the check scheduler until SIGINT or SIGTERM (no HTTP server)."""
    rt = build_runtime(settings, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await rt.start({Role.CHECKS}, force=force)
        await stop.wait()
    finally:
        await rt.stop()


def tune_gc() -> None:
    """Collect garbage less often than CPython's default (700, 10, 10).

    A server keeps many long-lived objects (alerts, series, checks, caches), and under
    load the default thresholds rescan them all the time: on POST /api/v2/alerts the
    collector took about 40% of the CPU. What startup made is frozen out of its sight.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def serve(
    config: Path | None = ConfigOption,
    listen: str | None = typer.Option(None, "--listen", help="host:port (default 127.0.0.1:8080)"),
    role: ServeRole = typer.Option(
        ServeRole.ALL, "--role", help="which parts of tenantwatch to run"
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="sync the config even if the database is served from another file, or if it "
        "would archive every check and release every tenant",
    ),
) -> None:
    """Start tenantwatch: apply migrations, sync tenants from the config, serve the API."""
    settings = settings_from_env(config)
    if listen is not None:
        try:
            settings = Settings.model_validate({**settings.model_dump(), "listen": listen})
        except ValueError as exc:
            err_console.print(f"[red]--listen:[/red] {exc}")
            raise typer.Exit(2) from None
    cfg = read_config(settings, exit_code=2)
    if role is ServeRole.CHECKS:
        configure_logging(settings.log_level, settings.log_format)
        console.print(
            f"[bold]tenantwatch[/bold] (checks role) on {builders.shown_database(settings)}"
        )
        tune_gc()
        try:
            with database_errors(settings):
                asyncio.run(_run_checks(settings, cfg, force))
        except ServiceError as exc:
            err_console.print(f"[red]cannot apply the config:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        return
    if problem := port_problem(settings.host, settings.port):
        err_console.print(
            f"[red]cannot listen on {settings.listen}:[/red] {problem}; is tenantwatch already "
            "running? Choose another address with --listen or TENANTWATCH_LISTEN",
            highlight=False,
        )
        raise typer.Exit(1)
    configure_logging(settings.log_level, settings.log_format)
    try:
        with database_errors(settings):
            report, secret = asyncio.run(_bootstrap(settings, cfg, force))
    except ServiceError as exc:
        err_console.print(f"[red]cannot apply the config:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    unsaved = save_key(settings.admin_key_file, secret) if secret else None
    tune_gc()
    rt = build_runtime(settings, cfg, env=dict(os.environ))
    server_config = uvicorn.Config(
        create_app(settings, rt),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    # after the startup logs, so the URL and a new admin key are on screen, not scrolled away
    server = AnnouncingServer(
        server_config,
        rt,
        ROLES[role],
        lambda: print_banner(settings, cfg, report, secret, role, unsaved),
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        raise typer.Exit(3)  # uvicorn's exit code for a failed startup


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server over a runtime it starts in the roles first and stops last; calls
    announce once it listens."""

    def __init__(
        self,
        config: uvicorn.Config,
        runtime: Runtime,
        roles: Collection[Role],
        announce: Callable[[], None],
    ) -> None:
        super().__init__(config)
        self.runtime = runtime
        self.roles = roles
        self.announce = announce
        self._unhook: Callable[[], None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await self.runtime.start(self.roles)
        except Exception:
            logging.getLogger("uvicorn.error").exception("Application startup failed. Exiting.")
            await self.runtime.stop()
            self.should_exit = True
            return
        await super().startup(sockets)
        if self.started:
            self._unhook = reload_on_hangup(self.runtime)
            self.announce()
        else:
            await self.runtime.stop()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._unhook is not None:
            self._unhook()
            self._unhook = None
        try:
            await super().shutdown(sockets)
        finally:
            await self.runtime.stop()
