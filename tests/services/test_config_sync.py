"""Config sync on SQLite and PostgreSQL: dropped checks are archived with their history, a
sync from another file or one that removes everything is refused, and the file is recorded."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from tenantwatch.configuration import load_config
from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.runtime.root import Runtime, build_runtime, prepare, sync_config
from tenantwatch.services.config_sync import SyncRefused
from tenantwatch.services.errors import Conflict
from tenantwatch.settings import Settings
from tests.checks_support import http_target

TENANTS = """
tenants:
  - {id: alpha, name: Alpha, tier: enterprise}
  - {id: beta, name: Beta, tier: basic}
"""


def _config(url: str, *check_ids: str) -> str:
    checks = "".join(
        f"  - {{id: {cid}, tenant: alpha, kind: http, url: '{url}/{cid}'}}\n" for cid in check_ids
    )
    return TENANTS + ("checks:\n" + checks if checks else "checks: []\n")


Opener = Callable[[Path], Coroutine[Any, Any, Runtime]]


@pytest.fixture
async def open_rt(settings: Settings) -> AsyncIterator[Opener]:
    """Open a runtime on the test database with the given config file (closed afterwards)."""
    opened: list[Runtime] = []

    async def open_(path: Path) -> Runtime:
        s = settings.model_copy(update={"config": path})
        rt = build_runtime(s, load_config(path, dict(os.environ)))
        opened.append(rt)
        return rt

    yield open_
    for rt in opened:
        await rt.stop()


async def test_a_check_the_file_drops_is_archived_with_its_history_and_comes_back(
    open_rt: Opener, tmp_path: Path
) -> None:
    cfg = tmp_path / "tenantwatch.yml"
    async with http_target() as target:
        cfg.write_text(_config(target.url, "alpha-api", "alpha-web"))
        rt = await open_rt(cfg)
        await prepare(rt)
        web, _ = await rt.checks.get(SYSTEM, "alpha-web")
        await rt.check_engine.run_now([web])
        await rt.check_engine.run_now([web])

        cfg.write_text(_config(target.url, "alpha-api"))
        rt = await open_rt(cfg)
        report = await prepare(rt)
        assert report.checks.archived == ["alpha-web"]
        listed = await rt.checks.list(SYSTEM, limit=100)
        assert [c.id for c, _ in listed.items] == ["alpha-api"]
        archived = await rt.checks.list(SYSTEM, limit=100, archived=True)
        assert [c.id for c, _ in archived.items] == ["alpha-web"]
        check, _ = await rt.checks.get(SYSTEM, "alpha-web")
        assert check.archived_at is not None
        history = await rt.checks.history(SYSTEM, tenant_id="alpha", check_id="alpha-web", limit=10)
        assert len(history.items) == 2  # the results are kept
        with pytest.raises(Conflict, match="archived"):
            await rt.checks.runnable(SYSTEM, "alpha-web")
        _, enabled, _ = await rt.checks.enabled_checks()
        assert [c.id for c in enabled] == ["alpha-api"]  # the scheduler no longer runs it
        health = await rt.checks.health(SYSTEM, "alpha")
        assert health.checks_total == 1

        cfg.write_text(_config(target.url, "alpha-api", "alpha-web"))
        rt = await open_rt(cfg)
        report = await prepare(rt)
        assert report.checks.restored == ["alpha-web"]
        check, _ = await rt.checks.get(SYSTEM, "alpha-web")
        assert check.archived_at is None
        history = await rt.checks.history(SYSTEM, tenant_id="alpha", check_id="alpha-web", limit=10)
        assert len(history.items) == 2
    audit = await rt.audit.list(SYSTEM, limit=100)
    actions = [e.action for e in audit.items if e.object_id == "alpha-web"]
    assert "check.archive" in actions and "check.restore" in actions


async def test_a_sync_from_another_file_is_refused_until_config_apply_switches(
    open_rt: Opener, tmp_path: Path
) -> None:
    first, other = tmp_path / "first.yml", tmp_path / "other.yml"
    first.write_text(_config("http://127.0.0.1:9", "alpha-api"))
    other.write_text(_config("http://127.0.0.1:9", "alpha-db"))
    await prepare(await open_rt(first))

    rt = await open_rt(other)
    with pytest.raises(SyncRefused, match=f"served from {first}, not {other}"):
        await prepare(rt)
    listed = await rt.checks.list(SYSTEM, limit=100)
    assert [c.id for c, _ in listed.items] == ["alpha-api"]  # nothing changed

    report = await sync_config(rt, switch=True)
    assert report.checks.created == ["alpha-db"] and report.checks.archived == ["alpha-api"]
    recorded = await rt.config_sync.recorded()
    assert recorded is not None and recorded.path == str(other)
    with pytest.raises(SyncRefused, match=f"served from {other}"):
        await prepare(await open_rt(first))


async def test_the_same_text_from_another_path_is_accepted(open_rt: Opener, tmp_path: Path) -> None:
    first, copy = tmp_path / "a.yml", tmp_path / "b.yml"
    first.write_text(_config("http://127.0.0.1:9", "alpha-api"))
    copy.write_text(first.read_text())
    await prepare(await open_rt(first))
    report = await prepare(await open_rt(copy))
    assert report.checks.archived == [] and report.tenants.released == []


async def test_a_sync_that_removes_everything_asks_for_force(
    open_rt: Opener, tmp_path: Path
) -> None:
    cfg = tmp_path / "tenantwatch.yml"
    cfg.write_text(_config("http://127.0.0.1:9", "alpha-api", "alpha-web"))
    await prepare(await open_rt(cfg))
    cfg.write_text("tenants: []\n")
    rt = await open_rt(cfg)
    with pytest.raises(SyncRefused, match="archive all 2 checks and release all 2 tenants"):
        await prepare(rt)
    tenants = await rt.tenants.list(SYSTEM, limit=10)
    assert {t.managed_by for t in tenants.items} == {"config"}

    report = await prepare(rt, force=True)
    assert sorted(report.checks.archived) == ["alpha-api", "alpha-web"]
    assert sorted(report.tenants.released) == ["alpha", "beta"]
