"""`tenantwatch test notify RECEIVER` against a loopback webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tenantwatch.cli.main import app as cli


class Hook:
    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.status = 200


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()


def config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "tenantwatch.yml"
    path.write_text(
        "alertmanager:\n"
        "  allow_private_targets: ['127.0.0.1/32']\n"
        "  config:\n"
        "    route: {receiver: ops}\n"
        f"    receivers: [{{name: ops, webhook_configs: [{{url: '{url}'}}]}}]\n"
    )
    return path


def run(path: Path, *args: str) -> Any:
    env = {"TENANTWATCH_DATA_DIR": str(path.parent / "var"), "COLUMNS": "200"}
    return CliRunner().invoke(cli, ["test", "notify", *args, "--config", str(path)], env=env)


def test_a_test_message_reaches_every_integration(tmp_path: Path, hook: tuple[Hook, str]) -> None:
    state, url = hook
    result = run(config(tmp_path, url), "ops")
    assert result.exit_code == 0, result.output
    assert "webhook/0" in result.output and "ok" in result.output
    (body,) = state.bodies
    assert body["receiver"] == "ops" and body["version"] == "4"
    assert body["alerts"][0]["labels"] == {"alertname": "TenantwatchTest", "severity": "info"}


def test_a_failing_receiver_exits_1_and_an_unknown_one_2(
    tmp_path: Path, hook: tuple[Hook, str]
) -> None:
    state, url = hook
    state.status = 500
    path = config(tmp_path, url)
    failed = run(path, "ops")
    assert failed.exit_code == 1 and "failed (500)" in failed.output
    unknown = run(path, "nobody")
    assert unknown.exit_code == 2 and "no receiver 'nobody'" in unknown.output
