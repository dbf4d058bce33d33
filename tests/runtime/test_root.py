"""Runtime.start(roles) starts what the roles run, and stop() ends all of it."""

from __future__ import annotations

from pathlib import Path

from tenantwatch.config.model import Config
from tenantwatch.runtime.root import ALL_ROLES, Role, build_runtime
from tenantwatch.settings import Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}", data_dir=tmp_path / "var"
    )


async def test_the_checks_role_runs_the_scheduler_without_metric_store_or_alert_manager(
    tmp_path: Path,
) -> None:
    rt = build_runtime(_settings(tmp_path), Config())
    try:
        await rt.start({Role.CHECKS})
        assert rt.check_engine.running
        assert not rt.metrics.running
        assert rt.outbox._task is None
        assert rt.rules._tasks == {}
    finally:
        await rt.stop()
    assert not rt.check_engine.running


async def test_every_role_starts_the_store_the_alert_manager_and_the_rules_then_stops_them(
    tmp_path: Path,
) -> None:
    rt = build_runtime(_settings(tmp_path), Config())
    try:
        report = await rt.start(ALL_ROLES)
        assert report is rt.last_sync
        assert rt.metrics.running and rt.check_engine.running
        assert rt.outbox._task is not None
        assert rt.rules._started
    finally:
        await rt.stop()
    assert not rt.metrics.running and not rt.check_engine.running
    assert rt.outbox._task is None and not rt.rules._started


async def test_the_api_role_evaluates_no_rules(tmp_path: Path) -> None:
    rt = build_runtime(_settings(tmp_path), Config())
    try:
        await rt.start({Role.API})
        assert rt.metrics.running and rt.outbox._task is not None
        assert not rt.rules._started
    finally:
        await rt.stop()
