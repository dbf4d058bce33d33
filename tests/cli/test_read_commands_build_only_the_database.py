"""Commands that show build the database and its services only: no metric store, scrapers,
pushgateway, outbox, alert manager or check engine is constructed for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tenantwatch.cli.main import app
from tenantwatch.metrics.pushgateway import PushGateway
from tenantwatch.metrics.scrape import ScrapeManager
from tenantwatch.metrics.store import MetricStore
from tenantwatch.services.alerting import AlertingService
from tenantwatch.workers.check_engine import CheckEngine
from tenantwatch.workers.outbox import OutboxWorker

runner = CliRunner()
RUNNING_PARTS = [
    MetricStore,
    ScrapeManager,
    PushGateway,
    OutboxWorker,
    AlertingService,
    CheckEngine,
]


@pytest.mark.parametrize(
    "command",
    [
        ["health"],
        ["checks", "list"],
        ["status"],
        ["tenant", "list"],
        ["tenant", "show", "acme"],
        ["apikey", "list"],
    ],
    ids=" ".join,
)
def test_a_command_that_shows_builds_nothing_that_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    config = tmp_path / "tw.yml"
    config.write_text("tenants:\n  - {id: acme, name: Acme, tier: enterprise}\n")
    env = {
        "TENANTWATCH_DATA_DIR": str(tmp_path / "var"),
        "TENANTWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}",
        "COLUMNS": "250",
    }
    applied = runner.invoke(app, ["config", "apply", str(config)], env=env)
    assert applied.exit_code == 0, applied.output

    def refuse(self: object, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{type(self).__name__} was built for {' '.join(command)}")

    for part in RUNNING_PARTS:
        monkeypatch.setattr(part, "__init__", refuse)
    result = runner.invoke(app, command, env=env)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
