"""file_sd: files found by glob, re-read on change, a bad file keeps its last groups."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tenantwatch.config.discovery_model import FileSDConfig
from tenantwatch.config.metrics_model import ScrapeConfig
from tenantwatch.metrics.discovery.jobs import ProviderFactory
from tenantwatch.metrics.discovery.manager import DiscoveryManager
from tests.metrics.discovery.support import DEBOUNCE, Updates, eventually


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    # a new mtime even within the file system's timestamp granularity
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
async def run(tmp_path: Path) -> AsyncIterator[Any]:
    managers: list[DiscoveryManager] = []

    async def start(files: list[str], refresh: float = 300.0) -> Updates:
        updates = Updates()
        factory = ProviderFactory(base_dir=tmp_path, file_poll_interval=0.02)
        manager = DiscoveryManager(updates, debounce=DEBOUNCE, factory=factory)
        managers.append(manager)
        config = FileSDConfig(files=files, refresh_interval=refresh)
        await manager.apply([ScrapeConfig(job_name="files", file_sd_configs=[config])])
        return updates

    yield start
    for manager in managers:
        await manager.stop()


async def test_targets_come_from_every_file_the_glob_matches(tmp_path: Path, run: Any) -> None:
    (tmp_path / "sd").mkdir()
    write(tmp_path / "sd" / "a.yml", "- targets: ['a:9100']\n")
    write(tmp_path / "sd" / "b.json", '[{"targets": ["b:9100"]}]')
    updates = await run(["sd/*.yml", "sd/*.json"])
    await eventually(lambda: updates.addresses("files") == {"a:9100", "b:9100"})
    group = updates.group("files", f"{tmp_path}/sd/a.yml:0")
    assert group is not None
    assert dict(group.labels)["__meta_filepath"] == f"{tmp_path}/sd/a.yml"


async def test_a_changed_new_or_removed_file_is_picked_up(tmp_path: Path, run: Any) -> None:
    write(tmp_path / "a.yml", "- targets: ['a:9100']\n- targets: ['a2:9100']\n")
    updates = await run(["*.yml"])
    await eventually(lambda: updates.addresses("files") == {"a:9100", "a2:9100"})
    write(tmp_path / "a.yml", "- targets: ['a:9200']\n")
    await eventually(lambda: updates.addresses("files") == {"a:9200"})
    write(tmp_path / "b.yml", "- targets: ['b:9100']\n")
    await eventually(lambda: updates.addresses("files") == {"a:9200", "b:9100"})
    (tmp_path / "a.yml").unlink()
    await eventually(lambda: updates.addresses("files") == {"b:9100"})


async def test_a_bad_file_keeps_its_last_groups_and_logs_file_and_line(
    tmp_path: Path, run: Any
) -> None:
    path = tmp_path / "a.yml"
    write(path, "- targets: ['a:9100']\n")
    updates = await run(["*.yml"])
    await eventually(lambda: updates.addresses("files") == {"a:9100"})
    with capture_logs() as logs:
        write(path, "- targets: ['a:9100']\n- targetz: ['b:9100']\n")
        await eventually(lambda: any(e["event"] == "discovery_file_invalid" for e in logs))
    [event] = [e for e in logs if e["event"] == "discovery_file_invalid"]
    assert event["problem"].startswith(f"{path}:2: unknown field 'targetz'")
    await asyncio.sleep(0.1)
    assert updates.addresses("files") == {"a:9100"}
    write(path, "- targets: ['c:9100']\n")
    await eventually(lambda: updates.addresses("files") == {"c:9100"})


async def test_files_are_read_again_every_refresh_interval(tmp_path: Path, run: Any) -> None:
    path = tmp_path / "a.yml"
    write(path, "- targets: ['a:9100']\n")
    stamp = path.stat().st_mtime_ns
    updates = await run(["*.yml"], refresh=0.1)
    await eventually(lambda: updates.addresses("files") == {"a:9100"})
    path.write_text("- targets: ['z:9100']\n", encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))  # same size and time: only the refresh sees it
    await eventually(lambda: updates.addresses("files") == {"z:9100"})
