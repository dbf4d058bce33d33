"""`tenantwatch query` against the real app under uvicorn on loopback, and its pure helpers."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog
import typer
import uvicorn
from typer.testing import CliRunner, Result

from tenantwatch.cli.query import query as query_command
from tenantwatch.cli.query import range_rows, sparkline
from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.metrics.backend import EmbeddedBackend
from tenantwatch.metrics.head import Head
from tenantwatch.promql.model import labels_of
from tenantwatch.runtime.root import Role, Runtime, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app

END = 1_700_000_000  # seconds; samples every 15 s for the 10 minutes before
cli = typer.Typer()
cli.command()(query_command)


def filled_head() -> Head:
    """`up` = 1 and a counter rising 10 per 15 s, for jobs api/db of tenants alpha and bravo."""
    head = Head()
    for tenant in ("alpha", "bravo"):
        for job in ("api", "db"):
            up = labels_of({"__name__": "up", "tenant": tenant, "job": job})
            total = labels_of({"__name__": "x_total", "tenant": tenant, "job": job})
            for i in range(41):
                t = END * 1000 - (40 - i) * 15_000
                head.append(up, t, 1.0)
                head.append(total, t, 10.0 * i)
    return head


@dataclass
class Live:
    url: str
    data_dir: Path
    admin: str
    alpha: str


@dataclass
class Holder:
    queries: object

    async def stop(self) -> None:
        return None


async def _bootstrap(rt: Runtime, data_dir: Path) -> tuple[str, str]:
    await prepare(rt)
    admin = await rt.api_keys.ensure_admin()
    assert admin is not None
    (data_dir / "admin-key").write_text(admin.secret + "\n")
    await rt.tenants.create(SYSTEM, TenantInput(id="alpha", name="Alpha", tier="basic"))
    alpha = await rt.api_keys.issue(SYSTEM, name="alpha", scopes=[Scope.READ], tenant_id="alpha")
    return admin.secret, alpha.secret


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The real app (with the Prometheus routes) under uvicorn on a free loopback port."""
    data_dir = tmp_path_factory.mktemp("query") / "var"
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir, log_level="warning")
    boot = build_runtime(settings, Config())
    admin, alpha = asyncio.run(_bootstrap(boot, data_dir))
    asyncio.run(boot.stop())

    rt = build_runtime(settings, Config())
    backend = EmbeddedBackend(filled_head())
    if getattr(rt, "metrics", None) is None:
        rt.metrics = Holder(backend)  # type: ignore[assignment]
    else:
        rt.metrics.queries = backend  # type: ignore[union-attr]
    app = create_app(settings, rt, roles={Role.API})

    saved_logging = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield Live(f"http://127.0.0.1:{port}", data_dir, admin, alpha)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        structlog.configure(**saved_logging)


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TENANTWATCH_API_KEY", "TENANTWATCH_PUBLIC_URL", "TENANTWATCH_LISTEN"):
        monkeypatch.delenv(name, raising=False)


def run(live: Live, *args: str, **env: str) -> Result:
    environment = {"TENANTWATCH_DATA_DIR": str(live.data_dir), "COLUMNS": "200", **env}
    return CliRunner().invoke(cli, ["--url", live.url, *args], env=environment)


def test_an_instant_query_prints_a_table_of_series_and_values(live: Live) -> None:
    result = run(live, "up", "--time", str(END))
    assert result.exit_code == 0, result.output
    rows = [[c.strip() for c in line.split("│")] for line in result.stdout.splitlines()]
    assert sorted(r for r in rows if r[0].startswith("up{")) == [
        ['up{job="api", tenant="alpha"}', "1"],
        ['up{job="api", tenant="bravo"}', "1"],
        ['up{job="db", tenant="alpha"}', "1"],
        ['up{job="db", tenant="bravo"}', "1"],
    ]


def test_an_aggregation_prints_its_labels(live: Live) -> None:
    result = run(live, "sum by (tenant) (x_total)", "--time", "2023-11-14T22:13:20Z")
    assert result.exit_code == 0, result.output
    assert '{tenant="alpha"}' in result.stdout and "800" in result.stdout


