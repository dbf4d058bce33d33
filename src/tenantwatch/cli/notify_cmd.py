"""tenantwatch test notify RECEIVER: send a test message through every integration of a
receiver of the Alertmanager configuration, and show what each one answered."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer
from rich.table import Table

from tenantwatch.alertmanager.alert import fingerprint
from tenantwatch.alertmanager.notify_data import NotifyAlert, NotifyData, build_notify_data
from tenantwatch.alertmanager.notify_payloads import build_request
from tenantwatch.cli.common import (
    ConfigOption,
    config_for_reading,
    console,
    err_console,
    settings_from_env,
)
from tenantwatch.config.errors import ConfigError
from tenantwatch.runtime.alerting import alertmanager_config, build_notifiers

app = typer.Typer(help="Try things out without waiting for a real alert")


def test_data(receiver: str, external_url: str, now: float) -> NotifyData:
    labels = {"alertname": "TenantwatchTest", "severity": "info"}
    alert = NotifyAlert(
        status="firing",
        labels=labels,
        annotations={
            "summary": "Test notification from tenantwatch",
            "description": f"Sent by `tenantwatch test notify {receiver}`; no action needed.",
        },
        starts_at=now,
        ends_at=0.0,
        generator_url=external_url,
        fingerprint=fingerprint(labels),
    )
    return build_notify_data(
        receiver, {"alertname": "TenantwatchTest"}, [alert], external_url, "{}:test"
    )


@app.command("notify")
def notify(
    receiver: str = typer.Argument(..., help="a receiver of the Alertmanager configuration"),
    config: Path | None = ConfigOption,
    timeout: float = typer.Option(10.0, help="seconds per integration"),
) -> None:
    """Send a test message through each integration of RECEIVER; exit 1 if any failed."""
    settings, cfg = config_for_reading(settings_from_env(config))
    try:
        am = alertmanager_config(settings, cfg)
    except ConfigError as exc:
        for issue in exc.issues:
            err_console.print(f"{issue.file}:{issue.line}: {issue.message}", highlight=False)
        raise typer.Exit(2) from None
    found = am.receivers.get(receiver)
    if found is None:
        names = ", ".join(sorted(am.receivers)) or "none"
        err_console.print(f"[red]no receiver {receiver!r};[/red] the configuration has: {names}")
        raise typer.Exit(2)
    if not found.integrations:
        err_console.print(f"receiver {receiver!r} has no integrations: nothing to send")
        raise typer.Exit(1)
    data = test_data(receiver, cfg.alertmanager.external_url or settings.base_url, time.time())

    async def send() -> list[tuple[str, str, str, str]]:
        notifiers = build_notifiers(cfg)
        rows = []
        try:
            for integration in found.integrations:
                try:
                    request = build_request(
                        integration.kind,
                        integration.settings,
                        data,
                        lambda text: am.templates.render(text, data),
                        idempotency_key=f"test-{time.time_ns()}",
                        render_html=lambda text: am.templates.render_html(text, data),
                    )
                except Exception as exc:
                    rows.append((integration.name, "", "not built", str(exc)))
                    continue
                result = await notifiers.deliver(request, timeout=timeout)
                status = "ok" if result.ok else f"failed ({result.status_code or 'no answer'})"
                rows.append(
                    (
                        integration.name,
                        request.target,
                        status,
                        f"{result.latency_ms:.0f} ms " + (result.error or ""),
                    )
                )
        finally:
            await notifiers.close()
        return rows

    rows = asyncio.run(send())
    table = Table(title=f"test notification to {receiver}")
    for col in ("integration", "target", "result", "latency / error"):
        table.add_column(col, overflow="fold")
    for name, target, status, detail in rows:
        color = "green" if status == "ok" else "red"
        table.add_row(name, target, f"[{color}]{status}[/]", detail.strip())
    console.print(table)
    if any(status != "ok" for _, _, status, _ in rows):
        raise typer.Exit(1)
