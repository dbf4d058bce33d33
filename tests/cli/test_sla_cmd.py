"""`tenantwatch sla status | report` against the real app under uvicorn on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from tenantwatch import jsonio
from tenantwatch.cli import sla_cmd
from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.runtime.root import Role, Runtime, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.live_server import live_app
from tests.web.api.test_sla_api import DEC, MIN, NOV, NOW, up_samples

cli = typer.Typer()
cli.add_typer(sla_cmd.app, name="sla")


@dataclass
class Live:
    url: str
    data_dir: Path


async def _bootstrap(rt: Runtime, data_dir: Path) -> None:
    await prepare(rt)
    admin = await rt.api_keys.ensure_admin()
    assert admin is not None
    (data_dir / "admin-key").write_text(admin.secret + "\n")
    for tenant, tier in (("alpha", "enterprise"), ("bravo", "basic")):
        await rt.tenants.create(SYSTEM, TenantInput(id=tenant, name=tenant.title(), tier=tier))
    await rt.metrics.start()
    day = 86400_000
    samples = up_samples("alpha", "api", NOV, DEC, [])
    samples += up_samples("bravo", "api", NOV, DEC, [(NOV + day, NOV + day + 648 * MIN)])
    rt.metrics.appender.append_many(sorted(samples, key=lambda s: s[1]))
    await rt.stop()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("sla") / "var"
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir, log_level="warning")
    asyncio.run(_bootstrap(build_runtime(settings, Config()), data_dir))
    rt = build_runtime(settings, Config())
    assert rt.sla is not None
    rt.sla.clock = lambda: NOW.timestamp()
    with live_app(create_app(settings, rt, roles={Role.API})) as url:
        yield Live(url, data_dir)


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TENANTWATCH_API_KEY", "TENANTWATCH_PUBLIC_URL", "TENANTWATCH_LISTEN"):
        monkeypatch.delenv(name, raising=False)


def run(live: Live, *args: str) -> Result:
    env = {"TENANTWATCH_DATA_DIR": str(live.data_dir), "COLUMNS": "200"}
    return CliRunner().invoke(cli, ["sla", *args, "--url", live.url], env=env)


def test_status_lists_tenants_in_breach_first(live: Live) -> None:
    result = run(live, "status", "--date", "2026-11-15")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "1/2 tenants met (50%)" in result.output
    bravo = next(i for i, line in enumerate(lines) if "bravo" in line)
    alpha = next(i for i, line in enumerate(lines) if "alpha" in line)
    assert bravo < alpha
    assert "missed" in lines[bravo] and "98.500%" in lines[bravo] and "25%" in lines[bravo]
    assert "met" in lines[alpha] and "100.000%" in lines[alpha]
    answer = jsonio.loads(run(live, "status", "--date", "2026-11-15", "-o", "json").output)
    assert [t["tenant_id"] for t in answer["tenants"]] == ["bravo", "alpha"]


def test_report_writes_one_tenants_pdf(live: Live, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = run(
        live, "report", "--tenant", "bravo", "--period", "monthly", "--date", "2026-11-15",
        "--format", "pdf", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")


def test_report_for_every_tenant_writes_a_file_each_and_the_summary(
    live: Live, tmp_path: Path
) -> None:
    result = run(live, "report", "--date", "2026-11-15", "--format", "csv", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["alpha-monthly.csv", "bravo-monthly.csv", "platform-monthly.csv"]
    assert "wrote 2 tenant reports" in result.output


def test_refusals_say_what_to_do(live: Live) -> None:
    result = run(live, "report", "--tenant", "bravo", "--format", "pdf")
    assert result.exit_code == 2 and "-o report.pdf" in result.output
    result = run(live, "status", "--period", "fortnightly")
    assert result.exit_code == 1 and "unknown period 'fortnightly'" in result.output
    result = run(live, "report", "--tenant", "nobody")
    assert result.exit_code == 1 and "HTTP 404" in result.output


def test_now_is_fixed_for_these_tests() -> None:
    assert datetime(2026, 12, 7, 12, tzinfo=UTC) == NOW
