"""tenantwatch notifications list: the delivery log, read from a running tenantwatch's API.

Read-only: it sends GET requests only (never syncs the config, migrates or writes), with
the admin key `tenantwatch serve` saved, or --key / TENANTWATCH_API_KEY. What a
notification sends (URLs with tokens, auth headers) is not in the API's answer, so it
cannot be printed.
"""

from __future__ import annotations

import time
import urllib.parse
from enum import StrEnum
from typing import Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from tenantwatch import jsonio
from tenantwatch.cli.alerts_cmd import KeyOption, UrlOption, ago, api
from tenantwatch.cli.common import console

app = typer.Typer(help="The notification delivery log: what was sent, retried or dead-lettered")

PAGE_MAX = 500
STATUS_STYLE = {
    "sent": "green",
    "dead": "red",
    "pending": "yellow",
    "sending": "cyan",
    "superseded": "dim",
}


class Status(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    dead = "dead"
    superseded = "superseded"


class Output(StrEnum):
    table = "table"
    json = "json"


def fetch(params: dict[str, str], limit: int, url: str | None, key: str | None) -> dict[str, Any]:
    """Up to `limit` notifications, newest first, following the API's cursor; the answer has
    `items` and the `next_cursor` to go on from (None at the end of the log)."""
    items: list[dict[str, Any]] = []
    cursor = params.get("cursor")
    while True:
        query = {**params, "limit": str(min(PAGE_MAX, limit - len(items)))}
        if cursor:
            query["cursor"] = cursor
        page = api("GET", url, key, "/api/v1/notifications?" + urllib.parse.urlencode(query))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None or len(items) >= limit:
            return {"items": items, "next_cursor": cursor}


def _result(n: dict[str, Any]) -> str:
    code = n.get("last_status_code")
    error = n.get("last_error") or ""
    if n["status"] == "sent":
        return f"HTTP {code}" if code else "delivered"
    if n["status"] == "superseded":
        return f"replaced by #{n.get('superseded_by')} before it was sent"
    if not error and n["status"] in ("pending", "sending"):
        return "not tried yet" if not n["attempts"] else ""
    return error or (f"HTTP {code}" if code else "")


def _alerts(n: dict[str, Any]) -> Text:
    fingerprints = n.get("fingerprints")
    text = Text("\n".join(fingerprints) if fingerprints else ("?" if fingerprints is None else "-"))
    if n.get("group_key"):
        text.append("\n" + n["group_key"], style="dim")
    return text


def _receiver(n: dict[str, Any]) -> Text:
    text = Text(n["receiver"])
    text.append("\n" + n["integration"], style="dim")
    if n.get("tenant_id"):
        text.append("\n" + n["tenant_id"], style="dim")
    return text


def log_table(items: list[dict[str, Any]], now: float) -> Table:
    """The log as a table that stays readable at 80 columns: long cells fold."""
    table = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, leading=1, title=f"{len(items)} notifications"
    )
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("age", no_wrap=True)
    table.add_column("receiver", overflow="fold", max_width=20)
    table.add_column("status", no_wrap=True)
    table.add_column("alerts / group", overflow="fold", min_width=16, max_width=24)
    table.add_column("result", overflow="fold", ratio=1)
    for n in items:
        tries = n["attempts"]
        status = n["status"] + (f"\n[dim]{tries} {'try' if tries == 1 else 'tries'}[/dim]")
        table.add_row(
            str(n["id"]),
            ago(n["created_at"], now).removesuffix(" ago"),
            _receiver(n),
            f"[{STATUS_STYLE.get(n['status'], 'white')}]{status}[/]",
            _alerts(n),
            Text(_result(n)),
        )
    return table


@app.command("list")
def list_notifications(
    status: Status | None = typer.Option(None, "--status", help="only this delivery state"),
    receiver: str | None = typer.Option(None, "--receiver", "-r", help="only this receiver"),
    tenant: str | None = typer.Option(None, "--tenant", "-t", help="only this tenant's"),
    kind: str | None = typer.Option(None, "--kind", help="webhook, slack, email, pagerduty, ..."),
    failing: bool = typer.Option(
        False, "--failing", help="only those not sent whose last attempt failed"
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=100_000, help="at most this many"),
    cursor: str | None = typer.Option(
        None, "--cursor", help="go on from where an earlier listing stopped"
    ),
    output: Output = typer.Option(Output.table, "--output", "-o", help="table or json"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
) -> None:
    """List notifications newest first: receiver, state, the alerts (fingerprints) and group
    each carried, and the last attempt's status code or error."""
    params = {
        name: value
        for name, value in (
            ("status", status.value if status else None),
            ("receiver", receiver),
            ("tenant", tenant),
            ("kind", kind),
            ("failing", "true" if failing else None),
            ("cursor", cursor),
        )
        if value
    }
    log = fetch(params, limit, url, key)
    if output is Output.json:
        console.print_json(jsonio.dumps(log))
        return
    console.print(log_table(log["items"], time.time()))
    if log["next_cursor"]:
        console.print(
            f"more: add --cursor {log['next_cursor']} (or a larger --limit)", highlight=False
        )
