"""Pushed groups: durable before the answer, kept across restarts, refreshed, deleted."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from tenantwatch.metrics.push_groups import build_families
from tenantwatch.metrics.pushgateway import PushGateway
from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.model import Matcher, is_stale, labels_of
from tenantwatch.types import Labels

KEY = labels_of({"job": "backup"})
NOW = float(int(time.time()))  # recent: an opened store drops samples past retention


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def sample(name: str, value: float, **labels: str) -> tuple[Labels, float]:
    return labels_of({"__name__": name, **labels}), value


def points(store: MetricStore, name: str) -> list[tuple[int, float]]:
    found = store.select([Matcher.of("__name__", "=", name)], 0, 2**62)
    assert len(found) <= 1
    return (
        [(int(t), float(v)) for t, v in zip(found[0].ts, found[0].vals, strict=True)]
        if found
        else []
    )


@pytest.fixture
def store(tmp_path: Path) -> MetricStore:
    s = MetricStore(tmp_path / "metrics")
    s.open()
    yield s  # type: ignore[misc]
    s.close()


async def test_a_push_is_on_disk_when_it_returns(store: MetricStore, tmp_path: Path) -> None:
    gateway = PushGateway(store, tmp_path / "metrics" / "push", clock=Clock())
    families = build_families(KEY, [sample("last_success", 42.0)], {})
    await gateway.push(KEY, families, replace_all=True)
    # what a crash right now would leave: copy the files and open them elsewhere
    shutil.copytree(
        tmp_path / "metrics", tmp_path / "after-crash", ignore=shutil.ignore_patterns("LOCK")
    )
    recovered = MetricStore(tmp_path / "after-crash")
    recovered.open()
    try:
        assert points(recovered, "last_success") == [(int(NOW * 1000), 42.0)]
        assert points(recovered, "push_time_seconds") == [(int(NOW * 1000), NOW)]
    finally:
        recovered.close()
    assert len(list((tmp_path / "metrics" / "push").glob("*.json"))) == 1


async def test_groups_survive_a_restart(store: MetricStore, tmp_path: Path) -> None:
    directory = tmp_path / "metrics" / "push"
    gateway = PushGateway(store, directory, clock=Clock())
    families = build_families(KEY, [sample("a", 1.0, x="1"), sample("a", float("inf"), x="2")], {})
    await gateway.push(KEY, families, replace_all=True)
    again = PushGateway(store, directory, clock=Clock())
    assert again.load() == 1
    assert again.groups == gateway.groups


async def test_an_unreadable_group_file_is_skipped(store: MetricStore, tmp_path: Path) -> None:
    directory = tmp_path / "metrics" / "push"
    directory.mkdir(parents=True)
    (directory / "broken.json").write_text("{not json")
    assert PushGateway(store, directory).load() == 0


async def test_refresh_writes_the_values_again_at_the_current_time(
    store: MetricStore, tmp_path: Path
) -> None:
    clock = Clock()
    gateway = PushGateway(store, tmp_path / "metrics" / "push", clock=clock)
    await gateway.push(KEY, build_families(KEY, [sample("a", 7.0)], {}), replace_all=True)
    clock.now += 600  # far beyond the 5 m lookback
    assert gateway.refresh() == 3  # a, push_time_seconds, push_failure_time_seconds
    assert points(store, "a") == [(int(NOW * 1000), 7.0), (int((NOW + 600) * 1000), 7.0)]
    assert points(store, "push_time_seconds")[-1] == (int((NOW + 600) * 1000), NOW)


async def test_the_refresher_runs_until_stopped(store: MetricStore, tmp_path: Path) -> None:
    gateway = PushGateway(store, None, refresh_interval=0.05)
    await gateway.push(KEY, build_families(KEY, [sample("a", 1.0)], {}), replace_all=True)
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run_refresher(stop))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert len(points(store, "a")) >= 3


async def test_delete_marks_every_series_stale_and_forgets_the_group(
    store: MetricStore, tmp_path: Path
) -> None:
    clock = Clock()
    directory = tmp_path / "metrics" / "push"
    gateway = PushGateway(store, directory, clock=clock)
    await gateway.push(KEY, build_families(KEY, [sample("a", 1.0)], {}), replace_all=True)
    clock.now += 10
    assert await gateway.delete(KEY)
    for name in ("a", "push_time_seconds", "push_failure_time_seconds"):
        t, v = points(store, name)[-1]
        assert t == int((NOW + 10) * 1000) and is_stale(v)
    assert list(directory.glob("*.json")) == []
    assert gateway.refresh() == 0
    assert not await gateway.delete(KEY)


async def test_a_put_that_drops_a_series_marks_it_stale(store: MetricStore) -> None:
    gateway = PushGateway(store, None, clock=Clock())
    await gateway.push(
        KEY, build_families(KEY, [sample("a", 1.0), sample("b", 2.0)], {}), replace_all=True
    )
    await gateway.push(KEY, build_families(KEY, [sample("a", 3.0)], {}), replace_all=True)
    assert is_stale(points(store, "b")[-1][1])
    assert points(store, "a")[-1][1] == 3.0
