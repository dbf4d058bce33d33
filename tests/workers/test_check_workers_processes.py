"""Two real `tenantwatch serve --role checks` processes on PostgreSQL share the checks; when
one is killed with SIGKILL, the other takes its checks over within two intervals."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from tenantwatch.config.model import Config
from tenantwatch.promql.model import VectorResult
from tenantwatch.runtime.root import build_runtime
from tenantwatch.settings import Settings
from tests.checks_support import http_target
from tests.conftest import create_pg_database, drop_pg_database

INTERVAL_S = 2.0
CHECKS = 6


def _config(url: str) -> str:
    lines = ["tenants:", "  - {id: acme, name: Acme, tier: enterprise}", "checks:"]
    for i in range(CHECKS):
        lines.append(
            f"  - {{id: c{i}, tenant: acme, kind: http, url: '{url}/c{i}', interval: 2s, "
            "timeout: 1s}"
        )
    return "\n".join(lines) + "\n"


def _start(tmp: Path, name: str, db_url: str, config: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TENANTWATCH_DATABASE_URL": db_url,
        "TENANTWATCH_CONFIG": str(config),
        "TENANTWATCH_DATA_DIR": str(tmp / name),
        "TENANTWATCH_LOG_LEVEL": "warning",
    }
    exe = Path(sys.executable).with_name("tenantwatch")
    log = (tmp / f"{name}.log").open("wb")
    return subprocess.Popen(
        [str(exe), "serve", "--role", "checks"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


async def _rows(dsn: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def _wait_for(dsn: str, sql: str, timeout: float) -> list[asyncpg.Record]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            rows = await _rows(dsn, sql)
            if rows and all(r[0] for r in rows):
                return rows
        except (asyncpg.PostgresError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {sql}")
        await asyncio.sleep(0.3)


async def _api_process_writes_their_samples(db_url: str, tmp: Path) -> None:
    """The process holding the metric store turns the workers' stored results into series."""
    rt = build_runtime(Settings(database_url=db_url, data_dir=tmp / "api"), Config())
    assert rt.metrics is not None and rt.check_engine.tailer is not None
    await rt.metrics.start()
    try:
        assert await rt.check_engine.tailer.poll() > 0
        result = await rt.metrics.queries.instant(
            "count(count by (check) (tenantwatch_check_up))", int(time.time() * 1000)
        )
        assert isinstance(result.value, VectorResult)
        assert [s.v for s in result.value.samples] == [float(CHECKS)]
    finally:
        await rt.stop()


async def test_two_workers_share_and_take_over(tmp_path: Path) -> None:
    db_url = await create_pg_database()
    dsn = db_url.replace("postgresql+asyncpg://", "postgresql://")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        async with http_target() as target:
            config = tmp_path / "tw.yml"
            config.write_text(_config(target.url))
            procs.append(_start(tmp_path, "a", db_url, config))
            await _wait_for(dsn, "SELECT count(*) >= 6 FROM check_results", 60)
            procs.append(_start(tmp_path, "b", db_url, config))
            await _wait_for(dsn, "SELECT count(DISTINCT worker) = 2 FROM check_state", 60)
            # both run checks; no slot is run twice: per check at most one run per 2 s slot
            t0 = time.time()
            await asyncio.sleep(3 * INTERVAL_S)
            per_check = await _rows(
                dsn,
                "SELECT check_id, count(*) FROM check_results "
                "WHERE at >= to_timestamp($1) GROUP BY check_id",
                t0,
            )
            assert len(per_check) == CHECKS
            assert all(n <= 4 for _, n in per_check), per_check
            # kill -9 the first worker; the second runs every check within two intervals
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait()
            killed_at = time.time()
            await asyncio.sleep(2 * INTERVAL_S + 1.0)
            fresh = await _rows(
                dsn,
                "SELECT check_id, max(at) FROM check_results GROUP BY check_id",
            )
            assert len(fresh) == CHECKS
            assert all(at.timestamp() > killed_at for _, at in fresh), fresh
            owners = await _rows(dsn, "SELECT DISTINCT worker FROM check_state")
            assert len(owners) == 1 and owners[0][0].endswith(f":{procs[1].pid}")
        await _api_process_writes_their_samples(db_url, tmp_path)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        await drop_pg_database(db_url)
