"""The demo app's history: `python -m examples.demo.saas_app history`, as `make run` backfills it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from examples.demo.saas_app.check_history import DURATION, UP, load_checks
from examples.demo.saas_app.exposition import Totals, new_registry, render
from examples.demo.saas_app.faults import KINDS, Kind, scheduled_faults
from examples.demo.saas_app.history import history, history_start
from examples.demo.saas_app.simulation import tick
from examples.demo.saas_app.tenants import load_config

from tenantwatch.configuration import load_config as load_tenantwatch_config
from tenantwatch.domain.checks import CheckKind, CheckRun
from tenantwatch.metrics.exposition import parse_text
from tenantwatch.metrics.store import MetricStore
from tenantwatch.workers.check_samples import run_samples

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
    # every series of /metrics, and the 9 checks' up and duration, in every block
    assert {b.series for b in blocks} == {702 + 2 * 9}
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


Series = dict[tuple[tuple[str, str], ...], dict[int, float]]


def check_samples(lines: Iterable[str]) -> Series:
    """The history's tenantwatch_check_* samples: labels -> {unix seconds: value}."""
    out: Series = {}
    kept = ("tenantwatch_check_", "# EOF")
    wanted = "\n".join(line for line in lines if line.startswith(kept))
    for s in parse_text(wanted + "\n", openmetrics=True):
        assert s.timestamp_ms is not None
        out.setdefault(s.labels, {})[s.timestamp_ms // 1000] = s.value
    return out


def demo_check_history(start: int, end: int, seed: int = 1, check_step: int = 60) -> Series:
    tenants = load_config(DEMO_CONFIG)
    checks = load_checks(DEMO_CONFIG, tenants)
    lines = history(
        tenants,
        seed,
        start=start,
        end=end,
        step=3600,
        target=TARGET,
        checks=checks,
        check_step=check_step,
    )
    return check_samples(lines)


def test_every_tenant_check_has_the_live_engines_labels() -> None:
    samples = demo_check_history(END - 3600, END)
    config = load_tenantwatch_config(DEMO_CONFIG, {})
    at = datetime.fromtimestamp(END, UTC)
    live = set()
    for check in config.checks:
        assert check.tenant is not None  # every demo check belongs to a tenant
        run = CheckRun(check.id, check.tenant, CheckKind(check.kind), at, ok=True, duration_s=0.1)
        live |= {labels for labels, _, _ in run_samples([run])}
    assert len(live) == 2 * 9
    assert set(samples) == live
    for values in samples.values():
        assert sorted(values) == list(range(END - 3600, END, 60))  # every 60 s


def _outages(tenant: str, start: int, end: int) -> list[tuple[float, float]]:
    tenants = load_config(DEMO_CONFIG)
    return [
        (f.start, f.end)
        for f in scheduled_faults(tenants, 1, start, end)
        if f.tenant == tenant and KINDS[f.kind].health == "down"
    ]


def test_an_outage_fails_its_tenants_endpoint_check_for_exactly_its_window() -> None:
    start, end = END - 14 * 86_400, END
    outages = _outages("hooli-edu", start, end)
    assert len(outages) >= 2
    samples = demo_check_history(start, end)
    labels = {"__name__": UP, "check": "hooli-api", "kind": "http", "tenant": "hooli-edu"}
    up = samples[tuple(sorted(labels.items()))]
    failed = {t for t, v in up.items() if v == 0.0}
    assert failed == {t for t in up if any(a <= t < b for a, b in outages)}
    assert set(up.values()) == {0.0, 1.0}
    # the tenant's outage leaves the other tenants' checks up
    for labels_, values in samples.items():
        if (
            dict(labels_)["tenant"] not in ("hooli-edu", "globex")
            and dict(labels_)["__name__"] == UP
        ):
            assert 0.0 not in {values[t] for t in failed if t in values}


def test_a_latency_fault_slows_the_endpoint_check_but_keeps_it_up() -> None:
    start, end = END - 86_400, END
    tenants = load_config(DEMO_CONFIG)
    slow = [
        f
        for f in scheduled_faults(tenants, 1, start, end)
        if f.tenant == "acme-corp" and f.kind is Kind.LATENCY
    ]
    assert slow
    samples = demo_check_history(start, end)
    pairs = {"check": "acme-api", "kind": "http", "tenant": "acme-corp"}
    seconds = samples[tuple(sorted({**pairs, "__name__": DURATION}.items()))]
    up = samples[tuple(sorted({**pairs, "__name__": UP}.items()))]
    inside = {t for t in seconds if any(f.start <= t < f.end for f in slow)}
    assert inside
    assert all(seconds[t] >= 0.25 and up[t] == 1.0 for t in inside)
    assert all(seconds[t] < 0.05 for t in seconds if t not in inside and up[t] == 1.0)


def test_the_same_seed_gives_the_same_checks_and_another_seed_others() -> None:
    start = END - 2 * 86_400
    first = demo_check_history(start, END, seed=1)
    assert first == demo_check_history(start, END, seed=1)
    assert first != demo_check_history(start, END, seed=2)


def test_make_run_backfills_five_weeks_and_the_whole_previous_month() -> None:
    run_sh = (ROOT / "examples/demo/run.sh").read_text()
    days = float(re.search(r"history --days (\d+(?:\.\d+)?) --previous-month", run_sh)[1])  # type: ignore[index]
    assert days >= 35
    # on 2026-01-31 the previous month, December, began 61 days before, 14 h earlier in
    # Kiritimati (UTC+14); on 2026-01-03, 35 days go back further than that
    end = 1_769_817_600
    start = history_start(end, days, previous_month=True)
    assert start == 1_764_547_200 - 14 * 3600
    assert history_start(1_767_398_400, 35, previous_month=True) == 1_767_398_400 - 35 * 86_400
    samples = demo_check_history(start, end, check_step=3600)
    assert len(samples) == 2 * 9
    for values in samples.values():
        assert min(values) == start and max(values) == end - 3600
