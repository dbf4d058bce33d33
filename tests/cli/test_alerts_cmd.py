"""`tenantwatch alerts` and `tenantwatch silence` against the real app on loopback."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tenantwatch.cli.alerts_cmd import api_matchers, matcher_text
from tenantwatch.cli.main import app as cli
from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.runtime.root import Role, Runtime, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.live_server import live_app


@dataclass
class Live:
    url: str
    data_dir: Path
    admin: str


async def _bootstrap(rt: Runtime, data_dir: Path) -> str:
    await prepare(rt)
    admin = await rt.api_keys.ensure_admin()
    assert admin is not None
    (data_dir / "admin-key").write_text(admin.secret + "\n")
    await rt.tenants.create(SYSTEM, TenantInput(id="alpha", name="Alpha", tier="basic"))
    return admin.secret


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("alerts") / "var"
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir, log_level="warning")
    boot = build_runtime(settings, Config())
    admin = asyncio.run(_bootstrap(boot, data_dir))
    asyncio.run(boot.stop())
    app = create_app(settings, build_runtime(settings, Config()), roles={Role.API})
    with live_app(app) as url:
        yield Live(url, data_dir, admin)


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TENANTWATCH_API_KEY", "TENANTWATCH_PUBLIC_URL", "TENANTWATCH_LISTEN"):
        monkeypatch.delenv(name, raising=False)


def run(live: Live, *args: str) -> Result:
    env = {"TENANTWATCH_DATA_DIR": str(live.data_dir), "COLUMNS": "250"}
    return CliRunner().invoke(cli, [*args, "--url", live.url], env=env)


def post_alert(live: Live, **labels: str) -> None:
    body = json.dumps([{"labels": labels, "annotations": {"description": "it broke"}}])
    request = urllib.request.Request(  # noqa: S310
        live.url + "/api/v2/alerts",
        data=body.encode(),
        method="POST",
        headers={"Authorization": f"Bearer {live.admin}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        assert resp.status == 200


def test_list_ack_and_resolve(live: Live) -> None:
    post_alert(live, alertname="DiskFull", severity="critical", tenant="alpha")
    listed = run(live, "alerts", "list")
    assert listed.exit_code == 0, listed.output
    assert "DiskFull" in listed.output and "critical" in listed.output
    alert_id = next(
        word
        for line in listed.output.splitlines()
        for word in line.split("│")
        if len(word.strip()) == 16
    ).strip()
    acked = run(live, "alerts", "ack", alert_id, "--notes", "on it", "--for", "1h")
    assert acked.exit_code == 0 and "acknowledged DiskFull" in acked.output
    assert "acknowledged" in run(live, "alerts", "list", "--status", "acknowledged").output
    done = run(live, "alerts", "resolve", alert_id, "--notes", "fixed")
    assert done.exit_code == 0 and "resolved DiskFull" in done.output
    again = run(live, "alerts", "resolve", alert_id)
    assert again.exit_code == 1 and "already resolved" in again.output


def test_silence_add_list_expire(live: Live) -> None:
    added = run(
        live, "silence", "add", "alertname=Noisy", 'tenant="alpha"', "-c", "deploy", "-d", "2h"
    )
    assert added.exit_code == 0, added.output
    silence_id = added.output.strip()
    listed = run(live, "silence", "list")
    assert silence_id in listed.output and 'alertname="Noisy"' in listed.output
    expired = run(live, "silence", "expire", silence_id)
    assert expired.exit_code == 0 and f"expired {silence_id}" in expired.output
    assert silence_id not in run(live, "silence", "list").output
    assert silence_id in run(live, "silence", "list", "--expired").output


def test_bad_matchers_and_unknown_ids_say_why(live: Live) -> None:
    bad = run(live, "silence", "add", "alertname~Noisy", "-c", "x")
    assert bad.exit_code == 2 and "bad matcher" in bad.output
    missing = run(live, "alerts", "ack", "0123456789abcdef")
    assert missing.exit_code == 1 and "404" in missing.output


def test_matchers_round_trip_to_amtool_text() -> None:
    parsed = api_matchers(['severity=~"crit.*"', "team!=db", "a=b"])
    assert [matcher_text(m) for m in parsed] == ['severity=~"crit.*"', 'team!="db"', 'a="b"']
