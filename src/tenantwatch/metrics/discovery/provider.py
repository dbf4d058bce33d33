"""What a discovery provider is: a long-running task that sends target groups as they change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from tenantwatch.metrics.target_groups import TargetGroup

Send = Callable[[Sequence[TargetGroup]], None]
"""Takes groups that replace the provider's groups of the same sources."""


class Provider(Protocol):
    async def run(self, send: Send) -> None:
        """Send the current groups, then every change, until cancelled."""
        ...


class StaticProvider:
    """static_configs: the same groups once, as Prometheus' StaticProvider."""

    def __init__(self, groups: Sequence[TargetGroup]) -> None:
        self.groups = list(groups)

    async def run(self, send: Send) -> None:
        send(self.groups)
        await asyncio.Event().wait()
