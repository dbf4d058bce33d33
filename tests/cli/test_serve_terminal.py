"""`tenantwatch serve` in a terminal: readable logs, and the banner after the startup logs."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tenantwatch.cli.banner import cli_command
from tests.support import free_port

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def serve_in_a_terminal(tmp_path: Path, **extra: str) -> str:
    """Run `serve` with stdout and stderr on a pseudo-terminal until the banner's last line
    is out; return what the terminal showed, without colours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTWATCH_")}
    env |= {
        "TENANTWATCH_DATA_DIR": str(tmp_path / "var"),
        "TENANTWATCH_LISTEN": f"127.0.0.1:{free_port()}",
        "COLUMNS": "200",
        **extra,
    }
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tenantwatch.cli.main", "serve"],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=tmp_path,
    )
    os.close(follower)
    shown = b""
    try:
        deadline = time.monotonic() + 60
        while b"'up'\r\n" not in shown:  # the banner's last line
            assert time.monotonic() < deadline, f"no banner within 60 s:\n{shown.decode()}"
            assert proc.poll() is None, f"serve exited:\n{shown.decode()}"
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                shown += os.read(leader, 65536)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            os.close(leader)
    return ANSI.sub("", shown.decode(errors="replace")).replace("\r\n", "\n")


def test_in_a_terminal_logs_are_readable_and_the_banner_comes_after_them(
    tmp_path: Path,
) -> None:
    shown = serve_in_a_terminal(tmp_path)
    lines = shown.splitlines()
    assert not any(line.startswith("{") for line in lines), shown
    running = next(i for i, line in enumerate(lines) if "Uvicorn running on" in line)
    assert re.match(r"\d\d:\d\d:\d\d \[info\s*\] Uvicorn running", lines[running]), shown
    banner = next(i for i, line in enumerate(lines) if line.startswith("tenantwatch (all roles)"))
    assert banner > running
    key = (tmp_path / "var" / "admin-key").read_text().strip()
    assert key in "\n".join(lines[banner:])
    assert "Context impl" not in shown  # alembic's per-connection boilerplate


def test_json_logs_can_be_asked_for_in_a_terminal(tmp_path: Path) -> None:
    shown = serve_in_a_terminal(tmp_path, TENANTWATCH_LOG_FORMAT="json")
    assert '"event": "Uvicorn running on' in shown


@pytest.mark.parametrize(
    ("argv0", "on_path", "shown"),
    [
        ("tenantwatch", "/usr/bin/tenantwatch", "tenantwatch"),
        (".venv/bin/tenantwatch", None, ".venv/bin/tenantwatch"),
        ("/opt/tw/bin/tenantwatch", "/opt/tw/bin/tenantwatch", "tenantwatch"),
        ("/repo/src/tenantwatch/cli/main.py", None, "tenantwatch"),
    ],
)
def test_the_banner_names_the_cli_as_it_can_be_called(
    argv0: str, on_path: str | None, shown: str
) -> None:
    assert cli_command(argv0, on_path) == shown
