"""The query side of the metric store, embedded or remote, as one protocol."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from tenantwatch.promql.engine import DEFAULT_MAX_SAMPLES, Engine
from tenantwatch.promql.model import Matcher, PromQLError, QueryResult, SeriesSource
from tenantwatch.types import Labels, Millis

T = TypeVar("T")
DEFAULT_MAX_CONCURRENCY = 4  # evaluations at once; more only share the same cores


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
        timeout_s: float | None = None,
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
        timeout_s: float | None = None,
    ) -> QueryResult: ...

    async def series(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: Millis,
        maxt: Millis,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[Labels]: ...

    async def label_names(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: Millis,
        maxt: Millis,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]: ...

    async def label_values(
        self,
        name: str,
        selectors: Sequence[Sequence[Matcher]],
        mint: Millis,
        maxt: Millis,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]: ...


class EmbeddedBackend:
    """The PromQL engine over the embedded store, run off the event loop.

    At most `max_concurrency` evaluations run at once (Prometheus' --query.max-concurrency);
    the others wait their turn within their own timeout. Each evaluation stops at its
    timeout, so a query that answered 503 does not run on in its thread."""

    def __init__(
        self,
        source: SeriesSource,
        *,
        lookback_ms: int = 300_000,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        self.source = source
        self.engine = Engine(source, lookback_ms=lookback_ms, max_samples=max_samples)
        self._slots = asyncio.Semaphore(max_concurrency)

    async def _run(self, timeout_s: float | None, work: Callable[[float | None], T]) -> T:
        started = time.monotonic()
        async with self._slots:
            left = None if timeout_s is None else timeout_s - (time.monotonic() - started)
            if left is not None and left <= 0:
                raise PromQLError("timeout", "query timed out in query queue")
            return await asyncio.to_thread(self._then_release, work, left)

    def _then_release(self, work: Callable[[float | None], T], left: float | None) -> T:
        try:
            return work(left)
        finally:
            after = getattr(self.source, "after_query", None)
            if after is not None:
                after()

    async def instant(
        self,
        query: str,
        t: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        return await self._run(
            timeout_s,
            lambda left: self.engine.instant(
                query, t, enforce=enforce, lookback_ms=lookback_ms, timeout_s=left
            ),
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
        timeout_s: float | None = None,
    ) -> QueryResult:
        return await self._run(
            timeout_s,
            lambda left: self.engine.range(
                query, start, end, step, enforce=enforce, lookback_ms=lookback_ms, timeout_s=left
            ),
        )

    def _each(
        self, selectors: Sequence[Sequence[Matcher]], enforce: Sequence[Matcher]
    ) -> list[list[Matcher]]:
        return [[*s, *enforce] for s in selectors] if selectors else [list(enforce)]

    async def series(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: Millis,
        maxt: Millis,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[Labels]:
        def work(_: float | None) -> list[Labels]:
            found: set[Labels] = set()
            for matchers in self._each(selectors, enforce):
                found.update(self.source.series(matchers, mint, maxt))
            return sorted(found)

        return await self._run(None, work)

    async def label_names(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: Millis,
        maxt: Millis,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]:
        def work(_: float | None) -> list[str]:
            names: set[str] = set()
            for matchers in self._each(selectors, enforce):
                names.update(self.source.label_names(matchers, mint, maxt))
            return sorted(names)

        return await self._run(None, work)

    async def label_values(
        self,
        name: str,
        selectors: Sequence[Sequence[Matcher]],
        mint: Millis,
        maxt: Millis,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]:
        def work(_: float | None) -> list[str]:
            values: set[str] = set()
            for matchers in self._each(selectors, enforce):
                values.update(self.source.label_values(name, matchers, mint, maxt))
            return sorted(values)

        return await self._run(None, work)
