"""tenantwatch tsdb list | analyze: the metric store's blocks, as promtool tsdb shows them.

Both only read: no lock is taken and nothing is removed, so they run beside a server.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from tenantwatch.cli.common import ConfigOption, config_for_reading, console, settings_from_env
from tenantwatch.metrics.block_analysis import analyze, read_blocks
from tenantwatch.metrics.block_format import Block
from tenantwatch.metrics.wiring import store_directory

app = typer.Typer(help="Inspect the metric store's on-disk blocks.", no_args_is_help=True)

DirOption = typer.Option(
    None, "--dir", help="the metric store directory (default: the configured one)"
)


def _root(directory: Path | None, config: Path | None) -> Path:
    if directory is not None:
        return directory
    settings, cfg = config_for_reading(settings_from_env(config))
    return store_directory(settings.data_dir, cfg.metrics)


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000))


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _skipped(notes: list[str]) -> None:
    for note in notes:
        console.print(f"[yellow]skipped[/yellow] {note}", highlight=False)


@app.command("list")
def list_blocks(directory: Path | None = DirOption, config: Path | None = ConfigOption) -> None:
    """Every block: id, time range, duration, series, samples, size, bytes per sample."""
    root = _root(directory, config) / "blocks"
    blocks, skipped = read_blocks(root)
    table = Table(title=f"blocks in {root}")
    for column in ("block", "from (UTC)", "until (UTC)", "hours", "level", "series", "samples"):
        table.add_column(column, justify="left" if column == "block" else "right")
    table.add_column("size", justify="right")
    table.add_column("bytes/sample", justify="right")
    for b in blocks:
        m = b.meta
        table.add_row(
            m.id,
            _when(m.mint),
            _when(m.maxt),
            f"{(m.maxt - m.mint) / 3_600_000:g}",
            str(m.level),
            f"{m.series:,}",
            f"{m.samples:,}",
            _size(m.bytes),
            f"{m.bytes / m.samples:.2f}" if m.samples else "-",
        )
    console.print(table)
    total = sum(b.meta.samples for b in blocks)
    size = sum(b.meta.bytes for b in blocks)
    console.print(
        f"{len(blocks)} blocks, {total:,} samples, {_size(size)}"
        + (f", {size / total:.2f} bytes per sample" if total else ""),
        highlight=False,
    )
    _skipped(skipped)


def _analyze_one(block: Block, limit: int) -> None:
    m = block.meta
    found = analyze([labels for _, labels in block.labels()], limit)
    console.print(
        f"[bold]Block {m.id}[/bold]: {_when(m.mint)} to {_when(m.maxt)} UTC, "
        f"{found.series:,} series, {m.samples:,} samples, "
        f"{m.bytes / max(m.samples, 1):.2f} bytes per sample "
        f"({m.rollup_samples:,} rollup samples included in the size), "
        f"{found.label_names} label names, {found.label_pairs:,} label pairs",
        highlight=False,
    )
    for title, rows, head in (
        ("Highest cardinality metric names", found.metric_names, "metric"),
        ("Most common label pairs", found.pairs, "label pair"),
        ("Highest cardinality labels", found.cardinality, "label"),
    ):
        table = Table(title=title)
        table.add_column(head)
        table.add_column("series" if head != "label" else "values", justify="right")
        for name, count in rows:
            table.add_row(name, f"{count:,}")
        console.print(table)


@app.command("analyze")
def analyze_blocks(
    block: str | None = typer.Argument(None, help="block id (default: the newest block)"),
    directory: Path | None = DirOption,
    limit: int = typer.Option(20, "--limit", min=1, help="rows per table"),
    all_blocks: bool = typer.Option(False, "--all", help="analyze every block"),
    config: Path | None = ConfigOption,
) -> None:
    """Series, samples and bytes per sample of a block, with its biggest metric names and
    label pairs by series count (as promtool tsdb analyze)."""
    root = _root(directory, config) / "blocks"
    blocks, skipped = read_blocks(root)
    _skipped(skipped)
    if not blocks:
        console.print(f"no blocks in {root} yet: the head is cut into blocks after 1-3 hours")
        return
    if block is not None:
        chosen = [b for b in blocks if b.id == block]
        if not chosen:
            ids = ", ".join(b.id for b in blocks[-5:])
            console.print(f"[red]no block {block} in {root}[/red]; the newest: {ids}")
            raise typer.Exit(1)
    else:
        chosen = blocks if all_blocks else [blocks[-1]]
    for one in chosen:
        _analyze_one(one, limit)
