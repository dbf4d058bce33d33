"""tenantwatch rules check: promtool's output shape and exit codes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tenantwatch.cli.main import app

SEEDS = Path(__file__).parent.parent / "fixtures" / "seed-rules"


def test_rules_check_reports_each_file() -> None:
    good = SEEDS / "seed-000.rules.yml"
    bad = SEEDS / "seed-000.as-published.invalid.yml"
    result = CliRunner().invoke(app, ["rules", "check", str(good)], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert f"Checking {good}" in result.output and "SUCCESS: 10 rules found" in result.output
    result = CliRunner().invoke(
        app, ["rules", "check", str(good), str(bad)], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 1
    assert "FAILED:" in result.output and f"{bad}:22: invalid YAML" in result.output
