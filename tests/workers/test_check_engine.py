"""Every kind run through the engine against real loopback services, recorded, and written
as metric series that PromQL reads."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.check_record import check_from_model
from tenantwatch.promql.model import VectorResult, VectorSample
from tenantwatch.runtime.root import Runtime
from tests.checks_support import check_model, http_target

PG = os.environ.get("TENANTWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("TENANTWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")


def healthy_orders(threshold: float = 1.0) -> dict[str, Any]:
    """A business-logic check used by the python kind below."""
    return {"ok": True, "value": 0.25, "details": {"cpu_percent": 12.5, "threshold": threshold}}


def _samples(result: Any) -> list[VectorSample]:
    assert isinstance(result.value, VectorResult)
    return list(result.value.samples)


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 ready\r\n")
    await writer.drain()
    writer.close()


async def test_every_kind_and_its_series(runtime: Runtime, two_tenants: Any) -> None:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await runtime.metrics.start()  # type: ignore[union-attr]
    try:
        async with server, http_target() as target:
            models = [
                dict(kind="http", url=target.url + "/x", conditions=["[BODY].status == healthy"]),
                dict(kind="tcp", host="127.0.0.1", port=port, expect="220"),
                dict(kind="postgres", dsn=PG, query="SELECT 41 + 1", expected="42"),
                dict(kind="redis", url=REDIS),
                dict(
                    kind="python",
                    target="tests.workers.test_check_engine:healthy_orders",
                    args={"threshold": 2.0},
                    conditions=["[VALUE] < 0.5"],
                ),
                dict(kind="heartbeat", period="1h", grace="1h"),
            ]
            checks = []
            async with runtime.ctx.uow() as uow:
                for i, m in enumerate(models):
                    model = check_model(id=f"k{i}-{m['kind']}", tenant="alpha", **m)
                    check = check_from_model(
                        model,  # type: ignore[arg-type]
                        check_id=f"k{i}-{m['kind']}",
                        managed_by="config",
                        now=runtime.ctx.clock(),
                        token=f"token-for-check-{i:04d}",
                    )
                    await uow.checks.insert(check)
                    checks.append(check)
            runs, _ = await runtime.check_engine.run_now(checks)
        tailer = runtime.check_engine.tailer
        assert tailer is not None
        assert await tailer.poll() == len(checks)  # the stored results become samples
        assert await tailer.poll() == 0  # once
        by_kind = {str(r.kind): r for r in runs}
        for kind, run in by_kind.items():
            assert run.ok, (kind, run.error, run.conditions)
        assert by_kind["postgres"].details["value"] == "42"
        assert by_kind["postgres"].details["max_connections"] > 0
        assert by_kind["redis"].details["used_memory"] > 0
        assert by_kind["python"].details["value"] == 0.25
        health = await runtime.checks.health(SYSTEM, "alpha")
        assert health.resources["cpu_percent"] == 12.5
        assert health.status.value == "healthy"
        now_ms = int(time.time() * 1000)
        result = await runtime.metrics.queries.instant(  # type: ignore[union-attr]
            'count by (kind) (tenantwatch_check_up{tenant="alpha"} == 1)', now_ms
        )
        kinds = {dict(s.labels)["kind"] for s in _samples(result)}
        assert kinds == {"http", "tcp", "postgres", "redis", "python", "heartbeat"}
        phases = await runtime.metrics.queries.instant(  # type: ignore[union-attr]
            'tenantwatch_check_phase_duration_seconds{check="k0-http"}', now_ms
        )
        assert {dict(s.labels)["phase"] for s in _samples(phases)} >= {"connect", "processing"}
        status = await runtime.metrics.queries.instant(  # type: ignore[union-attr]
            "tenantwatch_check_status_code", now_ms
        )
        assert [s.v for s in _samples(status)] == [200.0]
    finally:
        await runtime.metrics.stop()  # type: ignore[union-attr]
