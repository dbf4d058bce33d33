"""The store's set of open blocks: opening the blocks/ directory, swapping blocks in and out.

Readers take `current` (an immutable tuple, swapped whole) and never lock. Opening removes
what a crash left: directories still named *.tmp, blocks without a readable meta.json or
index, and blocks already merged into another one (listed in its parents).
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from tenantwatch.metrics.block_format import Block, BlockError
from tenantwatch.metrics.block_plan import BlockSpan
from tenantwatch.metrics.wal import fsync_dir


def new_block_id(mint: int) -> str:
    """Sortable by window start, unique."""
    return f"b{mint:015d}-{uuid.uuid4().hex[:12]}"


class BlockSet:
    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.current: tuple[Block, ...] = ()
        self._lock = threading.Lock()
        self._refs: np.ndarray | None = None

    def open(self) -> list[str]:
        """Open every complete block; return what was removed and why."""
        if self.root is None:
            return []
        self.root.mkdir(parents=True, exist_ok=True)
        problems: list[str] = []
        opened: list[Block] = []
        for path in sorted(self.root.iterdir()):
            if not path.is_dir():
                continue
            if path.name.endswith(".tmp"):
                shutil.rmtree(path, ignore_errors=True)
                problems.append(f"removed half-written block {path.name}")
                continue
            try:
                opened.append(Block(path))
            except BlockError as exc:
                shutil.rmtree(path, ignore_errors=True)
                problems.append(f"removed unreadable block {path.name}: {exc}")
        merged = {parent for block in opened for parent in block.meta.parents}
        kept = []
        for block in opened:
            if block.id in merged:
                shutil.rmtree(block.path, ignore_errors=True)
                problems.append(f"removed block {block.id}, already merged into another")
            else:
                kept.append(block)
        self._set(kept)
        return problems

    def _set(self, blocks: Iterable[Block]) -> None:
        self.current = tuple(sorted(blocks, key=lambda b: (b.meta.mint, b.meta.level, b.id)))
        self._refs = None

    def add(self, block: Block) -> None:
        with self._lock:
            self._set([*self.current, block])

    def replace(self, old: Sequence[str], new: Block | None) -> None:
        """Swap blocks `old` for `new` (None: just remove them), then delete their files."""
        gone = set(old)
        with self._lock:
            removed = [b for b in self.current if b.id in gone]
            self._set([b for b in self.current if b.id not in gone] + ([new] if new else []))
        for block in removed:
            shutil.rmtree(block.path, ignore_errors=True)
        if removed and self.root is not None:
            fsync_dir(self.root)

    def spans(self) -> list[BlockSpan]:
        return [BlockSpan(b.id, b.meta.mint, b.meta.maxt) for b in self.current]

    def overlapping(self, mint: int, maxt: int) -> tuple[Block, ...]:
        """Blocks with samples possibly in [mint, maxt] (inclusive), oldest first."""
        return tuple(b for b in self.current if b.meta.min_time <= maxt and b.meta.max_time >= mint)

    @property
    def max_time(self) -> int:
        """The newest sample in any block (minus infinity without blocks)."""
        return max((b.meta.max_time for b in self.current), default=-(2**63))

    def refs(self) -> np.ndarray:
        """Every series ref some block holds, ascending."""
        if self._refs is None:
            blocks = self.current
            self._refs = (
                np.unique(np.concatenate([b.refs for b in blocks]))
                if blocks
                else np.empty(0, np.int64)
            )
        return self._refs
