"""Helpers for discovery tests: a recorder of the manager's updates, and waiting for one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tenantwatch.metrics.target_groups import TargetGroup

DEBOUNCE = 0.05


class Updates:
    """Every on_update call, in order, and the latest groups per job."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[TargetGroup]]] = []
        self.latest: dict[str, list[TargetGroup]] = {}

    def __call__(self, job: str, groups: list[TargetGroup]) -> None:
        self.calls.append((job, groups))
        self.latest[job] = groups

    def addresses(self, job: str) -> set[str]:
        return {
            dict(target)["__address__"]
            for group in self.latest.get(job, [])
            for target in group.targets
        }

    def group(self, job: str, source: str) -> TargetGroup | None:
        return next((g for g in self.latest.get(job, []) if g.source == source), None)


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until check() holds; fail the test when it does not within timeout seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s")
        await asyncio.sleep(0.01)
