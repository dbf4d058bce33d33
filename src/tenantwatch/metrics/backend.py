"""The query side of the metric store, embedded or remote, as one protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import Labels, Matcher, QueryResult, SeriesSource


class QueryBackend(Protocol):
    """What the query API, rules, SLAs and dashboards read metrics through.

    `enforce` matchers (a tenant-bound caller's `tenant="<id>"`) apply to every selector.
    """

    async def instant(
        self,
        query: str,
        t: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
    ) -> QueryResult: ...

    async def range(
        self,
        query: str,
        start: int,
        end: int,
        step: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
    ) -> QueryResult: ...

    async def series(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: int,
        maxt: int,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[Labels]: ...

    async def label_names(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: int,
        maxt: int,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]: ...

    async def label_values(
        self,
        name: str,
        selectors: Sequence[Sequence[Matcher]],
        mint: int,
        maxt: int,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]: ...


class EmbeddedBackend:
    """The PromQL engine over the embedded store, run off the event loop."""

    def __init__(self, source: SeriesSource, *, lookback_ms: int = 300_000) -> None:
        self.source = source
        self.engine = Engine(source, lookback_ms=lookback_ms)

    async def instant(
        self,
        query: str,
        t: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
    ) -> QueryResult:
        return await asyncio.to_thread(
            self.engine.instant, query, t, enforce=enforce, lookback_ms=lookback_ms
        )

    async def range(
        self,
        query: str,
        start: int,
        end: int,
        step: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
    ) -> QueryResult:
        return await asyncio.to_thread(
            self.engine.range, query, start, end, step, enforce=enforce, lookback_ms=lookback_ms
        )

    def _each(
        self, selectors: Sequence[Sequence[Matcher]], enforce: Sequence[Matcher]
    ) -> list[list[Matcher]]:
        return [[*s, *enforce] for s in selectors] if selectors else [list(enforce)]

    async def series(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: int,
        maxt: int,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[Labels]:
        found: set[Labels] = set()
        for matchers in self._each(selectors, enforce):
            found.update(self.source.series(matchers, mint, maxt))
        return sorted(found)

    async def label_names(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: int,
        maxt: int,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]:
        names: set[str] = set()
        for matchers in self._each(selectors, enforce):
            names.update(self.source.label_names(matchers, mint, maxt))
        return sorted(names)

    async def label_values(
        self,
        name: str,
        selectors: Sequence[Sequence[Matcher]],
        mint: int,
        maxt: int,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]:
        values: set[str] = set()
        for matchers in self._each(selectors, enforce):
            values.update(self.source.label_values(name, matchers, mint, maxt))
        return sorted(values)
