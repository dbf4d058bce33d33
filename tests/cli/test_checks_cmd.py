"""tenantwatch health and tenantwatch checks list|run, on a config with checks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenantwatch.cli.main import app
from tests.checks_support import http_target

runner = CliRunner()


def _config(tmp: Path, url: str) -> Path:
    path = tmp / "tw.yml"
    path.write_text(
        "tenants:\n"
        "  - {id: acme, name: Acme, tier: enterprise}\n"
        "  - {id: globex, name: Globex, tier: basic}\n"
        "checks:\n"
        f"  - {{id: acme-web, tenant: acme, kind: http, url: '{url}/a',"
        " conditions: ['[STATUS] == 200']}\n"
        f"  - {{id: globex-web, tenant: globex, kind: http, url: '{url}/g',"
        " failure_threshold: 1}\n"
    )
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "TENANTWATCH_DATA_DIR": str(tmp_path / "var"),
        "TENANTWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}",
        "COLUMNS": "250",
    }


def _run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = runner.invoke(app, args, env=env, terminal_width=200)
    return result.exit_code, result.output


async def test_run_list_and_health(tmp_path: Path, env: dict[str, str]) -> None:
    async with http_target() as target:
        cfg = str(_config(tmp_path, target.url))
        code, out = await asyncio.to_thread(_run, ["config", "apply", cfg], env)
        assert code == 0, out
        assert "checks created: acme-web, globex-web" in out
        code, out = await asyncio.to_thread(
            _run, ["checks", "run", "acme-web", "--config", cfg], env
        )
        assert code == 0, out
        assert "acme-web: passed" in out and "[STATUS] (200) == 200" in out
        target.status = 500
        code, out = await asyncio.to_thread(
            _run, ["checks", "run", "globex-web", "--config", cfg], env
        )
        assert code == 1 and "status 500 not in expected 200-399" in out
    code, out = await asyncio.to_thread(_run, ["checks", "list", "--config", cfg], env)
    assert code == 0 and "2 checks" in out and "last 24h" in out and "█" in out
    assert "acme-web" in out and "globex-web" in out and "down" in out
    code, out = await asyncio.to_thread(_run, ["health", "--config", cfg], env)
    assert code == 0, out
    header = next(line for line in out.splitlines() if "┃" in line)
    assert [h.strip() for h in header.split("┃")[1:8]] == [
        "tenant",
        "status",
        "score",
        "uptime",
        "latency",
        "errors",
        "cpu/mem",
    ]
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines() if "│" in line]
    assert [r[0] for r in rows] == ["globex", "acme"]  # worst first
    globex, acme = rows
    assert globex[1] == "unhealthy" and acme[1] == "healthy"
    # globex's one check is down: uptime 0 and error rate 100 % give 0, no CPU or memory
    # figures give 100, so its score is 0.3 x latency + 0.1 x 100
    assert globex[3:7] == ["0", globex[4], "0", "100"]
    assert float(globex[2]) == pytest.approx(0.3 * float(globex[4]) + 10, abs=0.1)
    assert acme[3] == acme[5] == acme[6] == "100"
    code, out = await asyncio.to_thread(_run, ["health", "--tenant", "acme", "--config", cfg], env)
    assert code == 0 and "acme-web" in out and "globex" not in out
    code, out = await asyncio.to_thread(_run, ["checks", "run", "nope", "--config", cfg], env)
    assert code == 1 and "not found" in out


def test_uptime_strip_draws_one_mark_per_hour() -> None:
    from datetime import UTC, datetime, timedelta

    from tenantwatch.cli.checks_cmd import uptime_strip
    from tenantwatch.domain.checks import RollupRow

    end = datetime(2026, 11, 22, 13, 30, tzinfo=UTC)
    hour = end.replace(minute=0)

    def row(hours_ago: int, runs: int, ok: int) -> RollupRow:
        return RollupRow("c", "1h", hour - timedelta(hours=hours_ago), runs, ok, 0.1, 0.1)

    strip = uptime_strip([row(0, 60, 60), row(1, 1000, 995), row(2, 60, 30)], end, hours=4)
    assert strip == "[dim]·[/][red]▃[/][yellow]▆[/][green]█[/]"


async def test_commands_that_show_refuse_a_missing_database_instead_of_creating_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    for args in (["checks", "list"], ["health"], ["status"], ["tenant", "list"]):
        code, out = await asyncio.to_thread(_run, args, env)
        assert code == 1 and "no database at" in out and "start the server first" in out, out
    assert not (tmp_path / "tw.db").exists()
    assert not (tmp_path / "var").exists()


async def test_checks_list_with_a_config_never_syncs_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    code, out = await asyncio.to_thread(_run, ["migrate"], env)
    assert code == 0, out
    cfg = str(_config(tmp_path, "http://127.0.0.1:9"))
    code, out = await asyncio.to_thread(_run, ["checks", "list", "--config", cfg], env)
    assert code == 0 and "0 checks" in out, out
