"""`tenantwatch serve` reloads its config on SIGHUP, as Prometheus does: a real process."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from tests.cli.test_serve import Server
from tests.support import bearer, free_port

JOB = "  - job_name: {name}\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"


def pools(server: Server, key: str) -> set[str]:
    r = httpx.get(f"{server.url}/api/v1/targets", headers=bearer(key), timeout=5)
    assert r.status_code == 200, r.text
    return {t["scrapePool"] for t in r.json()["data"]["activeTargets"]}


def test_sighup_applies_the_edited_config_and_a_broken_one_changes_nothing(
    tmp_path: Path,
) -> None:
    config = tmp_path / "tenantwatch.yml"
    first = JOB.format(name="first", port=free_port())
    config.write_text("scrape_configs:\n" + first)
    port = free_port()
    server = Server(
        {
            **os.environ,
            "TENANTWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}",
            "TENANTWATCH_DATA_DIR": str(tmp_path / "var"),
            "TENANTWATCH_CONFIG": str(config),
            "TENANTWATCH_LISTEN": f"127.0.0.1:{port}",
        },
        port,
    )
    server.start()
    try:
        assert server.proc is not None
        key = (tmp_path / "var" / "admin-key").read_text().strip()
        assert pools(server, key) == {"first"}
        config.write_text("scrape_configs:\n" + first + JOB.format(name="second", port=free_port()))
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while pools(server, key) != {"first", "second"} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pools(server, key) == {"first", "second"}
        config.write_text("scrape_configs:\n  - job_name: [\n")
        server.proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        assert server.proc.poll() is None
        assert pools(server, key) == {"first", "second"}
    finally:
        server.stop()
    assert "config reloaded" in server.output
    assert "config reload failed; the running config stays" in server.output
