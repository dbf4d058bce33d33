"""Every list command at 80 columns: no line wider, the key columns kept; --wide shows all;
-o json keeps full precision. Real commands against a real server and database."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tenantwatch.cli.main import app as cli
from tenantwatch.configuration import load_config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import Role, build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.live_server import live_app

LONG = "the primary database of this tenant answers slowly and drops connections under load"
CONFIG = """
tenants:
  - id: acme-corp
    name: Acme Corporation International Holdings
    tier: enterprise
    timezone: America/Argentina/Buenos_Aires
    labels: {region: us-east-1, plan: annual, owner: platform-team, cost_center: cc-1234}
  - id: globex-learning
    name: Globex Learning
    tier: professional
    timezone: Europe/Berlin
    labels: {region: eu-central-1}
checks:
  - id: acme-nightly-export-heartbeat
    tenant: acme-corp
    kind: heartbeat
    period: 1h
    grace: 5m
  - id: acme-primary-database-port
    tenant: acme-corp
    kind: tcp
    host: 127.0.0.1
    port: {closed}
    interval: 1h
    failure_threshold: 1
    critical: true
  - id: acme-api-port
    tenant: acme-corp
    kind: tcp
    host: 127.0.0.1
    port: {open}
    interval: 1h
"""


@dataclass
class Live:
    url: str
    env: dict[str, str]
    admin: str


def free_closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _bootstrap(settings: Settings, config_path: Path) -> str:
    cfg = load_config(config_path, {})
    rt = build_runtime(settings, cfg)
    try:
        await prepare(rt)
        admin = await rt.api_keys.ensure_admin()
        assert admin is not None
        settings.admin_key_file.write_text(admin.secret + "\n")
        for tenant in ("acme-corp", "globex-learning"):
            await rt.api_keys.issue(
                SYSTEM,
                name=f"grafana data source of {tenant}",
                scopes=[Scope.READ, Scope.WRITE],
                tenant_id=tenant,
            )
        page = await rt.checks.list(SYSTEM, limit=100)
        await rt.check_engine.run_now([c for c, _ in page.items])
    finally:
        await rt.stop()
    return admin.secret


def call(live: Live, method: str, path: str, body: Any, content_type: str) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310
        live.url + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {live.admin}", "Content-Type": content_type},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        assert resp.status < 300


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("narrow")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    config_path = root / "tenantwatch.yml"
    config_path.write_text(
        CONFIG.replace("{closed}", str(free_closed_port())).replace(
            "{open}", str(listener.getsockname()[1])
        )
    )
    settings = Settings(data_dir=root / "var", config=config_path, log_level="warning")
    settings.data_dir.mkdir()
    admin = asyncio.run(_bootstrap(settings, config_path))
    app = create_app(
        settings, build_runtime(settings, load_config(config_path, {})), roles={Role.API}
    )
    try:
        with live_app(app) as url:
            env = {
                "TENANTWATCH_DATA_DIR": str(settings.data_dir),
                "TENANTWATCH_CONFIG": str(config_path),
                "TENANTWATCH_PUBLIC_URL": url,
            }
            live = Live(url, env, admin)
            alerts = [
                {
                    "labels": {
                        "alertname": "CertificateExpiringCritical",
                        "tenant": tenant,
                        "severity": "critical",
                    },
                    "annotations": {"description": LONG},
                }
                for tenant in ("acme-corp", "globex-learning")
            ]
            call(live, "POST", "/api/v2/alerts", alerts, "application/json")
            silence = {
                "matchers": [
                    {"name": n, "value": v, "isRegex": False, "isEqual": True}
                    for n, v in [("alertname", "DatabaseConnectionHigh"), ("tenant", "acme-corp")]
                ],
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "2099-01-01T00:00:00Z",
                "createdBy": "someone.on.call@example.com",
                "comment": "planned maintenance of the primary database, ticket OPS-4711",
            }
            call(live, "POST", "/api/v2/silences", silence, "application/json")
            samples = "".join(
                f'tenantwatch_test_ratio{{tenant="{t}",endpoint="/api/v1/courses/{{id}}/lessons"}}'
                f" 0.123456789\n"
                for t in ("acme-corp", "globex-learning")
            )
            call(live, "POST", "/metrics/job/narrow", samples, "text/plain")
            yield live
    finally:
        listener.close()


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TENANTWATCH_API_KEY", "TENANTWATCH_LISTEN", "TENANTWATCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def run(live: Live, *args: str, columns: int = 80) -> Result:
    result = CliRunner().invoke(cli, list(args), env={**live.env, "COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result


@dataclass(frozen=True)
class Listing:
    args: tuple[str, ...]
    kept: tuple[str, ...]  # headers that stay at 80 columns
    values: tuple[str, ...]  # texts that must appear whole at 80 columns
    every: tuple[str, ...]  # every header, shown with --wide


LISTINGS = {
    "tenant list": Listing(
        ("tenant", "list"),
        ("id", "tier", "status"),
        ("acme-corp", "globex-learning", "enterprise"),
        ("id", "name", "tier", "status", "timezone", "labels", "managed by"),
    ),
    "apikey list": Listing(
        ("apikey", "list"),
        ("id", "scopes", "tenant"),
        ("acme-corp", "globex-learning"),
        ("id", "name", "prefix", "scopes", "tenant", "created", "last used", "revoked"),
    ),
    "health": Listing(
        ("health",),
        ("tenant", "status", "score", "uptime", "latency", "errors", "cpu/mem"),
        ("acme-corp", "globex-learning", "unhealthy", "66.7"),  # acme's uptime: 2 of 3 up
        (
            "tenant",
            "status",
            "score",
            "uptime",
            "latency",
            "errors",
            "cpu/mem",
            "up",
            "down",
            "avg response",
            "why",
        ),
    ),
    "health --tenant": Listing(
        ("health", "--tenant", "acme-corp"),
        ("tenant", "score", "id", "state"),
        ("acme-nightly-export-heartbeat", "acme-primary-database-port", "acme-api-port"),
        ("tenant", "why", "id", "kind", "since", "last run", "error"),
    ),
    "checks list": Listing(
        ("checks", "list"),
        ("id", "state"),
        ("acme-nightly-export-heartbeat", "acme-primary-database-port", "down", "up"),
        ("id", "tenant", "kind", "state", "since", "last run", "last", "error"),
    ),
    "alerts list": Listing(
        ("alerts", "list"),
        ("ID", "alert", "tenant"),
        ("acme-corp", "globex-learning"),
        ("ID", "alert", "tenant", "severity", "status", "since", "count", "summary"),
    ),
    "silence list": Listing(
        ("silence", "list"),
        ("ID", "matchers"),
        (),
        ("ID", "matchers", "state", "ends", "created by", "comment"),
    ),
    "query": Listing(
        ("query", "tenantwatch_test_ratio"),
        ("series", "value"),
        ("0.1235",),
        ("series", "value"),
    ),
    "query --range": Listing(
        ("query", "tenantwatch_test_ratio", "--range", "5m"),
        ("series", "last"),
        ("0.1235",),
        ("series", "last", "min", "max"),
    ),
}


@pytest.mark.parametrize("name", LISTINGS)
def test_at_80_columns_no_line_is_wider_and_the_key_columns_stay(live: Live, name: str) -> None:
    listing = LISTINGS[name]
    shown = run(live, *listing.args).output
    too_wide = [line for line in shown.splitlines() if len(line) > 80]
    assert not too_wide, f"{name}: lines over 80 columns:\n" + "\n".join(too_wide)
    for header in listing.kept:
        assert header in shown, f"{name}: column {header!r} was hidden\n{shown}"
    for value in listing.values:
        assert value in shown, f"{name}: {value!r} is not shown whole\n{shown}"


@pytest.mark.parametrize("name", LISTINGS)
def test_wide_shows_every_column(live: Live, name: str) -> None:
    listing = LISTINGS[name]
    shown = run(live, *listing.args, "--wide").output
    header_lines = "\n".join(line for line in shown.splitlines() if "┃" in line or "│" in line)
    for header in listing.every:
        assert header in header_lines, f"{name} --wide: no column {header!r}\n{shown}"
    assert "--wide shows them" not in shown


def test_json_keeps_full_precision(live: Live) -> None:
    health = json.loads(run(live, "health", "-o", "json").output)
    acme = next(t for t in health["tenants"] if t["tenant_id"] == "acme-corp")
    parts = {c["name"]: c for c in acme["components"]}
    # 2 of 3 checks up: uptime 2/3 x 100 at full precision; 1 of 3 down: error rate 33 %, 0
    assert parts["uptime"]["score"] == 2 / 3 * 100 and parts["error_rate"]["score"] == 0.0
    assert parts["resource_utilization"] == {
        "name": "resource_utilization",
        "score": 100.0,
        "weight": 0.1,
        "weighted": 10.0,
    }
    assert acme["score"] == round(sum(c["weighted"] for c in acme["components"]), 2)
    assert acme["status"] == "unhealthy"
    query = json.loads(run(live, "query", "tenantwatch_test_ratio", "-o", "json").output)
    assert {s["value"][1] for s in query["result"]} == {"0.123456789"}
    tenants = json.loads(run(live, "tenant", "list", "-o", "json").output)
    acme_tenant = next(t for t in tenants if t["id"] == "acme-corp")
    assert acme_tenant["labels"]["cost_center"] == "cc-1234"
    keys = json.loads(run(live, "apikey", "list", "-o", "json").output)
    assert {k["tenant_id"] for k in keys} >= {"acme-corp", "globex-learning"}
    assert all("secret" not in k and "hash" not in json.dumps(k) for k in keys)
    checks = json.loads(run(live, "checks", "list", "-o", "json").output)
    assert {c["state"]["status"] for c in checks} == {"up", "down"}
    durations = [c["state"]["last_duration_s"] for c in checks if c["kind"] == "tcp"]
    assert all(d != round(d, 4) for d in durations)  # the table shows "0.5 ms"
    assert all("token" not in c for c in checks)
    alerts = json.loads(run(live, "alerts", "list", "-o", "json").output)
    assert {a["alert_description"] for a in alerts} == {LONG}
    silences = json.loads(run(live, "silence", "list", "-o", "json").output)
    assert silences[0]["comment"].endswith("OPS-4711")


def test_status_fits_80_columns(live: Live) -> None:
    shown = run(live, "status").output
    table = [line for line in shown.splitlines() if not line.startswith("database:")]
    assert max(len(line) for line in table) <= 80  # the database URL line is a path
    assert "enterprise" in shown and "professional" in shown
