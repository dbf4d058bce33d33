"""What `tenantwatch tsdb list` and `tsdb analyze` report, from blocks read without writing.

Reading never changes the directory: half-written blocks (*.tmp, no meta.json) are
listed as skipped, not removed, so it is safe beside a running server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tenantwatch.metrics.block_format import Block, BlockError
from tenantwatch.types import Labels


def read_blocks(root: Path) -> tuple[list[Block], list[str]]:
    """The complete blocks under root, oldest first, and what was skipped and why."""
    blocks: list[Block] = []
    skipped: list[str] = []
    if not root.is_dir():
        return blocks, skipped
    for path in sorted(root.iterdir()):
        if not path.is_dir():
            continue
        if path.name.endswith(".tmp"):
            skipped.append(f"{path.name}: being written (or left by a crash)")
            continue
        try:
            blocks.append(Block(path))
        except BlockError as exc:
            skipped.append(str(exc))
    merged = {p for b in blocks for p in b.meta.parents}
    for block in blocks:
        if block.id in merged:
            skipped.append(f"{block.id}: merged into another block, awaiting removal")
    live = [b for b in blocks if b.id not in merged]
    return sorted(live, key=lambda b: (b.meta.mint, b.id)), skipped


@dataclass(frozen=True)
class Analysis:
    series: int
    label_names: int
    label_pairs: int
    metric_names: list[tuple[str, int]]  # name, series; most series first
    pairs: list[tuple[str, int]]  # name="value", series
    cardinality: list[tuple[str, int]]  # label name, distinct values


def analyze(labels: Sequence[Labels], limit: int = 20) -> Analysis:
    """Series counts by metric name and by label pair, and label names by cardinality."""
    names: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    values: dict[str, set[str]] = {}
    for series in labels:
        for name, value in series:
            pairs[(name, value)] += 1
            values.setdefault(name, set()).add(value)
            if name == "__name__":
                names[value] += 1
    return Analysis(
        series=len(labels),
        label_names=len(values),
        label_pairs=len(pairs),
        metric_names=names.most_common(limit),
        pairs=[(f'{k}="{v}"', n) for (k, v), n in pairs.most_common(limit)],
        cardinality=sorted(
            ((k, len(v)) for k, v in values.items()), key=lambda kv: (-kv[1], kv[0])
        )[:limit],
    )
