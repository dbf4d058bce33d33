"""The `sla:` section of tenantwatch.yml: accounting rules, maintenance windows, the SLIs
read from the app's metrics, credit schedules and the burn-rate alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import promql_parser
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tenantwatch.config.errors import refusing
from tenantwatch.config.types import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _promql_problem(query: str) -> str | None:
    try:
        promql_parser.parse(query.replace("$__range", "1h"))
    except (ValueError, RuntimeError) as exc:
        return f"not a PromQL expression: {exc}"
    return None


def _cron_problem(spec: str) -> str | None:
    if not croniter.is_valid(spec):
        return f"not a cron schedule: {spec!r} (five fields, e.g. '0 3 * * SUN')"
    return None


PromQL = Annotated[str, Field(min_length=1, max_length=4000), refusing(_promql_problem)]


class AccountingConfig(_Strict):
    min_downtime: Duration = Field(
        0.0, description="down runs shorter than this count as up (the SLA's minimum period)"
    )
    max_gap: Duration = Field(
        300.0, description="a check's result holds this long at most; silence after is unknown"
    )
    checks: Literal["critical", "all"] = Field(
        "critical",
        description="critical: a tenant with critical checks is measured by those alone; "
        "all: by every check",
    )
    degraded: Literal["up", "down", "partial"] = Field(
        "down", description="how a value between 0 and 1 counts"
    )
    probe_canaries: list[str] = Field(
        default_factory=list,
        description="check ids that probe a known-good target: while one is down, the "
        "probing side is failing and the time is excluded for every tenant",
    )


class MaintenanceWindow(_Strict):
    """A window excluded from availability: once (start, end) or recurring (cron, duration,
    in each tenant's timezone)."""

    name: str = Field(min_length=1, max_length=200)
    tenants: list[str] = Field(default_factory=list, description="empty: every tenant")
    start: datetime | None = None
    end: datetime | None = None
    cron: Annotated[str, refusing(_cron_problem)] | None = None
    duration: Duration | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceWindow:
        once = self.start is not None or self.end is not None
        recurring = self.cron is not None or self.duration is not None
        if once == recurring:
            raise ValueError("give either start and end, or cron and duration")
        if once:
            if self.start is None or self.end is None or self.start.tzinfo is None:
                raise ValueError("start and end need both, with a timezone (…Z or +02:00)")
            if self.end.tzinfo is None or self.end <= self.start:
                raise ValueError("end must come after start, with a timezone")
        elif self.cron is None or not self.duration:
            raise ValueError("a recurring window needs cron and a duration above 0")
        return self


class ErrorRateSli(_Strict):
    """Request-based error rate: errors / total over the period; `$__range` is the period
    and every selector gets the tenant's `tenant="<id>"` matcher."""

    errors: PromQL = 'sum(increase({__name__=~".+_requests_total",status=~"error|5.."}[$__range]))'
    total: PromQL = 'sum(increase({__name__=~".+_requests_total"}[$__range]))'


class LatencySli(_Strict):
    histogram: str | None = Field(
        None,
        pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$",
        description="a classic histogram's name (without _bucket) timing the app's requests",
    )
    within_ms: float | None = Field(
        None, gt=0, description="'X % of requests within N ms'; the tier's response time if unset"
    )


class ResourceSli(_Strict):
    """Instant queries (over `$__range`) giving the tenant's CPU and memory use in percent,
    the health score's resource component."""

    cpu_percent: PromQL | None = None
    memory_percent: PromQL | None = None


class SliConfig(_Strict):
    error_rate: ErrorRateSli = ErrorRateSli()
    latency: LatencySli = LatencySli()
    resources: ResourceSli = ResourceSli()


class CreditStep(_Strict):
    below: Annotated[Decimal, Field(gt=0, le=100)]
    credit: Annotated[Decimal, Field(ge=0, le=100)]


def _default_credits() -> list[CreditStep]:
    return [
        CreditStep(below=Decimal("99.9"), credit=Decimal("10")),
        CreditStep(below=Decimal("99"), credit=Decimal("25")),
        CreditStep(below=Decimal("95"), credit=Decimal("50")),
    ]


class CreditsConfig(_Strict):
    default: list[CreditStep] = Field(default_factory=_default_credits)
    tiers: dict[str, list[CreditStep]] = Field(
        default_factory=dict, description="a tier's own schedule, highest threshold first"
    )

    @model_validator(mode="after")
    def _ordered(self) -> CreditsConfig:
        for name, steps in [("default", self.default), *self.tiers.items()]:
            for i in range(1, len(steps)):
                if not (
                    steps[i].below < steps[i - 1].below and steps[i].credit >= steps[i - 1].credit
                ):
                    raise ValueError(
                        f"credits {name}: list thresholds from highest to lowest, with credits "
                        "that do not shrink"
                    )
        return self


class SlaSection(_Strict):
    accounting: AccountingConfig = AccountingConfig()
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)
    slis: SliConfig = SliConfig()
    credits: CreditsConfig = CreditsConfig()
    burn_rate_alerts: bool = Field(
        True, description="load the multiwindow burn-rate alerts of every tenant's availability"
    )
    series_interval: Duration = Field(
        60.0, description="how often targets, compliance and budgets are written as series"
    )
    history_retention: Duration = Field(
        400 * 86400.0,
        description="check results are kept at least this long whatever the tier's "
        "retention, so last month's and last year's SLAs stay computable",
    )
    measure_interval: Duration = Field(
        300.0, description="how often every tenant's month to date is measured for the series"
    )
