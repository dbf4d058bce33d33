"""PromQL evaluation (Prometheus 3.x semantics) over a SeriesSource."""

from __future__ import annotations

from collections.abc import Sequence

from tenantwatch.promql.model import Matcher, PromQLError, QueryResult, SeriesSource

DEFAULT_LOOKBACK_MS = 300_000


class Engine:
    """Evaluates instant and range queries.

    `enforce` matchers are added to every selector of the query (tenant isolation is
    enforced here, not by rewriting the query text).
    """

    def __init__(
        self,
        source: SeriesSource,
        *,
        lookback_ms: int = DEFAULT_LOOKBACK_MS,
        max_samples: int = 50_000_000,
    ) -> None:
        self.source = source
        self.lookback_ms = lookback_ms
        self.max_samples = max_samples

    def instant(
        self,
        query: str,
        t: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
    ) -> QueryResult:
        raise PromQLError("internal", "not implemented yet")

    def range(
        self,
        query: str,
        start: int,
        end: int,
        step: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
    ) -> QueryResult:
        raise PromQLError("internal", "not implemented yet")
