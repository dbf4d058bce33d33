"""The demo app's history: `python -m examples.demo.saas_app history`, as `make run` backfills it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from examples.demo.saas_app.exposition import Totals, new_registry, render
from examples.demo.saas_app.history import history
from examples.demo.saas_app.simulation import tick
from examples.demo.saas_app.tenants import load_config

from tenantwatch.metrics.exposition import parse_text
from tenantwatch.metrics.store import MetricStore

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "examples/demo/tenantwatch.yml"
END = 1_768_507_200  # 2026-01-15 20:00 UTC
TARGET = {"job": "ai-shifu-api", "instance": "127.0.0.1:9464"}
BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTWATCH_")}
    return {**env, "COLUMNS": "200", **extra}


def generate(out: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "examples.demo.saas_app", "history", "--out", str(out), *args],
        cwd=ROOT,
        env=clean_env(),
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_the_same_arguments_give_the_same_file(tmp_path: Path) -> None:
    args = ("--days", "0.25", "--end", str(END))
    generate(tmp_path / "a.om", *args)
    generate(tmp_path / "b.om", *args)
    first = (tmp_path / "a.om").read_bytes()
    assert first == (tmp_path / "b.om").read_bytes()
    assert first.endswith(b"# EOF\n")


def test_it_has_every_series_of_metrics_with_the_scrape_labels_and_timestamps() -> None:
    tenants = load_config(DEMO_CONFIG)
    text = "\n".join(history(tenants, 1, start=END - 3600, end=END, step=300, target=TARGET))
    parsed = parse_text(text + "\n", openmetrics=True)
    totals = Totals()
    totals.add(tick(tenants, 1, END, ()))
    body, _ = render(new_registry(totals), "application/openmetrics-text")
    live = {
        tuple(sorted({**dict(s.labels), **TARGET}.items()))
        for s in parse_text(body.decode(), openmetrics=True)
    }
    assert {s.labels for s in parsed} == live
    stamps = {s.timestamp_ms for s in parsed}
    assert stamps == {(END - 3600 + 300 * i) * 1000 for i in range(12)}


def test_counters_only_grow_across_the_history() -> None:
    tenants = load_config(DEMO_CONFIG)
    lines = history(tenants, 1, start=END - 86_400, end=END, step=300, target=TARGET)
    by_series: dict[tuple[tuple[str, str], ...], list[float]] = {}
    for s in parse_text("\n".join(lines) + "\n", openmetrics=True):
        if dict(s.labels)["__name__"].endswith(("_total", "_count", "_bucket")):
            by_series.setdefault(s.labels, []).append(s.value)
    assert by_series
    for values in by_series.values():
        assert values == sorted(values)
    requests = [v for k, v in by_series.items() if dict(k)["__name__"] == "ai_shifu_requests_total"]
    assert sum(v[-1] for v in requests) > 100_000  # a day of five active tenants' traffic


def test_backfill_imports_it_into_blocks(tmp_path: Path) -> None:
    out = tmp_path / "history.om"
    generate(out, "--days", "0.5", "--end", str(END))
    env = clean_env(TENANTWATCH_DATA_DIR=str(tmp_path / "var"), TENANTWATCH_CONFIG=str(DEMO_CONFIG))
    done = subprocess.run(
        [str(BIN / "tenantwatch"), "backfill", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "imported" in done.stdout
    store = MetricStore(tmp_path / "var" / "metrics")
    store.open()
    try:
        blocks = store.blocks_info()
    finally:
        store.close()
    assert blocks
    assert min(b.mint for b in blocks) <= (END - 43_200) * 1000
    assert {b.series for b in blocks} == {702}  # every series of /metrics, in every block
    listed = subprocess.run(
        [str(BIN / "tenantwatch"), "tsdb", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"{len(blocks)} blocks" in listed.stdout
