"""Group commit: concurrent callers share one write and each gets its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from tenantwatch.services.group_commit import GroupCommit


async def test_concurrent_submits_share_one_write_and_get_their_own_results() -> None:
    writes: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        writes.append(list(items))
        await asyncio.sleep(0.01)  # a transaction takes a while
        return [i * 10 for i in items]

    commit: GroupCommit[int, int] = GroupCommit(write)
    first = await asyncio.gather(*(commit.submit(i) for i in range(5)))
    assert first == [0, 10, 20, 30, 40]
    assert writes == [[0, 1, 2, 3, 4]]

    # submits that arrive while a write runs go together in the next one
    async def late(i: int) -> int:
        await asyncio.sleep(0.005)
        return await commit.submit(i)

    second = await asyncio.gather(commit.submit(7), late(8), late(9))
    assert second == [70, 80, 90]
    assert writes[1:] == [[7], [8, 9]]


async def test_a_failed_write_fails_its_callers_and_the_next_write_still_runs() -> None:
    calls = 0

    async def write(items: Sequence[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database is locked")
        return [s.upper() for s in items]

    commit: GroupCommit[str, str] = GroupCommit(write)
    results = await asyncio.gather(commit.submit("a"), commit.submit("b"), return_exceptions=True)
    assert [type(r) for r in results] == [OSError, OSError]
    assert await commit.submit("c") == "C"


async def test_a_write_that_answers_the_wrong_number_of_items_is_an_error() -> None:
    async def write(items: Sequence[int]) -> list[int]:
        return [1]

    commit: GroupCommit[int, int] = GroupCommit(write)
    with pytest.raises(RuntimeError, match="returned 1 of 2"):
        await asyncio.gather(commit.submit(1), commit.submit(2))
