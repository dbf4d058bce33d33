"""bench/sla.py at a tiny size: its data, the platform report it times (checked against an
availability computed here from the generated samples), the API timing and the comparison."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from bench import sla
from tests.prometheus_server import require_prometheus

TINY = sla.Spec(tenants=6, end_ms=sla.ms(sla.PROM_END), outages=6.0)


def test_the_same_spec_gives_the_same_tenants_and_samples() -> None:
    again = sla.Spec(tenants=6, end_ms=sla.ms(sla.PROM_END), outages=6.0)
    assert TINY.all_tenants() == again.all_tenants()
    assert [TINY.down_windows(i, 0) for i in range(6)] == [
        again.down_windows(i, 0) for i in range(6)
    ]
    tenants = TINY.all_tenants()
    assert {t.tier for t in tenants} == set(sla.TIERS)
    assert {t.zone for t in tenants} == set(sla.ZONES)
    assert {len(t.checks) for t in sla.Spec(tenants=40).all_tenants()} == {1, 2}


def test_samples_sit_off_the_minute_and_are_down_inside_outages() -> None:
    ts = sla.grid(TINY.start_ms, TINY.end_ms)
    assert (ts % sla.MIN_MS == sla.OFFSET_MS).all()
    assert ts[0] >= TINY.start_ms and ts[-1] < TINY.end_ms
    down = [(ts[10] - 1, ts[12] + 1)]
    up = sla.up_values(ts, down)
    assert up[:10].all() and not up[10:13].any() and up[13:].all()
    durations = sla.duration_values(TINY, 0, 0, 0, up)
    assert (durations[10:13] == 10.0).all() and (durations[:10] < 10.0).all()


def test_openmetrics_has_one_line_per_up_sample(tmp_path: Path) -> None:
    path = tmp_path / "up.om"
    lo, hi = sla.ms(sla.DATA_START), sla.ms(sla.DATA_START) + 3 * sla.MIN_MS
    written = sla.write_openmetrics(TINY, path, lo, hi)
    lines = path.read_text().splitlines()
    assert written == TINY.series_count() * 3 == len(lines) - 2
    assert lines[0] == "# TYPE tenantwatch_check_up gauge" and lines[-1] == "# EOF"
    assert lines[1].startswith(
        'tenantwatch_check_up{check="api",kind="http",tenant="tenant-0001"} '
    )


def expected_availability(spec: sla.Spec, i: int, window: tuple[int, int]) -> float:
    """Time-weighted percent up over window, down while any check is: each sample holds
    one minute."""
    start, end = window
    ts = sla.grid(start - sla.MIN_MS, end)
    up = np.min(
        [sla.up_values(ts, spec.down_windows(i, c)) for c in range(len(spec.tenant(i).checks))],
        axis=0,
    )
    weight = np.clip(np.minimum(ts + sla.MIN_MS, end) - np.maximum(ts, start), 0, None)
    return float((up * weight).sum() / weight.sum() * 100)


def test_the_timed_report_and_api_over_a_tiny_store(tmp_path: Path) -> None:
    console = Console(quiet=True)
    samples = sla.build_store(TINY, sla.store_dir(tmp_path), console)
    assert samples == TINY.series_count() * 2 * TINY.samples_per_series()
    assert list((sla.store_dir(tmp_path) / "blocks").iterdir())
    key = sla.setup_database(TINY, tmp_path)
    timing = sla.time_report(tmp_path, runs=1)
    assert timing.tenants == 6 and len(timing.times_s) == 1 and timing.first_s > 0
    months = sla.month_windows(TINY)
    outages = 0
    for i, t in enumerate(TINY.all_tenants()):
        got = timing.availability[t.id]
        assert got is not None
        want = expected_availability(TINY, i, months[t.zone])
        assert got == pytest.approx(want, abs=1e-3), t.id
        outages += got < 100
    assert outages >= 3  # the data has something to measure
    api = sla.time_api(TINY, tmp_path, key, calls=3)
    assert len(api.times_ms) == 3 and api.p95_ms >= api.median_ms > 0


def test_agreement_and_percentile() -> None:
    found = sla.agree({"a": 99.9, "b": None, "c": 50.0}, {"a": 99.91, "c": 51.0}, 0.05)
    assert found.compared == 2 and found.missing == ["b"]
    assert found.over == [("c", 50.0, 51.0)] and found.worst == "c"
    assert math.isclose(found.max_diff_pp, 1.0)
    assert sla.percentile([float(v) for v in range(1, 101)], 0.95) == 95.0
    assert math.isnan(sla.percentile([], 0.5))


def test_prometheus_agrees_on_a_tiny_store(tmp_path: Path) -> None:
    require_prometheus()
    tiny = sla.Spec(tenants=3, end_ms=sla.ms(sla.PROM_END), outages=6.0)
    sla.build_store(tiny, sla.store_dir(tmp_path))
    sla.setup_database(tiny, tmp_path)
    timing = sla.time_report(tmp_path, runs=0)
    prom = sla.run_prometheus(tiny, tmp_path, 1, Console(quiet=True))
    assert prom.platform_series == 3 and prom.platform_ms > 0
    found = sla.agree(timing.availability, prom.weighted, sla.TOLERANCE_PP)
    assert found.ok and found.compared == 3, found
    assert found.max_diff_pp < 0.01
