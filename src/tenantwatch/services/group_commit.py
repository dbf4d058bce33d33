"""Group commit: concurrent callers' writes share one transaction.

Each caller submits an item and waits. One writer task takes everything submitted so far
and writes it with a single call (one transaction), then answers every caller with its
result, or with the write's exception. Items submitted while a write runs go in the next
one. On SQLite this also keeps writers from queueing on the database lock, where the
busy handler sleeps in steps of up to 100 ms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]]) -> None:
        """`write(items)` stores the items in one go and returns one result per item."""
        self._write = write
        self._items: list[T] = []
        self._waiters: list[asyncio.Future[R]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write the item with whatever else is waiting; return its result once stored."""
        waiter: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._items.append(item)
        self._waiters.append(waiter)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._run())
        return await waiter

    async def _run(self) -> None:
        while self._waiters:
            await asyncio.sleep(0)  # let callers already under way join this write
            items, waiters = self._items, self._waiters
            self._items, self._waiters = [], []
            try:
                results = await self._write(items)
            except Exception as exc:
                for w in waiters:
                    if not w.done():
                        w.set_exception(exc)
                continue
            if len(results) != len(waiters):
                error = RuntimeError(f"a group write returned {len(results)} of {len(waiters)}")
                for w in waiters:
                    if not w.done():
                        w.set_exception(error)
                continue
            for w, result in zip(waiters, results, strict=True):
                if not w.done():
                    w.set_result(result)
