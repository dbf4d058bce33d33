"""What `tenantwatch serve` prints for the operator once it listens: URL, key, what to try."""

from __future__ import annotations

import os
import shutil
import sys
from enum import StrEnum
from pathlib import Path

from tenantwatch.cli.common import console
from tenantwatch.cli.config_cmd import sync_summary
from tenantwatch.config.model import Config
from tenantwatch.runtime.builders import shown_database
from tenantwatch.services.config_sync import ConfigSyncReport
from tenantwatch.settings import Settings


class ServeRole(StrEnum):
    """What `serve --role` runs: everything, the HTTP side, or the check scheduler."""

    ALL = "all"
    API = "api"
    CHECKS = "checks"


def cli_command(argv0: str, on_path: str | None) -> str:
    """How to call this CLI from the directory it was started in: `tenantwatch` when that
    name finds this program (or it was started by name), else the path it was started by,
    e.g. `.venv/bin/tenantwatch` under `make run` without an activated venv."""
    started = Path(argv0)
    if os.sep not in argv0 or started.name != "tenantwatch":
        return "tenantwatch"  # by name from PATH, or `python -m`
    if on_path is not None and Path(on_path).resolve() == started.resolve():
        return "tenantwatch"
    return argv0


def print_banner(
    settings: Settings,
    cfg: Config,
    report: ConfigSyncReport,
    secret: str | None,
    role: ServeRole,
    unsaved: str | None,
) -> None:
    cli = cli_command(sys.argv[0], shutil.which("tenantwatch"))
    console.print(f"[bold]tenantwatch[/bold] ({role} roles) on [link]{settings.base_url}[/link]")
    console.print(f"  start at:  {settings.base_url}/ (links to everything below)")
    console.print(f"  API docs:  {settings.base_url}/docs")
    console.print(f"  database:  {shown_database(settings)}")
    if settings.config:
        console.print(
            f"  config:    {settings.config} ({len(cfg.tenants)} tenants: "
            f"{len(report.tenants.created)} new, {len(report.tenants.updated)} changed)"
        )
    for line in sync_summary(report):
        if "archived" in line or "released" in line:
            console.print(f"  [yellow]{line}[/yellow]", highlight=False)
    targets = sum(len(sc.targets) for job in cfg.scrape_configs for sc in job.static_configs)
    where = f"remote {cfg.metrics.url}" if cfg.metrics.backend == "remote" else "embedded store"
    console.print(
        f"  metrics:   {where}; scraping {targets} targets in {len(cfg.scrape_configs)} jobs; "
        "Prometheus API at /api/v1/query"
    )
    tenants_checked = len({c.tenant for c in cfg.checks})
    console.print(
        f"  checks:    {len(cfg.checks)} in the config for {tenants_checked} tenants"
        f"{'' if role is not ServeRole.API else ' (run by --role checks workers)'}; "
        "seed 002 health APIs at /api/v1/monitoring/"
    )
    activate = Path(cli).parent / "activate"
    hint = f" (or `source {activate}`, then tenantwatch)" if activate.is_file() else ""
    console.print(f"  CLI:       {cli} --help{hint}", markup=False, highlight=False)
    if secret and unsaved:
        console.print(
            f"  [yellow]admin key (new; could not be kept in {settings.admin_key_file}: "
            f"{unsaved}; copy it now):[/yellow]"
        )
        console.print(f"  {secret}", markup=False, highlight=False, soft_wrap=True)
    elif secret:
        console.print(f"  admin key (new, kept in {settings.admin_key_file}):")
        console.print(f"  {secret}", markup=False, highlight=False, soft_wrap=True)
    elif settings.admin_key_file.exists():
        console.print(f"  admin key: kept in {settings.admin_key_file}")
    else:
        console.print(f"  admin key: create one with `{cli} apikey create --scope admin`")
    console.print(
        f'  try: curl -H "Authorization: Bearer $(cat {settings.admin_key_file})" '
        f"{settings.base_url}/api/v1/tenants",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"  try: {cli} health", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"  try: {cli} query --url {settings.base_url} --key $(cat {settings.admin_key_file}) 'up'",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
