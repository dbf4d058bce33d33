"""Dependency health: run each probe with a timeout and roll the results up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

DependencyProbe = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DependencyStatus:
    name: str
    healthy: bool
    latency_ms: float
    error: str | None = None

    @property
    def status(self) -> str:
        return "healthy" if self.healthy else "unhealthy"


def rollup(statuses: list[DependencyStatus], critical: frozenset[str]) -> str:
    """Return 'healthy', 'degraded' (a non-critical dependency is down) or 'unhealthy'."""
    down = {s.name for s in statuses if not s.healthy}
    if down & critical:
        return "unhealthy"
    return "degraded" if down else "healthy"


async def check(name: str, probe: DependencyProbe, within: float) -> DependencyStatus:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), within)
    except TimeoutError:
        elapsed = (time.perf_counter() - start) * 1000
        return DependencyStatus(name, False, elapsed, f"no answer within {within:g}s")
    except Exception as exc:  # any failure of a dependency is a status, not a crash
        elapsed = (time.perf_counter() - start) * 1000
        return DependencyStatus(name, False, elapsed, f"{type(exc).__name__}: {exc}"[:300])
    return DependencyStatus(name, True, (time.perf_counter() - start) * 1000)


async def check_all(
    probes: Mapping[str, DependencyProbe], within: float = 2.0
) -> list[DependencyStatus]:
    return list(await asyncio.gather(*(check(n, p, within) for n, p in probes.items())))
