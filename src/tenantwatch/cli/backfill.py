"""tenantwatch backfill FILE: import an OpenMetrics file with timestamps into the store.

The file is read twice, a few whole families at a time: once to check it (a bad file
imports nothing), once to import it, cutting the head into blocks as it goes, so a file
of weeks of history needs no more memory than a small one.

As `promtool tsdb create-blocks-from openmetrics`: every sample carries a timestamp and
the file ends with `# EOF`. The store directory is written directly, so the server must
be stopped: the store's lock file tells, and backfill refuses while it is held.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

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
from tenantwatch.metrics.openmetrics_chunks import Piece, pieces
from tenantwatch.metrics.retention import TenantRetention
from tenantwatch.metrics.store import MetricStore
from tenantwatch.metrics.store_recovery import StoreInUse
from tenantwatch.metrics.wiring import store_directory
from tenantwatch.types import Labels, Sample

BATCH = 50_000
CUT_EVERY = 2_000_000  # samples between cuts of the head into blocks


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


def _parse(path: Path, piece: Piece) -> list[Sample]:
    """The samples of one piece; BackfillError naming the file's line."""
    try:
        text = decode_exposition(piece.data)
        parsed: list[ParsedSample] = parse_text(piece.text_for_parser(text), openmetrics=True)
    except ExpositionError as exc:
        raise BackfillError(f"{path}:{piece.file_line(exc.line)}: {exc.reason}") from None
    out = []
    for i, sample in enumerate(parsed):
        if sample.timestamp_ms is None:
            lines = _sample_line_numbers(text)
            line = piece.file_line(lines[i]) if len(lines) == len(parsed) else 0
            raise BackfillError(
                f"{path}:{line}: sample has no timestamp; backfill needs a timestamp on every "
                "sample (OpenMetrics: seconds after the value)"
            )
        out.append((sample.labels, sample.timestamp_ms, sample.value))
    return out


def read_pieces(path: Path) -> Iterator[tuple[int, list[Sample]]]:
    """The file's samples, a piece of whole families at a time, with the bytes read so
    far. Raise BackfillError naming file and line."""
    try:
        with path.open("rb") as f:
            done = 0
            for piece in pieces(f):
                done += len(piece.data)
                yield done, _parse(path, piece)
    except OSError as exc:
        raise BackfillError(f"{path}: cannot read the file: {exc.strerror or exc}") from None


@dataclass
class _Tally:
    """What an import has seen so far."""

    samples: int = 0
    first_ms: int = 2**63 - 1
    last_ms: int = -(2**63)
    past_retention: int = 0
    series: set[Labels] = field(default_factory=set)

    def add(
        self, samples: Sequence[Sample], retention_ms: Callable[[Labels], int], now_ms: int
    ) -> None:
        self.samples += len(samples)
        for labels, t, _ in samples:
            self.series.add(labels)
            self.first_ms = min(self.first_ms, t)
            self.last_ms = max(self.last_ms, t)
            if t < now_ms - retention_ms(labels):
                self.past_retention += 1

    def report(self) -> BackfillReport:
        return BackfillReport(
            self.samples, len(self.series), self.first_ms, self.last_ms, self.past_retention
        )


def check_file(path: Path) -> int:
    """Read the whole file once without storing anything: its size in bytes. Raise
    BackfillError at the first problem, so a bad file imports nothing."""
    size = 0
    samples = 0
    for read, part in read_pieces(path):
        size = read
        samples += len(part)
    if not samples:
        raise BackfillError(f"{path}: the file holds no samples")
    return size


def import_file(
    store: MetricStore,
    path: Path,
    *,
    retention_ms: Callable[[Labels], int],
    now_ms: int,
    advance: Callable[[int], None] = lambda n: None,
) -> BackfillReport:
    """Append a checked file's samples to an open store, a piece at a time; the head is
    cut into blocks as it goes, so memory stays bounded whatever the file's length."""
    tally = _Tally()
    since_cut = 0
    done_before = 0
    for done, part in read_pieces(path):
        import_samples(store, part, tally=tally, retention_ms=retention_ms, now_ms=now_ms)
        since_cut += len(part)
        if since_cut >= CUT_EVERY:
            store.flush()
            store.cut()
            since_cut = 0
        advance(done - done_before)
        done_before = done
    store.flush()
    return tally.report()


def import_samples(
    store: MetricStore,
    samples: Sequence[Sample],
    *,
    retention_ms: Callable[[Labels], int],
    now_ms: int,
    advance: Callable[[int], None] = lambda n: None,
    tally: _Tally | None = None,
) -> BackfillReport:
    """Append samples to an open store in batches; return what was imported."""
    for start in range(0, len(samples), BATCH):
        batch = samples[start : start + BATCH]
        store.append_many(batch)
        advance(len(batch))
    store.flush()
    tally = tally if tally is not None else _Tally()
    tally.add(samples, retention_ms, now_ms)
    return tally.report()


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + " UTC"


def backfill(
    file: Path = typer.Argument(..., help="OpenMetrics file; every sample needs a timestamp"),
    config: Path | None = ConfigOption,
) -> None:
    """Import an OpenMetrics file with timestamps into the metric store (server stopped)."""
    settings, cfg = config_for_reading(settings_from_env(config))
    directory = store_directory(settings.data_dir, cfg.metrics)
    retention = TenantRetention(
        TierCatalog.with_custom(cfg.custom_tiers()), sla_history_s=cfg.sla.history_retention
    )
    retention.update({t.id: t.tier for t in cfg.tenants})
    try:
        with console.status(f"checking {file}"):
            size = check_file(file)
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
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("import", total=size)
            report = import_file(
                store,
                file,
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
