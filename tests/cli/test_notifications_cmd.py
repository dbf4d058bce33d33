"""`tenantwatch notifications list` against the real app on loopback: filters, paging through
the API's cursor, JSON, 80 columns, no secrets, and nothing written."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from tenantwatch.adapters.db.tables import notifications
from tenantwatch.cli import notifications_cmd
from tenantwatch.cli.main import app as cli
from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.runtime.root import Role, Runtime, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.live_server import live_app

T0 = time.time() - 3600  # within the outbox's retention: sent rows are not pruned
FAR = 4_000_000_000.0  # pending rows due long after the test: the outbox leaves them alone
SECRET = "T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX"
GROUP = '{}/{severity="critical"}:{alertname="CheckoutDown"}'


@dataclass
class Live:
    url: str
    data_dir: Path
    admin: str
    ids: dict[str, int]


def _row(key: str, **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "tenant_id": "alpha",
        "idempotency_key": key,
        "receiver": "slack-critical",
        "integration": "slack/0",
        "kind": "slack",
        "target": "https://hooks.slack.com/services/***",
        "group_key": GROUP,
        "fingerprints": ["0a1b2c3d4e5f6071", "8293a4b5c6d7e8f9"],
        "alert_status": "firing",
        "request": {"url": f"https://hooks.slack.com/services/{SECRET}"},
        "status": "sent",
        "attempts": 1,
        "next_attempt_at": T0,
        "created_at": T0,
        "last_attempt_at": T0,
        "sent_at": T0,
        "last_status_code": 200,
        "last_error": None,
    }
    return {**values, **over}


ROWS = [
    _row(  # replaced by "sent" (set in _bootstrap) while it waited for a retry
        "superseded",
        status="superseded",
        sent_at=None,
        last_status_code=503,
        last_error="HTTP 503: Service Unavailable",
    ),
    _row("sent"),
    _row(
        "dead",
        receiver="ops-webhook",
        integration="webhook/0",
        kind="webhook",
        target="http://10.1.2.3:9000/hook",
        status="dead",
        attempts=12,
        sent_at=None,
        last_status_code=503,
        last_error="gave up after 12 attempts; last: http://10.1.2.3:9000/hook: HTTP 503: "
        "upstream unavailable",
    ),
    _row(
        "pending",
        tenant_id="bravo",
        status="pending",
        attempts=0,
        next_attempt_at=FAR,
        last_attempt_at=None,
        sent_at=None,
        last_status_code=None,
    ),
    _row("old", fingerprints=None, group_key=None),
    _row("platform", tenant_id=None, receiver="default"),
]


async def _bootstrap(rt: Runtime, data_dir: Path) -> tuple[str, dict[str, int]]:
    await prepare(rt)
    admin = await rt.api_keys.ensure_admin()
    assert admin is not None and rt.outbox is not None
    (data_dir / "admin-key").write_text(admin.secret + "\n")
    for tenant in ("alpha", "bravo"):
        await rt.tenants.create(SYSTEM, TenantInput(id=tenant, name=tenant, tier="basic"))
    await rt.outbox.repo.enqueue_many(ROWS)
    listed = await rt.outbox.repo.list(before_id=None, limit=10)
    ids = {r.idempotency_key: r.id for r in listed}
    async with rt.engine.begin() as conn:
        await conn.execute(
            update(notifications)
            .where(notifications.c.id == ids["superseded"])
            .values(superseded_by=ids["sent"])
        )
    return admin.secret, ids


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("notifications") / "var"
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir, log_level="warning")
    boot = build_runtime(settings, Config())
    admin, ids = asyncio.run(_bootstrap(boot, data_dir))
    asyncio.run(boot.stop())
    with live_app(create_app(settings, build_runtime(settings, Config()), roles={Role.API})) as url:
        yield Live(url, data_dir, admin, ids)


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TENANTWATCH_API_KEY", "TENANTWATCH_PUBLIC_URL", "TENANTWATCH_LISTEN"):
        monkeypatch.delenv(name, raising=False)


def run(live: Live, *args: str, columns: int = 80, **env: str) -> Result:
    environment = {"TENANTWATCH_DATA_DIR": str(live.data_dir), "COLUMNS": str(columns), **env}
    return CliRunner().invoke(
        cli, ["notifications", "list", *args, "--url", live.url], env=environment
    )


def listed(live: Live, *args: str) -> dict[str, Any]:
    result = run(live, *args, "-o", "json")
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.output)
    return answer


def keys(live: Live, answer: dict[str, Any]) -> list[str]:
    by_id = {v: k for k, v in live.ids.items()}
    return [by_id[item["id"]] for item in answer["items"]]


def get(live: Live, path: str) -> Any:
    request = urllib.request.Request(  # noqa: S310
        live.url + path, headers={"Authorization": f"Bearer {live.admin}"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        return json.loads(resp.read())


def test_the_table_shows_state_alerts_group_and_reason_in_80_columns(live: Live) -> None:
    result = run(live)
    assert result.exit_code == 0, result.output
    out = result.output
    assert max(len(line) for line in out.splitlines()) <= 80, out
    assert "6 notifications" in out
    for text in ("slack-critical", "ops-webhook", "0a1b2c3d4e5f6071", "8293a4b5c6d7e8f9"):
        assert text in out
    assert "dead" in out and "12 tries" in out and "HTTP 503" in out
    assert "upstream" in out and "unavailable" in out  # the reason, folded
    assert 'alertname="CheckoutDown"' in out.replace("\n", "").replace(" ", "") or (
        "CheckoutDown" in out
    )
    assert "?" in out  # an old row's alerts are unknown, not "none"
    assert SECRET not in out and "XXXXXXXX" not in out


def test_filters_by_status_receiver_and_tenant(live: Live) -> None:
    assert keys(live, listed(live, "--status", "dead")) == ["dead"]
    assert keys(live, listed(live, "--receiver", "default")) == ["platform"]
    assert keys(live, listed(live, "--tenant", "bravo")) == ["pending"]
    assert keys(live, listed(live, "--failing")) == ["dead"]
    assert keys(live, listed(live, "--kind", "webhook")) == ["dead"]
    bad = run(live, "--status", "lost")
    assert bad.exit_code == 2 and "lost" in bad.output
    assert listed(live, "--tenant", "nobody")["items"] == []
    invalid = run(live, "--tenant", "Not A Tenant")
    assert invalid.exit_code == 1 and "422" in invalid.output


def test_superseded_notifications_are_listed_with_the_one_that_replaced_them(
    live: Live,
) -> None:
    answer = listed(live, "--status", "superseded")
    assert keys(live, answer) == ["superseded"]
    assert answer["items"][0]["superseded_by"] == live.ids["sent"]
    table = run(live, "--status", "superseded")
    assert table.exit_code == 0, table.output
    out = table.output
    assert "superseded" in out and f"replaced by #{live.ids['sent']}" in out


def test_json_carries_fingerprints_and_group_key_and_no_request(live: Live) -> None:
    answer = listed(live)
    assert answer["next_cursor"] is None
    assert keys(live, answer) == ["platform", "old", "pending", "dead", "sent", "superseded"]
    sent = answer["items"][-2]
    assert sent["fingerprints"] == ["0a1b2c3d4e5f6071", "8293a4b5c6d7e8f9"]
    assert sent["group_key"] == GROUP
    assert answer["items"][1]["fingerprints"] is None
    text = json.dumps(answer)
    assert SECRET not in text and '"request"' not in text


def test_it_pages_through_the_api_cursor(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifications_cmd, "PAGE_MAX", 2)
    everything = listed(live, "--limit", "100")
    assert keys(live, everything) == ["platform", "old", "pending", "dead", "sent", "superseded"]
    first = listed(live, "--limit", "3")
    assert keys(live, first) == ["platform", "old", "pending"] and first["next_cursor"]
    rest = listed(live, "--cursor", first["next_cursor"])
    assert keys(live, rest) == ["dead", "sent", "superseded"]
    table = run(live, "--limit", "3")
    assert f"--cursor {first['next_cursor']}" in table.output.replace("\n", "")


def test_listing_reads_only(live: Live, tmp_path: Path) -> None:
    """With a config that declares a tenant, nothing is synced, and nothing is written."""
    config = tmp_path / "tenantwatch.yml"
    config.write_text("tenants:\n  - {id: ghost, name: Ghost, tier: basic}\n")
    audit = get(live, "/api/v1/audit?limit=1000")
    counts = get(live, "/api/v1/notifications/counts")
    result = run(live, TENANTWATCH_CONFIG=str(config))
    assert result.exit_code == 0, result.output
    assert get(live, "/api/v1/audit?limit=1000") == audit
    assert get(live, "/api/v1/notifications/counts") == counts
    tenants = [t["id"] for t in get(live, "/api/v1/tenants?limit=100")["items"]]
    assert "ghost" not in tenants


def test_a_wrong_key_says_so(live: Live) -> None:
    result = run(live, "--key", "tw_nope")
    assert result.exit_code == 1 and "401" in result.output
