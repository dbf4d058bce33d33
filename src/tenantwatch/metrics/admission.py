"""What a write may add to the store, checked under the store's lock before anything of it
is stored: new series within their tenant's budget, no stored sample overwritten."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tenantwatch.metrics.head import Head, MemSeries
from tenantwatch.metrics.limits import (
    DUPLICATE,
    SERIES_LIMIT,
    Rejected,
    SeriesLimits,
    duplicate_message,
    same_value,
)
from tenantwatch.metrics.tenancy import TENANT
from tenantwatch.types import Labels, Sample


@dataclass(frozen=True, slots=True)
class Admission:
    """series: the per-tenant series budgets (None: unlimited). duplicates: refuse a sample
    whose timestamp a series holds already with another value (remote-write; a push writes
    at the server's clock and replaces what it pushed before)."""

    series: SeriesLimits | None = None
    duplicates: bool = False

    def check(self, head: Head, rows: Sequence[Sample], found: Sequence[MemSeries | None]) -> None:
        """Raise Rejected unless every row may be stored; found[i] is rows[i]'s series
        (None: it would be created)."""
        if self.duplicates:
            for (_, t, v), series in zip(rows, found, strict=True):
                if series is not None and t <= series.last_t:
                    old = series.value_at(t)
                    if old is not None and not same_value(old, v):
                        raise Rejected(
                            DUPLICATE,
                            duplicate_message(series.labels, t, old, v),
                            samples=len(rows),
                        )
        if self.series is not None:
            self._check_series(head, rows, found, self.series)

    @staticmethod
    def _check_series(
        head: Head, rows: Sequence[Sample], found: Sequence[MemSeries | None], limits: SeriesLimits
    ) -> None:
        budgets = limits.by_tenant  # one reading: update() may replace it meanwhile
        new: dict[str | None, set[Labels]] = {}
        for (labels, _, _), series in zip(rows, found, strict=True):
            if series is None:
                new.setdefault(limits.tenant_of(labels, budgets), set()).add(labels)
        for tenant, created in new.items():
            if tenant is not None:
                limit = budgets[tenant]
                stored = head.count_with(TENANT, tenant)
                if stored + len(created) > limit:
                    raise Rejected(
                        SERIES_LIMIT,
                        f"per-tenant series limit of {limit} exceeded for tenant {tenant!r}: "
                        f"it has {stored} series and this request would add {len(created)}; "
                        "send fewer series, or raise max_series of its tier (or the tenant's "
                        "limits.max_series)",
                        samples=len(rows),
                    )
                continue
            limit = limits.default
            stored = head.active - sum(head.count_with(TENANT, t) for t in budgets)
            if stored + len(created) > limit:
                raise Rejected(
                    SERIES_LIMIT,
                    f"series limit of {limit} exceeded for series without a known tenant: "
                    f"{stored} are stored and this request would add {len(created)}; label "
                    "them with a tenant, or raise metrics.limits.max_series",
                    samples=len(rows),
                )


def series_gate(limits: SeriesLimits, head: Head) -> Callable[[Labels], str | None]:
    """The check a scrape makes before it stores a new series: why the series' tenant (or
    the shared budget of series without a known tenant) has no room for it, else None.
    Only new series are asked about, so a steady scrape never calls it."""

    def refusal(labels: Labels) -> str | None:
        budgets = limits.by_tenant
        tenant = limits.tenant_of(labels, budgets)
        if tenant is not None:
            limit = budgets[tenant]
            stored = head.count_with(TENANT, tenant)
            if stored < limit:
                return None
            return (
                f"per-tenant series limit of {limit} exceeded for tenant {tenant!r}: new "
                "series of this target are not stored; scrape fewer series (drop some with "
                "metric_relabel_configs), or raise max_series of its tier (or the tenant's "
                "limits.max_series)"
            )
        limit = limits.default
        stored = head.active - sum(head.count_with(TENANT, t) for t in budgets)
        if stored < limit:
            return None
        return (
            f"series limit of {limit} exceeded for series without a known tenant: new "
            "series of this target are not stored; label them with a tenant, or raise "
            "metrics.limits.max_series"
        )

    return refusal
