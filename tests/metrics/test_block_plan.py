"""Cut windows, compaction plans and levels: aligned, complete, largest first."""

from __future__ import annotations

from tenantwatch.metrics.block_plan import (
    BLOCK_MS,
    HOUR_MS,
    LEVELS,
    BlockSpan,
    cut_boundary,
    cut_windows,
    levels_for,
    plan_compaction,
)

DAY = 24 * HOUR_MS


def test_the_head_keeps_at_least_an_hour_and_cuts_at_2h_boundaries() -> None:
    assert cut_boundary(10 * HOUR_MS) == 8 * HOUR_MS
    assert cut_boundary(9 * HOUR_MS - 1) == 6 * HOUR_MS
    assert cut_boundary(HOUR_MS) == 0


def test_a_backfill_is_cut_into_the_largest_complete_windows() -> None:
    windows = cut_windows(HOUR_MS, 4 * DAY, LEVELS)
    assert windows == [
        (0, 3 * DAY),
        (3 * DAY, 3 * DAY + 12 * HOUR_MS),
        (3 * DAY + 12 * HOUR_MS, 4 * DAY),
    ]
    assert cut_windows(7 * HOUR_MS, 8 * HOUR_MS, LEVELS) == [(6 * HOUR_MS, 8 * HOUR_MS)]


def test_levels_stop_at_a_tenth_of_the_longest_retention() -> None:
    assert levels_for(15 * DAY) == (BLOCK_MS, 12 * HOUR_MS)
    assert levels_for(90 * DAY) == (BLOCK_MS, 12 * HOUR_MS, 3 * DAY)
    assert levels_for(365 * DAY) == LEVELS
    assert levels_for(HOUR_MS) == (BLOCK_MS,)


def spans(*windows: tuple[int, int]) -> list[BlockSpan]:
    return [BlockSpan(f"b{i}", lo, hi) for i, (lo, hi) in enumerate(windows)]


def test_complete_windows_with_several_blocks_are_merged_smallest_first() -> None:
    two_h = [(i * BLOCK_MS, (i + 1) * BLOCK_MS) for i in range(7)]
    blocks = spans(*two_h)
    assert plan_compaction(blocks, LEVELS, 10 * HOUR_MS) is None  # window not complete
    plan = plan_compaction(blocks, LEVELS, 14 * HOUR_MS)
    assert plan == ((0, 12 * HOUR_MS), ["b0", "b1", "b2", "b3", "b4", "b5"])


def test_overlapping_blocks_of_one_window_are_merged() -> None:
    blocks = spans((0, BLOCK_MS), (0, BLOCK_MS), (3 * DAY, 3 * DAY + BLOCK_MS))
    assert plan_compaction(blocks, LEVELS, 4 * HOUR_MS) == ((0, BLOCK_MS), ["b0", "b1"])


def test_a_late_small_block_joins_its_large_window() -> None:
    blocks = spans((0, 3 * DAY), (DAY, DAY + BLOCK_MS))
    assert plan_compaction(blocks, LEVELS, 5 * DAY) == ((0, 3 * DAY), ["b0", "b1"])
    assert plan_compaction(blocks, (BLOCK_MS, 12 * HOUR_MS), 5 * DAY) is None
