"""The benchmarks at a tiny size: their data, comparisons and configs, and one short run each."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console

from bench import common, ingest, query
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
