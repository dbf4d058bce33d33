"""A real Alertmanager 0.25 process on a free loopback port, and a webhook recorder.

Usage:

    require_alertmanager()                      # skip, or fail when CI=true, if missing
    async with webhook_recorder() as hooks:     # http://127.0.0.1:PORT/<path> records posts
        with alertmanager(tmp_path, config_yaml) as am:
            ... am.url ...; hooks.received

Clustering is off (`--cluster.listen-address=`), so notifications go out without the
gossip settle wait; `--web.external-url` is the server's own URL, so payloads are
predictable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.support import free_port

BINARY = "/usr/local/bin/alertmanager"
INSTALL_HINT = (
    "install Alertmanager 0.25.0 at /usr/local/bin/alertmanager "
    "(Debian: `apt-get install -y prometheus-alertmanager` and link the binary there)"
)


def find_alertmanager() -> str | None:
    """The Alertmanager binary, or None when it is not installed."""
    if os.access(BINARY, os.X_OK):
        return BINARY
    return shutil.which("alertmanager")


def require_alertmanager() -> str:
    """The binary's path; skips the test without it, and fails it when CI=true."""
    path = find_alertmanager()
    if path is None:
        message = f"the alertmanager binary is missing; {INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (required when CI=true)", pytrace=False)
        pytest.skip(message)
    return path


@dataclass
class AlertmanagerServer:
    url: str
    port: int
    log_file: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def start_alertmanager(
    workdir: Path, config_yaml: str, *, ready_timeout: float = 20.0
) -> AlertmanagerServer:
    """Start Alertmanager with this configuration; return once /-/ready answers 200.

    Raises RuntimeError with the end of its log when it does not start.
    """
    binary = require_alertmanager()
    workdir.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "alertmanager.yml"
    config_file.write_text(config_yaml)
    last_error = ""
    for _ in range(3):
        port = free_port()
        storage = workdir / f"data-{port}"
        storage.mkdir()
        log_file = workdir / f"alertmanager-{port}.log"
        args = [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={storage}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url=http://127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=debug",
        ]
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        server = AlertmanagerServer(f"http://127.0.0.1:{port}", port, log_file, process)
        if _wait_ready(server, ready_timeout):
            return server
        server.stop()
        last_error = server.log_tail()
        if "address already in use" not in last_error:
            break
    raise RuntimeError(f"alertmanager did not become ready; its log ends with:\n{last_error}")


def _wait_ready(server: AlertmanagerServer, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def alertmanager(workdir: Path, config_yaml: str) -> Iterator[AlertmanagerServer]:
    """start_alertmanager as a context manager that always stops the process."""
    server = start_alertmanager(workdir, config_yaml)
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Hook:
    at: float  # wall-clock arrival time (time.time())
    path: str
    body: Any


@dataclass
class WebhookRecorder:
    """Records every JSON POST with its arrival time; answers 200."""

    port: int = 0
    received: list[Hook] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def bodies(self, path: str) -> list[Any]:
        return [h.body for h in self.received if h.path == "/" + path.lstrip("/")]

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received.append(Hook(time.time(), request.path, json.loads(raw)))
        return web.Response(text="ok")

    async def wait_quiet(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def webhook_recorder() -> AsyncIterator[WebhookRecorder]:
    rec = WebhookRecorder()
    app = web.Application()
    app.router.add_post("/{tail:.*}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.port = runner.addresses[0][1]
    try:
        yield rec
    finally:
        await runner.cleanup()
