"""Checks end to end on SQLite and PostgreSQL: runs, thresholds, history, health, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Principal, Scope
from tenantwatch.domain.checks import CheckStatus
from tenantwatch.domain.heartbeat import PingKind
from tenantwatch.domain.tenant_health import HealthStatus
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.errors import Forbidden, NotFound
from tests.checks_support import Target, check_model, http_target, loopback_config


@pytest.fixture
def runtime_config() -> Config:
    """Checks made through the API here probe loopback targets, so loopback is allowed."""
    return loopback_config()


def _tenant_key(tenant: str) -> Principal:
    return Principal(actor=f"key:{tenant}", scopes=frozenset({Scope.WRITE}), tenant_id=tenant)


async def _http_check(rt: Runtime, target: Target, cid: str, tenant: str = "alpha", **kw: Any):  # type: ignore[no-untyped-def]
    model = check_model(
        id=cid,
        tenant=tenant,
        kind="http",
        url=target.url + "/" + cid,
        conditions=["[STATUS] == 200", "[BODY].status == healthy"],
        **kw,
    )
    return await rt.checks.create(SYSTEM, model)  # type: ignore[arg-type]


async def test_thresholds_history_and_changes(runtime: Runtime, two_tenants: Any) -> None:
    async with http_target() as target:
        check = await _http_check(runtime, target, "alpha.api")
        statuses = []
        for status in (200, 503, 503, 200, 503, 503, 503, 200, 200):
            target.status = status
            runs, outcome = await runtime.check_engine.run_now([check])
            assert runs[0].ok is (status == 200)
            statuses.append(outcome.states[check.id].status)
    U, D = CheckStatus.UP, CheckStatus.DOWN
    assert statuses == [U, U, U, U, U, U, D, D, U]
    page = await runtime.checks.history(SYSTEM, tenant_id="alpha", limit=100)
    assert len(page.items) == 9
    newest = page.items[0][1]
    assert newest.ok and [c.ok for c in newest.conditions] == [True, True]
    failed = page.items[2][1]
    assert failed.error == "status 503 not in expected 200-399"
    changes = await runtime.checks.changes(SYSTEM, tenant_id="alpha")
    assert [(str(c.old), str(c.new)) for c in changes] == [
        ("down", "up"),
        ("up", "down"),
        ("unknown", "up"),
    ]
    assert "3 failed runs in a row" in changes[1].reason
    rollups = await runtime.checks.uptime(
        SYSTEM, check.id, resolution="1h", since=datetime.now(UTC) - timedelta(hours=2)
    )
    assert sum(r.runs for r in rollups) == 9 and sum(r.ok_runs for r in rollups) == 4


async def test_tenant_health_and_isolation(runtime: Runtime, two_tenants: Any) -> None:
    async with http_target() as target:
        a = await _http_check(runtime, target, "alpha.api", failure_threshold=1)
        b = await _http_check(runtime, target, "bravo.api", tenant="bravo")
        await runtime.check_engine.run_now([a, b])
        target.status = 500
        await runtime.check_engine.run_now([a])
    alpha = await runtime.checks.health(SYSTEM, "alpha")
    assert alpha.status is HealthStatus.UNHEALTHY and alpha.checks_down == 1
    assert (await runtime.checks.health(SYSTEM, "bravo")).status is HealthStatus.HEALTHY
    platform = {h.tenant_id: h.status for h in await runtime.checks.platform(SYSTEM)}
    assert platform == {"alpha": HealthStatus.UNHEALTHY, "bravo": HealthStatus.HEALTHY}
    key = _tenant_key("bravo")
    with pytest.raises(NotFound):
        await runtime.checks.get(key, "alpha.api")
    with pytest.raises(NotFound):
        await runtime.checks.health(key, "alpha")
    assert [c.id for c, _ in (await runtime.checks.list(key)).items] == ["bravo.api"]
    assert [h.tenant_id for h in await runtime.checks.platform(key)] == ["bravo"]
    with pytest.raises(NotFound):
        await runtime.checks.create(key, check_model(tenant="alpha", kind="tcp", host="h", port=1))  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        await runtime.checks.create(
            SYSTEM,
            check_model(tenant="alpha", kind="python", target="os:getcwd"),  # type: ignore[arg-type]
        )


async def test_heartbeat_pings_and_judgement(runtime: Runtime, two_tenants: Any) -> None:
    model = check_model(tenant="alpha", kind="heartbeat", period="1m", grace="30s")
    check = await runtime.checks.create(SYSTEM, model)  # type: ignore[arg-type]
    assert check.token and len(check.token) >= 20
    found = await runtime.check_engine.pings.ping(check.token, PingKind.SUCCESS, None, "1.2.3.4")
    assert found is not None and found.id == check.id
    assert await runtime.check_engine.pings.ping("nope", PingKind.SUCCESS, None, None) is None
    runs, _ = await runtime.check_engine.run_now([check])
    assert runs[0].ok and runs[0].details["heartbeat"] == "up"
    await runtime.check_engine.pings.ping(check.token, PingKind.FAIL, 3, None)
    runs, outcome = await runtime.check_engine.run_now([check])
    assert not runs[0].ok and "reported failure" in (runs[0].error or "")
    assert outcome.states[check.id].status is CheckStatus.DOWN  # threshold 1 for heartbeats
    await runtime.check_engine.pings.close()


async def test_deleting_a_tenant_removes_its_check_history(
    runtime: Runtime, two_tenants: Any
) -> None:
    async with http_target() as target:
        check = await _http_check(runtime, target, "alpha.api")
        await runtime.check_engine.run_now([check])
    await runtime.tenants.delete(SYSTEM, "alpha")
    assert (await runtime.checks.history(SYSTEM, tenant_id=None)).items == []
