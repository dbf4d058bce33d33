"""Tables that fit the terminal: columns dropped by priority, --wide for all; -o json.

Each column has a priority: 0 is always shown; when the table is wider than the terminal,
columns are hidden from the highest number down (the rightmost first among equals), then
any hidden column that fits again is brought back. A caption names what was hidden.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import typer
from rich.console import Console, JustifyMethod, RenderableType
from rich.measure import Measurement
from rich.table import Table

from tenantwatch import jsonio

WRAP_WIDTH = 24  # room counted for a column of free text (it wraps into that) when fitting
UNLIMITED = 100_000


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"


OutputOption = typer.Option(
    Output.TABLE, "--output", "-o", help="table, or json with every field at full precision"
)
WideOption = typer.Option(
    False, "--wide", help="show every column, even when the table is wider than the terminal"
)


@dataclass(frozen=True)
class Col:
    """A column: its header, how soon it is hidden (0: never) and how it is laid out."""

    header: str
    priority: int = 0
    justify: JustifyMethod = "left"
    wrap: bool = False  # free text (summaries, errors): wraps, and folds long words
    no_wrap: bool = False  # identifiers and values that must stay on one line


def _table(cols: Sequence[Col], rows: Sequence[Sequence[RenderableType]], **kw: Any) -> Table:
    table = Table(**kw)
    for c in cols:
        table.add_column(
            c.header,
            justify=c.justify,
            no_wrap=c.no_wrap,
            overflow="fold" if c.wrap else "ellipsis",
        )
    for row in rows:
        table.add_row(*row)
    return table


def natural_width(console: Console, table: Table) -> int:
    """The width the table takes when nothing is wrapped."""
    options = console.options.update(width=UNLIMITED, max_width=UNLIMITED)
    return Measurement.get(console, options, table).maximum


def column_widths(
    console: Console, cols: Sequence[Col], rows: Sequence[Sequence[RenderableType]]
) -> list[int]:
    """Each column's width without wrapping (header included); free text at most
    WRAP_WIDTH."""
    options = console.options.update(width=UNLIMITED, max_width=UNLIMITED)
    widths = []
    for i, c in enumerate(cols):
        cells: list[RenderableType] = [c.header, *(row[i] for row in rows)]
        width = max(Measurement.get(console, options, cell).maximum for cell in cells)
        widths.append(min(width, WRAP_WIDTH) if c.wrap else width)
    return widths


def fit(
    console: Console,
    cols: Sequence[Col],
    rows: Sequence[Sequence[RenderableType]],
    width: int,
    **kw: Any,
) -> list[int]:
    """Return the indexes of the columns to show so the table fits `width` when it can;
    free-text columns are counted at most WRAP_WIDTH wide."""
    widths = column_widths(console, cols, rows)

    def width_of(keep: list[int]) -> int:
        # borders and padding: what a table of the same style and as many 1-wide columns
        # takes beyond its cells
        frame = _table([Col("x")] * len(keep), [["x"] * len(keep)], **kw)
        return sum(widths[i] for i in keep) + natural_width(console, frame) - len(keep)

    keep = list(range(len(cols)))
    # highest priority number first; among equals, the rightmost first
    order = sorted((i for i in keep if cols[i].priority > 0), key=lambda i: (-cols[i].priority, -i))
    hidden = []
    for i in order:
        if width_of(keep) <= width:
            break
        keep.remove(i)
        hidden.append(i)
    for i in reversed(hidden):  # the most important hidden column first
        trial = sorted([*keep, i])
        if width_of(trial) <= width:
            keep = trial
    return keep


def table(
    console: Console,
    cols: Sequence[Col],
    rows: Sequence[Sequence[RenderableType]],
    *,
    wide: bool = False,
    **kw: Any,
) -> Table:
    """A rich Table of the columns that fit the console (all of them with wide)."""
    keep = list(range(len(cols))) if wide else fit(console, cols, rows, console.width, **kw)
    hidden = [cols[i].header for i in range(len(cols)) if i not in keep]
    if hidden:
        kw.setdefault("caption", f"hidden to fit: {', '.join(hidden)} (--wide shows them)")
        kw.setdefault("caption_justify", "left")
    return _table([cols[i] for i in keep], [[row[i] for i in keep] for row in rows], **kw)


def print_table(
    console: Console,
    cols: Sequence[Col],
    rows: Sequence[Sequence[RenderableType]],
    *,
    wide: bool = False,
    **kw: Any,
) -> None:
    """Print the table to fit the console; with wide, every column at its natural width,
    however long the lines get (as `kubectl -o wide`)."""
    shown = table(console, cols, rows, wide=wide, **kw)
    width = natural_width(console, shown) if wide else 0
    if width <= console.width:
        console.print(shown, soft_wrap=False)
        return
    # rich never prints wider than its console, so a wider one writes to the same stream
    Console(
        file=console.file,
        width=width,
        color_system=console.color_system,  # type: ignore[arg-type]
        force_terminal=console.is_terminal,
        no_color=console.no_color,
    ).print(shown, soft_wrap=False, crop=False)


def plain(value: Any) -> Any:
    """Value as JSON can hold it: dataclasses and mappings as objects, times as ISO 8601,
    enums as their value, Decimal as a number; floats unrounded."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity
    return value


def print_json(value: Any) -> None:
    """Print value as indented JSON on stdout, without colours or wrapping."""
    print(jsonio.dumps(plain(value), indent=2, ascii_only=False))
