"""The SLA engine wired: its settings from tenantwatch.yml's `sla:` section, and where it
reads raw samples (the embedded store, or a remote backend's query API)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import structlog

from tenantwatch.config.model import Config
from tenantwatch.config.sla_model import CreditStep
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.metrics.backend import QueryBackend
from tenantwatch.metrics.remote import RemoteBackend
from tenantwatch.metrics.wiring import MetricsRuntime
from tenantwatch.promql.model import Matcher, MatrixResult, SeriesData
from tenantwatch.services.checks import CheckService
from tenantwatch.services.sla import RawReader, SlaService, SlaSettings, Slis
from tenantwatch.services.tenants import TenantService
from tenantwatch.sla.availability import Rules
from tenantwatch.sla.budget import burn_alerts
from tenantwatch.sla.maintenance import Maintenance

log = structlog.get_logger(__name__)


def _schedule(steps: Sequence[CreditStep]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((s.below, s.credit) for s in steps)


def sla_settings(config: Config) -> SlaSettings:
    section = config.sla
    acc = section.accounting
    slis = section.slis
    return SlaSettings(
        rules=Rules(acc.min_downtime, acc.max_gap, acc.degraded),
        checks=acc.checks,
        maintenance=tuple(
            Maintenance(
                w.name, frozenset(w.tenants), w.start, w.end, w.cron, float(w.duration or 0)
            )
            for w in section.maintenance_windows
        ),
        canaries=tuple(acc.probe_canaries),
        slis=Slis(
            slis.error_rate.errors,
            slis.error_rate.total,
            slis.latency.histogram,
            slis.latency.within_ms,
            slis.resources.cpu_percent,
            slis.resources.memory_percent,
        ),
        credits={tier: _schedule(steps) for tier, steps in section.credits.tiers.items()},
        default_credits=_schedule(section.credits.default),
    )


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def query_reader(queries: QueryBackend) -> RawReader:
    """Raw samples through a query API: `{matchers}[range]` at maxt answers every sample."""

    async def read(matchers: Sequence[Matcher], mint: int, maxt: int) -> list[SeriesData]:
        selector = ",".join(f'{x.name}{x.op}"{_quoted(x.value)}"' for x in matchers)
        # a range selector holds (t - range, t]: one ms more keeps mint in
        result = await queries.instant(f"{{{selector}}}[{maxt - mint + 1}ms]", maxt)
        if not isinstance(result.value, MatrixResult):
            return []
        return [
            SeriesData(
                s.labels,
                np.fromiter((t for t, _ in s.points), np.int64, len(s.points)),
                np.fromiter((v for _, v in s.points), np.float64, len(s.points)),
            )
            for s in result.value.series
        ]

    return read


def raw_reader(metrics: MetricsRuntime) -> RawReader:
    """The embedded store read in a worker thread; a remote backend through its API."""
    if isinstance(metrics.queries, RemoteBackend):
        return query_reader(metrics.queries)

    async def read(matchers: Sequence[Matcher], mint: int, maxt: int) -> list[SeriesData]:
        if not metrics.running:
            return []
        return await asyncio.to_thread(metrics.store.select, matchers, mint, maxt)

    return read


def warn_infeasible(tiers: TierCatalog) -> None:
    """Log each tier whose availability target makes a burn-rate alert unable to fire."""
    for name in tiers.names():
        target = float(tiers.tiers[name].sla.availability_percentage) / 100
        if not 0 < target < 1:
            continue
        never = [a for a in burn_alerts(target, 30 * 86400) if not a.feasible]
        if never:
            log.warning(
                "burn-rate alerts that can never fire for this tier's target",
                tier=name,
                target=target,
                factors=[round(a.factor, 2) for a in never],
                ceiling=round(1 / (1 - target), 2),
            )


def build_sla(
    config: Config,
    tenants: TenantService,
    checks: CheckService,
    tiers: TierCatalog,
    metrics: MetricsRuntime,
) -> SlaService:
    warn_infeasible(tiers)
    return SlaService(
        tenants,
        tiers,
        raw_reader(metrics),
        metrics.queries,
        sla_settings(config),
        critical=checks.critical_ids,
    )
