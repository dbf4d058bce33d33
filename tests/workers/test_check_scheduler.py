"""The scheduler: checks run once per interval, fairly; two workers share slots on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from tenantwatch.adapters.probes.executor import ProbeExecutor
from tenantwatch.adapters.probes.guard import probe_policy
from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.probe_targets import target_host
from tenantwatch.domain.tenants import TenantStatus
from tenantwatch.runtime.root import Runtime
from tenantwatch.workers.checks import CheckScheduler
from tests.checks_support import check_model, http_target, loopback_config


@pytest.fixture
def runtime_config() -> Config:
    """Checks made through the API here probe loopback targets, so loopback is allowed."""
    return loopback_config()


def _scheduler(rt: Runtime, worker: str, *, claim: bool) -> CheckScheduler:
    return CheckScheduler(
        rt.checks,
        ProbeExecutor(policy=probe_policy(loopback_config().check_runner)),
        rt.ctx.tiers,
        host_of=target_host,
        claim=claim,
        worker=worker,
        refresh_s=0.5,
        flush_s=0.2,
    )


async def _make(rt: Runtime, url: str, n: int, tenant: str = "alpha", **kw: Any) -> list[str]:
    ids = []
    for i in range(n):
        model = check_model(
            id=f"{tenant}.c{i}",
            tenant=tenant,
            kind="http",
            url=f"{url}/{tenant}/{i}",
            interval="1s",
            timeout="900ms",
            **kw,
        )
        ids.append((await rt.checks.create(SYSTEM, model)).id)  # type: ignore[arg-type]
    return ids


async def _results(rt: Runtime) -> Counter[str]:
    page = await rt.checks.history(SYSTEM, tenant_id=None, limit=1000)
    return Counter(r.check_id for _, r in page.items)


async def test_each_check_runs_once_per_interval(runtime: Runtime, two_tenants: Any) -> None:
    async with http_target() as target:
        await _make(runtime, target.url, 5)
        stop = asyncio.Event()
        sched = _scheduler(runtime, "w1", claim=runtime.engine.dialect.name == "postgresql")
        task = asyncio.create_task(sched.run(stop))
        await asyncio.sleep(4.2)
        stop.set()
        await task
    counts = await _results(runtime)
    assert set(counts) == {f"alpha.c{i}" for i in range(5)}
    assert all(3 <= n <= 5 for n in counts.values()), counts


async def test_a_slow_tenant_does_not_delay_another(runtime: Runtime, two_tenants: Any) -> None:
    async with http_target() as slow, http_target() as fast:
        slow.delay_s = 0.8
        await _make(runtime, slow.url, 12, tenant="alpha")
        await _make(runtime, fast.url, 3, tenant="bravo")
        stop = asyncio.Event()
        sched = CheckScheduler(
            runtime.checks,
            ProbeExecutor(policy=probe_policy(loopback_config().check_runner)),
            runtime.ctx.tiers,
            host_of=lambda c: "",
            concurrency=4,
            refresh_s=0.5,
            flush_s=0.2,
        )
        task = asyncio.create_task(sched.run(stop))
        await asyncio.sleep(3.2)
        stop.set()
        await task
    counts = await _results(runtime)
    bravo = [counts[f"bravo.c{i}"] for i in range(3)]
    assert all(n >= 2 for n in bravo), counts  # every second, despite alpha's slow targets


async def test_two_workers_share_checks_and_take_over(runtime: Runtime, two_tenants: Any) -> None:
    if runtime.engine.dialect.name != "postgresql":
        return  # several workers need PostgreSQL; SQLite runs one process
    async with http_target() as target:
        await _make(runtime, target.url, 8)
        stop_a, stop_b = asyncio.Event(), asyncio.Event()
        a, b = _scheduler(runtime, "a", claim=True), _scheduler(runtime, "b", claim=True)
        ta = asyncio.create_task(a.run(stop_a))
        tb = asyncio.create_task(b.run(stop_b))
        await asyncio.sleep(3.2)
        shared = await _results(runtime)
        assert a.runs_done > 0 and b.runs_done > 0
        # never twice: at most one run per check per 1 s slot
        assert all(n <= 4 for n in shared.values()), shared
        stop_a.set()  # worker a stops (its checks stay in b's plan)
        await ta
        before = b.runs_done
        await asyncio.sleep(2.5)
        stop_b.set()
        await tb
    assert b.runs_done - before >= 8  # b ran every check at least once after a left


async def test_flapping_targets_never_change_state(runtime: Runtime, two_tenants: Any) -> None:
    """200 checks whose target alternates 200 and 500 on every request stay up; a target
    that stays down turns its checks down only after three failures."""
    async with http_target() as target:
        target.flap = True
        for i in range(200):
            model = check_model(
                id=f"{'alpha' if i % 2 else 'bravo'}.flap-{i}",
                tenant="alpha" if i % 2 else "bravo",
                kind="http",
                url=f"{target.url}/flap/{i}",
                interval="1s",
                timeout="900ms",
            )
            await runtime.checks.create(SYSTEM, model)  # type: ignore[arg-type]
        stop = asyncio.Event()
        sched = _scheduler(runtime, "w1", claim=runtime.engine.dialect.name == "postgresql")
        task = asyncio.create_task(sched.run(stop))
        await asyncio.sleep(5.5)
        stop.set()
        await task
    changes = await runtime.checks.changes(SYSTEM, tenant_id=None, limit=1000)
    assert changes, "the checks never ran"
    assert {(str(c.old), str(c.new)) for c in changes} == {("unknown", "up")}
    counts = await _results(runtime)
    assert len(counts) == 200 and min(counts.values()) >= 3


async def test_a_late_heartbeat_goes_down_after_its_grace(
    runtime: Runtime, two_tenants: Any
) -> None:
    from tenantwatch.domain.heartbeat import PingKind

    model = check_model(id="alpha.job", tenant="alpha", kind="heartbeat", period="1s", grace="1s")
    check = await runtime.checks.create(SYSTEM, model)  # type: ignore[arg-type]
    assert check.token
    await runtime.check_engine.pings.ping(check.token, PingKind.SUCCESS, None, None)
    stop = asyncio.Event()
    sched = _scheduler(runtime, "w1", claim=False)
    task = asyncio.create_task(sched.run(stop))
    try:
        await asyncio.sleep(1.2)
        _, state = await runtime.checks.get(SYSTEM, "alpha.job")
        assert str(state.status) == "up"
        await asyncio.sleep(2.5)  # past period + grace with no ping
        _, state = await runtime.checks.get(SYSTEM, "alpha.job")
        assert str(state.status) == "down" and "no ping since" in (state.last_error or "")
        await runtime.check_engine.pings.ping(check.token, PingKind.SUCCESS, None, None)
        await asyncio.sleep(1.5)
        _, state = await runtime.checks.get(SYSTEM, "alpha.job")
        assert str(state.status) == "up"
    finally:
        stop.set()
        await task
        await runtime.check_engine.pings.close()


async def test_a_tier_change_reschedules_the_tenants_checks(
    runtime: Runtime, two_tenants: Any
) -> None:
    from tenantwatch.services.tenants import TenantPatch

    model = check_model(id="bravo.web", tenant="bravo", kind="http", url="http://127.0.0.1:9/")
    await runtime.checks.create(SYSTEM, model)  # type: ignore[arg-type]
    sched = _scheduler(runtime, "w1", claim=False)
    assert await sched.refresh()
    assert sched.plan["bravo.web"].interval_s == 300  # basic
    assert not await sched.refresh()  # nothing changed
    await runtime.tenants.update(SYSTEM, "bravo", TenantPatch(tier="enterprise"))
    assert await sched.refresh()
    assert sched.plan["bravo.web"].interval_s == 30
    await runtime.tenants.update(SYSTEM, "bravo", TenantPatch(status=TenantStatus.SUSPENDED))
    assert await sched.refresh()
    assert "bravo.web" not in sched.plan
