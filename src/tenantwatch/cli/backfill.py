"""tenantwatch backfill FILE: import an OpenMetrics file with timestamps into the store.

As `promtool tsdb create-blocks-from openmetrics`: every sample carries a timestamp and
the file ends with `# EOF`. The store directory is written directly, so the server must
be stopped: the store's lock file tells, and backfill refuses while it is held.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tenantwatch.cli.common import (
    ConfigOption,
    config_for_reading,
    console,
    err_console,
    settings_from_env,
)
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.exposition import (
    ExpositionError,
    ParsedSample,
    decode_exposition,
    parse_text,
)
from tenantwatch.metrics.retention import TenantRetention
from tenantwatch.metrics.store import MetricStore
from tenantwatch.metrics.store_recovery import StoreInUse
from tenantwatch.metrics.wiring import store_directory
from tenantwatch.types import Labels, Sample

BATCH = 50_000


class BackfillError(Exception):
    """A problem with the input file, as `file:line: reason`."""


@dataclass(frozen=True, slots=True)
class BackfillReport:
    samples: int
    series: int
    first_ms: int
    last_ms: int
    past_retention: int


def _sample_line_numbers(text: str) -> list[int]:
    return [
        i for i, line in enumerate(text.split("\n"), start=1) if line and not line.startswith("#")
    ]


def read_samples(path: Path) -> list[Sample]:
    """Every sample of an OpenMetrics file. Raise BackfillError naming file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BackfillError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    try:
        text = decode_exposition(raw)
        parsed: list[ParsedSample] = parse_text(text, openmetrics=True)
    except ExpositionError as exc:
        raise BackfillError(f"{path}:{exc.line}: {exc.reason}") from None
    out = []
    for i, sample in enumerate(parsed):
        if sample.timestamp_ms is None:
            lines = _sample_line_numbers(text)
            line = lines[i] if len(lines) == len(parsed) else 0
            raise BackfillError(
                f"{path}:{line}: sample has no timestamp; backfill needs a timestamp on every "
                "sample (OpenMetrics: seconds after the value)"
            )
        out.append((sample.labels, sample.timestamp_ms, sample.value))
    if not out:
        raise BackfillError(f"{path}: the file holds no samples")
    return out


def import_samples(
    store: MetricStore,
    samples: Sequence[Sample],
    *,
    retention_ms: Callable[[Labels], int],
    now_ms: int,
    advance: Callable[[int], None] = lambda n: None,
) -> BackfillReport:
    """Append samples to an open store in batches; return what was imported."""
    for start in range(0, len(samples), BATCH):
        batch = samples[start : start + BATCH]
        store.append_many(batch)
        advance(len(batch))
    store.flush()
    times = [t for _, t, _ in samples]
    past = sum(1 for labels, t, _ in samples if t < now_ms - retention_ms(labels))
    return BackfillReport(
        samples=len(samples),
        series=len({labels for labels, _, _ in samples}),
        first_ms=min(times),
        last_ms=max(times),
        past_retention=past,
    )


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + " UTC"


def backfill(
    file: Path = typer.Argument(..., help="OpenMetrics file; every sample needs a timestamp"),
    config: Path | None = ConfigOption,
) -> None:
    """Import an OpenMetrics file with timestamps into the metric store (server stopped)."""
    settings, cfg = config_for_reading(settings_from_env(config))
    directory = store_directory(settings.data_dir, cfg.metrics)
    retention = TenantRetention(TierCatalog.with_custom(cfg.custom_tiers()))
    retention.update({t.id: t.tier for t in cfg.tenants})
    try:
        with console.status(f"reading {file}"):
            samples = read_samples(file)
    except BackfillError as exc:
        err_console.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    # retention is applied by the server, not here: backfilled history stays until it runs
    store = MetricStore(directory, retention_ms=lambda _: 2**62)
    try:
        store.open()
    except StoreInUse:
        err_console.print(
            f"[red]cannot backfill:[/red] the metric store {directory} is in use by a running "
            "tenantwatch server; stop the server, run backfill, then start it again",
            highlight=False,
        )
        raise typer.Exit(1) from None
    try:
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("samples"),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("import", total=len(samples))
            report = import_samples(
                store,
                samples,
                retention_ms=retention,
                now_ms=int(time.time() * 1000),
                advance=lambda n: progress.advance(task, n),
            )
        with console.status("writing blocks"):
            store.cut()
            store.compact()
    finally:
        store.close()
    console.print(
        f"imported {report.samples} samples of {report.series} series from {file} into "
        f"{directory} ({_when(report.first_ms)} to {_when(report.last_ms)})",
        markup=False,
        highlight=False,
    )
    if report.past_retention:
        console.print(
            f"[yellow]note:[/yellow] {report.past_retention} samples are older than their "
            "tenant's retention; the server drops them when it next applies retention",
            highlight=False,
        )
