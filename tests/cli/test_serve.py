"""`tenantwatch serve` as a user runs it: a real process, real HTTP, a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import bearer, free_port

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo" / "tenantwatch.yml"
TW = [sys.executable, "-m", "tenantwatch.cli.main"]


class Server:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[str] | None = None
        self.output = ""

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*TW, "serve"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.proc.stdout.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("serve did not answer /health/ready with 200 within 60 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=30)
        self.output += out


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    yield {
        **os.environ,
        "TENANTWATCH_DATABASE_URL": database_url,
        "TENANTWATCH_DATA_DIR": str(tmp_path / "var"),
        "TENANTWATCH_CONFIG": str(DEMO),
        "TENANTWATCH_LISTEN": f"127.0.0.1:{port}",
        "COLUMNS": "250",
    }


def test_serve_bootstraps_an_admin_key_and_keeps_data_across_a_restart(
    env: dict[str, str], tmp_path: Path
) -> None:
    port = int(env["TENANTWATCH_LISTEN"].rsplit(":", 1)[1])
    server = Server(env, port)
    server.start()
    try:
        key_file = tmp_path / "var" / "admin-key"
        key = key_file.read_text().strip()
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        h = bearer(key)
        tenants = httpx.get(f"{server.url}/api/v1/tenants?limit=100", headers=h).json()["items"]
        assert {t["tier"] for t in tenants} >= {"basic", "professional", "enterprise"}
        assert all(t["managed_by"] == "config" for t in tenants)
        r = httpx.post(
            f"{server.url}/api/v1/tenants",
            json={"id": "made-by-api", "name": "API tenant", "tier": "professional"},
            headers=h,
        )
        assert r.status_code == 201
        r = httpx.post(
            f"{server.url}/api/v1/apikeys",
            json={"name": "bound", "scopes": ["monitoring:read"], "tenant_id": "made-by-api"},
            headers=h,
        )
        bound_key = r.json()["key"]
    finally:
        server.stop()
    assert key in server.output  # printed once, on first start, with the URL
    assert server.url in server.output

    server.output = ""
    server.start()
    try:
        assert httpx.get(f"{server.url}/api/v1/tenants/made-by-api", headers=h).status_code == 200
        mine = httpx.get(f"{server.url}/api/v1/tenants", headers=bearer(bound_key)).json()
        assert [t["id"] for t in mine["items"]] == ["made-by-api"]
        other = httpx.get(f"{server.url}/api/v1/tenants/acme-corp", headers=bearer(bound_key))
        assert other.status_code == 404
        assert httpx.get(f"{server.url}/api/v1/tenants").status_code == 401
    finally:
        server.stop()
    assert key not in server.output  # not printed again; the banner says where it is kept
    assert "admin-key" in server.output
    assert '"event": "request"' in server.output  # structured request logs


def test_cli_commands_share_the_servers_database(env: dict[str, str]) -> None:
    def tw(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*TW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    assert tw("migrate").returncode == 0
    created = tw("tenant", "create", "cli-made", "--name", "From CLI", "--tier", "enterprise")
    assert created.returncode == 0, created.stderr
    again = tw("tenant", "create", "cli-made", "--name", "Again", "--tier", "enterprise")
    assert again.returncode == 1 and "already exists" in again.stderr
    key = tw("apikey", "create", "--scope", "monitoring:read", "--tenant", "cli-made")
    assert key.returncode == 0
    secret = key.stdout.strip().splitlines()[-1]
    assert secret.startswith("tw_")
    listing = tw("tenant", "list")
    assert "cli-made" in listing.stdout
    assert "From CLI" in tw("tenant", "show", "cli-made").stdout
    status = tw("status")
    assert status.returncode == 0 and "enterprise" in status.stdout
    keys = tw("apikey", "list")
    assert secret not in keys.stdout and secret[:9] in keys.stdout
    key_id = next(word for word in keys.stdout.split() if word.startswith("k_"))
    assert tw("apikey", "revoke", key_id).returncode == 0
    assert tw("apikey", "revoke", "k_nope").returncode == 1
    assert tw("tenant", "show", "nope").returncode == 1
