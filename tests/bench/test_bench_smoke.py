"""The benchmarks at a tiny size: their data, comparisons and configs, and one short run each."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from bench import common, compression, history, ingest, query
from bench import openmetrics_gen as gen
from tenantwatch.configuration import parse_config
from tenantwatch.metrics.exposition import parse_text
from tenantwatch.metrics.head import Head
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import Matcher, SeriesData
from tenantwatch.types import Labels
from tests.prometheus_server import require_prometheus

END_MS = 1_700_000_100_000
TINY = gen.Scale(tenants=2, endpoints=2, minutes=6, long_minutes=6)


class RecordingSource:
    """A SeriesSource that remembers selectors which found no series."""

    def __init__(self, inner: Head) -> None:
        self.inner = inner
        self.empty: list[str] = []

    def select(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[SeriesData]:
        found = self.inner.select(matchers, mint, maxt)
        if not found:
            self.empty.append(",".join(str(m) for m in matchers))
        return found

    def series(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[Labels]:
        return self.inner.series(matchers, mint, maxt)

    def label_names(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[str]:
        return self.inner.label_names(matchers, mint, maxt)

    def label_values(
        self, name: str, matchers: Sequence[Matcher], mint: int, maxt: int
    ) -> list[str]:
        return self.inner.label_values(name, matchers, mint, maxt)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Head, int, int]:
    path = tmp_path_factory.mktemp("om") / "tiny.om"
    summary = gen.generate(path, TINY, END_MS)
    head = Head()
    loaded = common.load_openmetrics(path, head, chunk_lines=1000)
    return path, head, summary.series, loaded.series


def test_generated_file_loads_with_the_series_it_counts(
    tiny_file: tuple[Path, Head, int, int],
) -> None:
    path, head, counted, loaded = tiny_file
    assert counted == loaded == head.active
    assert counted > 500
    assert path.read_text().endswith("# EOF\n")


def test_no_sample_sits_on_a_window_boundary_of_the_query_time(
    tiny_file: tuple[Path, Head, int, int],
) -> None:
    _, head, _, _ = tiny_file
    t = gen.query_time(END_MS)
    for series in head.all_series():
        offsets = (t - series.ts) % gen.STEP_MS
        assert (offsets != 0).all(), series.labels


def test_the_same_arguments_write_the_same_bytes(tmp_path: Path) -> None:
    gen.generate(tmp_path / "a.om", TINY, END_MS)
    gen.generate(tmp_path / "b.om", TINY, END_MS)
    assert (tmp_path / "a.om").read_bytes() == (tmp_path / "b.om").read_bytes()


def test_every_selector_of_every_seed_rule_finds_data(
    tiny_file: tuple[Path, Head, int, int],
) -> None:
    _, head, _, _ = tiny_file
    source = RecordingSource(head)
    engine = Engine(source)
    queries = [*query.seed_queries(query.SEED_RULES), *query.EXTRA_QUERIES]
    for _, expr in queries:
        engine.instant(expr, gen.query_time(END_MS))
    assert source.empty == []


def test_seed_queries_skip_the_invalid_file_and_name_a_broken_one(tmp_path: Path) -> None:
    names = [name for name, _ in query.seed_queries(query.SEED_RULES)]
    assert len(names) == 27
    assert not any("invalid" in n for n in names)
    (tmp_path / "broken.yml").write_text("groups: [\n")
    with pytest.raises(common.BenchError, match=r"broken\.yml"):
        query.seed_queries(tmp_path)


def test_compare_finds_missing_series_and_values_apart() -> None:
    a: Labels = (("tenant", "a"),)
    b: Labels = (("tenant", "b"),)
    c: Labels = (("tenant", "c"),)
    assert common.compare({a: 1.0, b: math.nan}, {a: 1.0 + 1e-9, b: math.nan}).ok
    found = common.compare({a: 1.0, b: 2.0}, {a: 1.1, c: 3.0})
    assert not found.ok
    assert found.only_tenantwatch == [b]
    assert found.only_prometheus == [c]
    assert found.differ == [(a, 1.0, 1.1)]
    assert "1 values differ" in found.describe()


def test_a_target_serves_its_series_with_tenants_and_changing_values() -> None:
    body = ingest.TargetBody(3, tenants=10)
    first = parse_text(body.render(1).decode())
    second = parse_text(body.render(2).decode())
    assert len(first) == len({s.labels for s in first}) == ingest.series_per_target(10) == 2000
    with_tenant = [s for s in first if dict(s.labels).get("tenant")]
    assert len(with_tenant) == 1990
    changed = sum(1 for x, y in zip(first, second, strict=True) if x.value != y.value)
    assert changed > 1500
    counters = [
        (x.value, y.value)
        for x, y, line in zip(first, second, body.lines, strict=True)
        if line.counter
    ]
    assert all(y >= x for x, y in counters)


def test_the_generated_tenantwatch_config_is_valid() -> None:
    text = ingest.tenantwatch_config(["127.0.0.1:9100", "127.0.0.1:9101"], 15.0)
    config = parse_config(text, "bench.yml", {})
    assert [t for s in config.scrape_configs[0].static_configs for t in s.targets] == [
        "127.0.0.1:9100",
        "127.0.0.1:9101",
    ]


def test_metric_sum_adds_every_series_of_a_name() -> None:
    text = 'a_total{type="x"} 2\na_total{type="y"} 3\nb 1\n'
    assert common.metric_sum(text, "a_total") == 5
    assert common.metric_sum(text, "c") is None


def test_a_tiny_query_run_agrees_with_prometheus(tmp_path: Path) -> None:
    require_prometheus()
    report = query.run(TINY, runs=1, workdir=tmp_path, end_ms=END_MS, say=Console(quiet=True))
    assert len(report.rows) == 28
    assert [r.name for r in report.rows if r.error] == []
    assert [(r.name, r.comparison.describe()) for r in report.rows if not r.comparison.ok] == []
    assert all(r.tenantwatch_ms > 0 and r.prometheus_ms > 0 for r in report.rows)


async def test_a_tiny_ingest_run_measures_both_scrapers(tmp_path: Path) -> None:
    require_prometheus()
    report = await ingest.run(
        targets=3,
        tenants=1,
        interval_s=1.0,
        duration_s=3.0,
        workdir=tmp_path,
        console=Console(quiet=True),
    )
    for side in (report.tenantwatch, report.prometheus):
        assert side.samples > 0, side.name
        assert side.end.cpu_s > 0, side.name  # the window itself may be under one clock tick
        assert side.cpu_s >= 0, side.name
        assert side.end.series >= 3 * ingest.series_per_target(1), side.name
        assert side.end.rss > 0


def test_every_compression_codec_round_trips_odd_values_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    k, n = 20, 480
    ts = compression.scrape_times(rng, n, 1_700_000_000_000)
    ts2 = np.vstack([ts + i for i in range(k)])
    vals = np.round(rng.normal(100, 30, (k, n)), 2)
    vals[0] = np.cumsum(rng.poisson(3, n)).astype(np.float64)  # a counter
    vals[1] = rng.random(n)  # no decimal scaling fits
    vals[2, 10] = np.array([compression.STALE_NAN_BITS], dtype=np.uint64).view(np.float64)[0]
    vals[2, 0] = math.nan  # an exception first in its row
    vals[3, 5:8] = (math.inf, -math.inf, -0.0)
    vals[4] = 1e300  # too large to scale
    for codec in compression.codecs():
        for page in (1, 16, 64):
            m = compression.measure(codec, ts2, vals, page, runs=1)  # raises when lossy
            assert 0 < m.bytes_per_sample < 17, codec.name


def test_decimal_exponents_are_the_smallest_exact_ones() -> None:
    vals = np.array([[1.0, 2.0], [0.5, 0.25], [0.1, 0.7], [1 / 3, 1.0], [math.nan, 2.5]])
    exps, exc = compression.decimal_exponents(vals)
    assert exps.tolist() == [0, 2, 1, -1, 1]
    assert exc.tolist() == [[False, False]] * 4 + [[True, False]]


def test_a_tiny_compression_run_measures_every_dataset(tmp_path: Path) -> None:
    require_prometheus()
    report = compression.run(
        demo_hours=2.0,
        day_hours=2.0,
        ingest_tenants=1,
        om_tenants=1,
        pages=(1, 16),
        runs=1,
        workdir=tmp_path,
        console=Console(quiet=True),
        only=lambda c: c.name.endswith("zstd1"),
    )
    assert sorted(report.prometheus) == [
        (d, compression.CHUNK_2H) for d in ("demo", "ingest", "om")
    ]
    assert all(full > 0.5 for _, full in report.prometheus.values())
    for by_data in report.cells.values():
        assert sorted(by_data) == ["demo", "ingest", "om"]
        assert all(c.measure.bytes_per_sample > 0 for c in by_data.values())


def test_a_tiny_history_run_agrees_with_prometheus(tmp_path: Path) -> None:
    require_prometheus()
    spec = history.Spec(series=60, days=2, end_ms=1_765_065_600_000)
    report = history.run(spec, runs=1, workdir=tmp_path, memory=True, console=Console(quiet=True))
    assert report.built.store_bytes > 0 and report.built.prometheus_bytes > 0
    assert [(r.name, r.comparison.describe()) for r in report.rows if not r.comparison.ok] == []
    assert all(r.series > 0 for r in report.rows)
    assert report.child.ready_s > 0 and report.prometheus_ready_s > 0
    assert [days for days, _, _ in report.memory] == [1, 2]
    assert all(rss > 0 for _, rss, _ in report.memory)


def test_history_uses_the_store_block_calls_once_it_has_them() -> None:
    class Block:
        mint, maxt, series, samples, bytes = 0, 1, 1, 2, 30

    class BlockStore:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def append_series(self, labels: Labels, ts: np.ndarray, vals: np.ndarray) -> int:
            self.calls.append(f"append {len(ts)}")
            return len(ts)

        def housekeep(self, now_ms: int | None = None) -> None:
            self.calls.append(f"housekeep {now_ms}")

        def blocks_info(self) -> list[Block]:
            return [Block(), Block()]

    store = BlockStore()
    ts = np.array([1, 2], dtype=np.int64)
    assert history.append_series(store, (("__name__", "x"),), ts, ts.astype(np.float64)) == 2
    history.housekeep(store, 5)
    assert store.calls == ["append 2", "housekeep 5"]
    assert history.blocks_summary(store) == (2, 60)
    assert history.blocks_summary(object()) is None


def test_history_data_is_the_same_for_the_same_spec_and_spans_its_days() -> None:
    spec = history.Spec(series=30, days=2, end_ms=1_765_065_600_000)
    rows = list(range(30))
    a, b = history.Generator(spec), history.Generator(spec)
    for day in range(2):
        assert np.array_equal(a.day(rows, day), b.day(rows, day))
    counters = [i for i in rows if spec.kind(i) == 2]
    first = history.Generator(spec)
    d0, d1 = first.day(counters, 0), first.day(counters, 1)
    assert (np.diff(np.hstack([d0, d1]), axis=1) >= 0).all()  # counters never go down
    ts = np.concatenate([history.scrape_times(spec, 0, d) for d in range(2)])
    assert ts[0] > spec.start_ms and ts[-1] < spec.end_ms and (np.diff(ts) > 14_900).all()
    assert ((ts - history.QUERY_OFFSET_MS) % history.STEP_MS != 0).all()
    assert len({spec.labels(i) for i in rows}) == 30
