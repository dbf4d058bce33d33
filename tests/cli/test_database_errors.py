"""Database trouble reaches the user as one clear line, never a traceback or a password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TW = [sys.executable, "-m", "tenantwatch.cli.main"]


def run(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TENANTWATCH_")},
        "TENANTWATCH_DATABASE_URL": url,
        "TENANTWATCH_DATA_DIR": str(tmp_path),
        "COLUMNS": "250",
    }
    return subprocess.run(
        [*TW, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("command", [["migrate"], ["status"], ["tenant", "list"]])
def test_a_database_that_does_not_exist_is_one_line_and_exit_1(
    tmp_path: Path, command: list[str]
) -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:5432/tw_no_such_database"
    r = run(tmp_path, url, *command)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "cannot use the database" in r.stderr and "tw_no_such_database" in r.stderr
    assert "hunter2" not in r.stderr + r.stdout


def test_nothing_listening_is_one_line_and_exit_1(tmp_path: Path) -> None:
    r = run(tmp_path, "postgresql://u:pw@127.0.0.1:1/x", "migrate")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "cannot use the database" in r.stderr


def test_an_unsupported_url_is_refused_before_anything_runs(tmp_path: Path) -> None:
    r = run(tmp_path, "mysql://u@h/db", "serve")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "unsupported database" in r.stderr


def test_unstorable_cli_input_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    long_name = run(tmp_path, url, "tenant", "create", "t1", "--name", "x" * 201)
    assert long_name.returncode == 1 and "at most 200" in long_name.stderr
    empty = run(tmp_path, url, "apikey", "create", "--scope", "admin", "--name", "")
    assert empty.returncode == 1 and "must not be empty" in empty.stderr
    assert run(tmp_path, url, "tenant", "show", "NoSuch").returncode == 1
