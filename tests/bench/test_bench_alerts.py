"""bench/alerts.py at a tiny size: both servers start, take alerts and notify the webhook."""

from __future__ import annotations

import argparse
import math

from bench import alerts
from tests.am_binary import require_alertmanager


def test_the_alerts_benchmark_runs_at_a_tiny_size() -> None:
    require_alertmanager()
    args = argparse.Namespace(alerts=512, active=256, groups=16, probes=3)
    results = alerts.run(args)
    for name in ("alertmanager", "tenantwatch"):
        figures = results[name]
        assert figures["rate"] > 0
        assert math.isfinite(figures["p99_ms"]) and figures["p99_ms"] >= figures["p50_ms"] - 1


def test_percentile_picks_the_right_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert alerts.percentile(values, 0.99) == 100.0
    assert alerts.percentile(values, 0.5) == 51.0
