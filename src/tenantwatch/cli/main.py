"""The `tenantwatch` command: every sub-command is registered here."""

from __future__ import annotations

import typer

from tenantwatch import __version__
from tenantwatch.cli import (
    alerts_cmd,
    apikeys,
    backfill,
    checks_cmd,
    config_cmd,
    db,
    incidents_cmd,
    notifications_cmd,
    notify_cmd,
    promql_cmd,
    query,
    rules_cmd,
    serve,
    sla_cmd,
    status,
    tenants,
    tsdb_cmd,
)

app = typer.Typer(
    name="tenantwatch",
    help="Tenant-aware monitoring, SLAs, alerting and incident response for multi-tenant SaaS. "
    "Settings come from TENANTWATCH_* environment variables (DATABASE_URL, LISTEN, CONFIG, "
    "DATA_DIR, LOG_LEVEL, ...).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tenantwatch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """tenantwatch."""


app.command("serve")(serve.serve)
app.command("migrate")(db.migrate)
app.command("status")(status.status)
app.command("query")(query.query)
app.command("backfill")(backfill.backfill)
app.command("health")(checks_cmd.health)
app.add_typer(config_cmd.app, name="config")
app.add_typer(tenants.app, name="tenant")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(promql_cmd.app, name="promql")
app.add_typer(checks_cmd.app, name="checks")
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(alerts_cmd.alerts_app, name="alerts")
app.add_typer(alerts_cmd.silence_app, name="silence")
app.add_typer(notify_cmd.app, name="test")
app.add_typer(notifications_cmd.app, name="notifications")
app.add_typer(tsdb_cmd.app, name="tsdb")
app.add_typer(sla_cmd.app, name="sla")
app.add_typer(incidents_cmd.app, name="incidents")

if __name__ == "__main__":
    app()
