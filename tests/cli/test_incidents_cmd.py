"""`tenantwatch incidents list | show | ack | note | resolve` against the real app under
uvicorn on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from tenantwatch import jsonio
from tenantwatch.cli import incidents_cmd
from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.incidents.model import Severity
from tenantwatch.runtime.root import Role, Runtime, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.cli.test_sla_cmd import Live
from tests.live_server import live_app

cli = typer.Typer()
cli.add_typer(incidents_cmd.app, name="incidents")


async def _bootstrap(rt: Runtime, data_dir: Path) -> str:
    await prepare(rt)
    admin = await rt.api_keys.ensure_admin()
    assert admin is not None and rt.incidents is not None
    (data_dir / "admin-key").write_text(admin.secret + "\n")
    for tenant in ("alpha", "bravo"):
        await rt.tenants.create(
            SYSTEM, TenantInput(id=tenant, name=tenant.title(), tier="enterprise")
        )
    inc = await rt.incidents.create(
        SYSTEM, title="Search is slow", severity=Severity.P2, tenants=["alpha", "bravo"]
    )
    await rt.stop()
    return inc.id


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, str]]:
    data_dir = tmp_path_factory.mktemp("incidents") / "var"
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir, log_level="warning")
    incident_id = asyncio.run(_bootstrap(build_runtime(settings, Config()), data_dir))
    rt = build_runtime(settings, Config())
    with live_app(create_app(settings, rt, roles={Role.API})) as url:
        yield Live(url, data_dir), incident_id


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TENANTWATCH_API_KEY", "TENANTWATCH_PUBLIC_URL", "TENANTWATCH_LISTEN"):
        monkeypatch.delenv(name, raising=False)


def run(live: Live, *args: str) -> Result:
    env = {"TENANTWATCH_DATA_DIR": str(live.data_dir), "COLUMNS": "200"}
    return CliRunner().invoke(cli, ["incidents", *args, "--url", live.url], env=env)


def test_an_incident_from_list_to_resolved(live: tuple[Live, str]) -> None:
    server, incident_id = live
    listed = run(server, "list")
    assert listed.exit_code == 0, listed.output
    assert incident_id in listed.output and "Search is slow" in listed.output
    assert "alpha, bravo" in listed.output
    assert run(server, "ack", incident_id).output.strip() == f"acknowledged {incident_id}"
    assert run(server, "note", incident_id, "index rebuilt", "--pin").exit_code == 0
    shown = run(server, "show", incident_id)
    assert "investigating" not in shown.output.splitlines()[0]
    assert "📌 index rebuilt" in shown.output and "acknowledged" in shown.output
    assert run(server, "resolve", incident_id, "-r", "reindexed").exit_code == 0
    assert incident_id not in run(server, "list").output  # active only by default
    resolved = jsonio.loads(run(server, "list", "--status", "resolved", "-o", "json").output)
    assert [i["id"] for i in resolved] == [incident_id]
    missing = run(server, "show", "INC-20200101-0001")
    assert missing.exit_code == 1 and "404" in missing.output
