"""tenantwatch tsdb list | analyze, as a process, on a real store directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tenantwatch.metrics.store import MetricStore

T0 = 1_700_000_000_000 // 7_200_000 * 7_200_000
DAY = 86_400_000


def tw(*args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TENANTWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "tenantwatch.cli.main", *args],
        env={**base, "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tsdb") / "metrics"
    store = MetricStore(directory, retention_ms=lambda _: 60 * DAY, clock=lambda: T0 / 1000 + 86400)
    store.open()
    n = 5760
    ts = T0 + np.arange(n, dtype=np.int64) * 15_000
    for tenant in range(3):
        for path in range(4 if tenant == 0 else 1):
            labels = (
                ("__name__", "http_requests_total"),
                ("path", f"/p{path}"),
                ("tenant", f"t{tenant}"),
            )
            store.append_series(labels, ts, np.arange(n) * 2.0)
        store.append_series((("__name__", "up"), ("tenant", f"t{tenant}")), ts, np.ones(n))
    store.housekeep(T0 + DAY)
    store.close()
    return directory


def test_list_shows_every_block_with_its_range_and_size(store_dir: Path) -> None:
    blocks = sorted(p.name for p in (store_dir / "blocks").iterdir())
    result = tw("tsdb", "list", "--dir", str(store_dir))
    assert result.returncode == 0, result.stderr
    for name in blocks:
        assert name in result.stdout
    assert "2023-11-14 22:00" in result.stdout  # T0, UTC
    assert f"{len(blocks)} blocks, " in result.stdout
    assert "bytes per sample" in result.stdout


def test_analyze_ranks_metric_names_and_label_pairs_by_series(store_dir: Path) -> None:
    result = tw("tsdb", "analyze", "--dir", str(store_dir), "--all")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "9 series" in out
    names = out.index("Highest cardinality metric names")
    assert out.index("http_requests_total", names) < out.index(" up ", names)
    assert 'tenant="t0"' in out and "Highest cardinality labels" in out


def test_they_only_read_and_name_what_they_skip(store_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(store_dir, copy)
    (copy / "blocks" / "b000000000000001-x.tmp").mkdir()
    before = sorted(str(p.relative_to(copy)) for p in copy.rglob("*"))
    result = tw("tsdb", "list", "--dir", str(copy))
    assert "skipped b000000000000001-x.tmp" in result.stdout
    assert tw("tsdb", "analyze", "--dir", str(copy)).returncode == 0
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*")) == before


def test_an_unknown_block_is_refused_with_the_known_ones(store_dir: Path) -> None:
    result = tw("tsdb", "analyze", "nope", "--dir", str(store_dir))
    assert result.returncode == 1
    assert "no block nope" in result.stdout


def test_an_empty_store_says_when_blocks_appear(tmp_path: Path) -> None:
    result = tw("tsdb", "analyze", "--dir", str(tmp_path))
    assert result.returncode == 0
    assert "no blocks" in result.stdout
