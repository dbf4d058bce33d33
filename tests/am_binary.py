"""A real `alertmanager` (Debian's prometheus-alertmanager 0.25) on a free loopback port, and
the same package's `amtool`.

`make install-dev` installs it (scripts/ensure-prometheus.sh). Tests that need it skip
when it is missing, and fail when CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import free_port


def require_alertmanager() -> str:
    exe = shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")
    if exe is None:
        message = "alertmanager is missing; run scripts/ensure-prometheus.sh (make install-dev)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return exe


@contextmanager
def alertmanager(workdir: Path, config: str) -> Iterator[str]:
    """Run Alertmanager with the config; yield its base URL."""
    exe = require_alertmanager()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "am.yml").write_text(config)
    port = free_port()
    proc = subprocess.Popen(
        [
            exe,
            f"--config.file={workdir / 'am.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "am.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=1):  # noqa: S310
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (workdir / "am.log").read_text(errors="replace")[-2000:]
                    pytest.fail(f"alertmanager did not start: {log}")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def require_amtool() -> str:
    """Debian's amtool (same package as alertmanager); skips without it, fails when CI=true."""
    exe = shutil.which("amtool")
    if exe is None:
        message = "amtool is missing; run scripts/ensure-prometheus.sh (make install-dev)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return exe