def test_a_scalar_prints_one_row(live: Live) -> None:
    result = run(live, "1+1")
    assert result.exit_code == 0, result.output
    assert "scalar" in result.stdout and "2" in result.stdout


def test_a_range_prints_last_min_max_and_a_sparkline(live: Live) -> None:
    result = run(live, 'x_total{job="api"}', "--range", "8m", "--step", "1m", "--time", str(END))
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "x_total{" in line]
    assert len(rows) == 2
    for row in rows:
        cells = [cell.strip() for cell in row.split("│")]
        assert cells[1:] == ["400", "80", "400", "▁▂▃▄▅▅▆▇█"]  # last, min, max, 80..400


def test_a_tenant_key_sees_only_its_tenant(live: Live) -> None:
    result = run(live, '{__name__=~".+"}', "--time", str(END), TENANTWATCH_API_KEY=live.alpha)
    assert result.exit_code == 0, result.output
    assert "alpha" in result.stdout and "bravo" not in result.stdout
    result = run(live, 'up{tenant="bravo"}', "--time", str(END), "--key", live.alpha)
    assert result.exit_code == 0 and "no data" in result.stdout


def test_a_bad_query_prints_prometheus_error_and_exits_1(live: Live) -> None:
    result = run(live, "sum(")
    assert result.exit_code == 1
    assert 'error: bad_data: invalid parameter "query"' in result.stderr


def test_too_many_points_print_prometheus_message(live: Live) -> None:
    result = run(live, "up", "--range", "1000d", "--step", "1s")
    assert result.exit_code == 1
    assert (
        "bad_data: exceeded maximum resolution of 11,000 points per timeseries. Try decreasing "
        "the query resolution (?step=XX)" in result.stderr
    )


def test_a_wrong_key_exits_1_with_a_hint(live: Live) -> None:
    result = run(live, "up", "--key", "tw_nope")
    assert result.exit_code == 1
    assert "HTTP 401: unknown or revoked API key (check --key" in result.stderr


def test_without_a_key_or_saved_admin_key_it_says_how_to_give_one(
    live: Live, tmp_path: Path
) -> None:
    result = run(live, "up", TENANTWATCH_DATA_DIR=str(tmp_path))
    assert result.exit_code == 2
    assert "no API key: pass --key, set TENANTWATCH_API_KEY" in result.stderr


def test_an_unreachable_server_exits_1(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"TENANTWATCH_LISTEN": f"127.0.0.1:{port}", "TENANTWATCH_API_KEY": "tw_x"}
    result = CliRunner().invoke(cli, ["up"], env=env)
    assert result.exit_code == 1
    assert f"cannot reach tenantwatch at http://127.0.0.1:{port}" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--step", "1m"], "--step needs --range"),
        (["--time", "noon"], "--time: cannot parse 'noon' to a valid timestamp"),
        (["--range", "an hour"], "--range: cannot parse 'an hour' to a valid duration"),
        (["--url", "ftp://x"], "is not an http:// or https:// URL"),
    ],
)
def test_bad_options_exit_2_with_the_fix(live: Live, args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        cli, ["up", *args], env={"TENANTWATCH_DATA_DIR": str(live.data_dir), "COLUMNS": "200"}
    )
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_sparkline_scales_between_min_and_max() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5, 5]) == "▄▄▄"
    assert sparkline([1, None, float("nan"), 2]) == "▁  █"
    assert sparkline([]) == ""
    assert sparkline([None, None]) == "  "


def test_sparkline_fits_long_series_into_its_width() -> None:
    line = sparkline([float(i) for i in range(1000)], width=40)
    assert len(line) == 40 and line[0] == "▁" and line[-1] == "█"


def test_range_rows_draw_on_the_step_grid_with_gaps() -> None:
    result = [
        {"metric": {"__name__": "x", "a": "b"}, "values": [[0, "1"], [120, "3"]]},
        {"metric": {}, "values": [[60, "NaN"]]},
    ]
    rows = range_rows(result, 0, 120_000, 60_000)
    assert (rows[0].series, rows[0].last, rows[0].low, rows[0].high) == ('x{a="b"}', "3", "1", "3")
    assert rows[0].spark == "▁ █"
    assert (rows[1].series, rows[1].low, rows[1].spark) == ("{}", "", "   ")
