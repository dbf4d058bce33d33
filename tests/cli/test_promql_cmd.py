"""tenantwatch promql test FILE...: one line per file, failures with file:line, totals last."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tenantwatch.cli.promql_cmd import app

GOOD = """
load 1m
  up{job="api"} 1 1 0
  hist {{schema:0 sum:1 count:1}}

eval instant at 2m up == 0
  up{job="api"} 0

eval range from 0 to 2m step 1m sum(up)
  {} 1 1 0

eval instant at 1m hist
  hist {{schema:0 sum:1 count:1}}
"""

BAD = """
load 1m
  up{job="api"} 1 1 0

eval instant at 2m up
  up{job="api"} 1
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_passing_script_prints_its_counts_and_exits_0(tmp_path: Path) -> None:
    good = write(tmp_path, "good.test", GOOD)
    result = CliRunner().invoke(app, ["test", good])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"{good}: 2 passed, 0 failed, 1 skipped", "2 passed, 0 failed, 1 skipped"]


def test_verbose_lists_skipped_cases_with_the_reason(tmp_path: Path) -> None:
    good = write(tmp_path, "good.test", GOOD)
    result = CliRunner().invoke(app, ["test", "-v", good])
    assert f"skip {good}:12: hist (expects native histogram values)" in result.output


def test_a_failing_script_lists_the_failure_and_exits_1(tmp_path: Path) -> None:
    good = write(tmp_path, "good.test", GOOD)
    bad = write(tmp_path, "bad.test", BAD)
    result = CliRunner().invoke(app, ["test", good, bad])
    assert result.exit_code == 1
    out = result.output
    assert f"FAIL {bad}:5: up\n" in out
    assert '    up{job="api"}: expected 1, got 0\n' in out
    assert f"{bad}: 0 passed, 1 failed, 0 skipped" in out
    assert out.strip().splitlines()[-1] == "2 passed, 1 failed, 1 skipped"


def test_an_unreadable_script_is_a_failure_with_its_line(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.test", "load 1m\n  up 1 x\n")
    result = CliRunner().invoke(app, ["test", broken, str(tmp_path / "missing.test")])
    assert result.exit_code == 1
    assert f"{broken}:2: cannot read value 'x'" in result.output
    assert "missing.test: cannot read the file" in result.output
    assert result.output.strip().splitlines()[-1] == "0 passed, 2 failed, 0 skipped"
