"""`tenantwatch config check` and `tenantwatch serve` on good and broken config files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import free_port

TENANTWATCH = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "tenantwatch"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "tenantwatch.yml"

GOOD = "tenants:\n  - id: acme\n    name: Acme\n    tier: basic\n"
BROKEN = "tenants:\n  - id: acme\n    name: Acme\n    tier: basic\n    colour: red\n"
BROKEN_LINE = "broken.yml:5: unknown key 'colour'; check its spelling and indentation"


def _env(**extra: str) -> dict[str, str]:
    """The test's environment without TENANTWATCH_* settings or a terminal width."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TENANTWATCH_") and k not in {"COLUMNS", "LINES"}
    }
    return env | extra


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TENANTWATCH), *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "good.yml").write_text(GOOD)
    (tmp_path / "broken.yml").write_text(BROKEN)
    return tmp_path


def test_config_check_of_a_good_file_exits_0_and_says_ok(files: Path) -> None:
    result = run("config", "check", "good.yml", cwd=files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["good.yml: OK (1 tenants, 0 custom tiers, 0 scrape jobs)"]
    assert result.stderr == ""


def test_config_check_of_the_demo_file_exits_0(tmp_path: Path) -> None:
    result = run("config", "check", str(DEMO), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK (6 tenants, 1 custom tiers, 1 scrape jobs)" in result.stdout


def test_config_check_of_a_broken_file_exits_1(files: Path) -> None:
    result = run("config", "check", "broken.yml", cwd=files)
    assert result.returncode == 1


def test_config_check_prints_file_line_message_on_stderr(files: Path) -> None:
    result = run("config", "check", "broken.yml", cwd=files)
    assert result.stderr.splitlines() == [BROKEN_LINE]
    assert "OK" not in result.stdout


def test_config_check_of_several_files_reports_each_and_fails_if_any_is_broken(
    files: Path,
) -> None:
    result = run("config", "check", "good.yml", "broken.yml", cwd=files)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["good.yml: OK (1 tenants, 0 custom tiers, 0 scrape jobs)"]
    assert result.stderr.splitlines() == [BROKEN_LINE]


def test_config_check_of_a_missing_file_exits_1_saying_so(tmp_path: Path) -> None:
    result = run("config", "check", "missing.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["missing.yml:0: file not found"]


def test_config_check_keeps_a_long_file_line_message_on_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "a-rather-long-folder-name" / "holding-the-tenantwatch-config"
    folder.mkdir(parents=True)
    path = folder / "broken.yml"
    path.write_text(BROKEN)
    result = run("config", "check", str(path), cwd=tmp_path)
    assert result.returncode == 1
    expected = f"{path}:5: unknown key 'colour'; check its spelling and indentation"
    assert len(expected) > 80
    assert result.stderr.splitlines() == [expected]


def test_serve_with_a_broken_config_exits_2_before_starting(files: Path) -> None:
    result = run(
        "serve",
        cwd=files,
        TENANTWATCH_CONFIG="broken.yml",
        TENANTWATCH_DATA_DIR=str(files),
        TENANTWATCH_LISTEN=f"127.0.0.1:{free_port()}",
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [BROKEN_LINE]
    assert not (files / "tenantwatch.db").exists()
    assert not (files / "admin-key").exists()
