"""When the head is cut into blocks and which blocks are merged: pure decisions.

Windows are aligned to multiples of their size since the epoch, as Prometheus' are:
2 h blocks are cut from the head, merged into 12 h blocks, then into 3-day and 24-day
blocks. The largest size is capped at a tenth of the longest retention (at least 2 h), so
retention, which deletes whole blocks, keeps data at most that much longer than asked
(15 days: 12 h blocks; 30 to 239 days: 3-day blocks; a year: 24-day blocks, about 15).
Each block costs about 32 bytes of memory per series it holds (its index), so few large
blocks keep memory flat as history grows.

The head keeps at least HEAD_KEEP_MS (1 h) behind its newest sample: a cut takes every
sample older than the 2 h boundary at or before (newest - 1 h), so the head holds 1 to
3 hours of samples between cuts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HOUR_MS = 3_600_000
BLOCK_MS = 2 * HOUR_MS
HEAD_KEEP_MS = HOUR_MS
LEVELS: tuple[int, ...] = (BLOCK_MS, 12 * HOUR_MS, 72 * HOUR_MS, 24 * 24 * HOUR_MS)


def levels_for(longest_retention_ms: int) -> tuple[int, ...]:
    """Window sizes in use: LEVELS up to a tenth of the longest retention."""
    cap = max(BLOCK_MS, longest_retention_ms // 10)
    return tuple(size for size in LEVELS if size <= cap)


def cut_boundary(newest_ms: int) -> int:
    """Samples before this time leave the head at the next cut."""
    return ((newest_ms - HEAD_KEEP_MS) // BLOCK_MS) * BLOCK_MS


def cut_windows(oldest_ms: int, boundary: int, levels: Sequence[int]) -> list[tuple[int, int]]:
    """Aligned windows covering [oldest, boundary): as large as the levels allow while the
    window ends by the boundary (a backfill of weeks becomes a few large blocks, not
    hundreds of 2 h ones)."""
    out: list[tuple[int, int]] = []
    start = (oldest_ms // BLOCK_MS) * BLOCK_MS
    while start < boundary:
        for size in sorted(levels, reverse=True):
            if start % size == 0 and start + size <= boundary:
                out.append((start, start + size))
                start += size
                break
        else:  # pragma: no cover - BLOCK_MS always fits, boundary being BLOCK_MS aligned
            raise AssertionError("boundary is not aligned to BLOCK_MS")
    return out


@dataclass(frozen=True, slots=True)
class BlockSpan:
    id: str
    mint: int
    maxt: int


def plan_compaction(
    blocks: Sequence[BlockSpan], levels: Sequence[int], boundary: int
) -> tuple[tuple[int, int], list[str]] | None:
    """The next merge: (window, ids of the blocks to merge into one block of it), or None.

    A window of a level is merged once it is complete (it ends by `boundary`, so no cut
    will add to it) and holds two or more blocks; blocks overlapping in one window (late
    samples cut after their window's block) are merged the same way. Smallest sizes first.
    """
    for size in sorted(levels):
        windows: dict[int, list[BlockSpan]] = {}
        for block in blocks:
            start = (block.mint // size) * size
            if block.maxt <= start + size:
                windows.setdefault(start, []).append(block)
        for start in sorted(windows):
            members = windows[start]
            if len(members) > 1 and start + size <= boundary:
                return (start, start + size), [b.id for b in members]
    return None
