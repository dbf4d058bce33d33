"""The shape of tenantwatch.yml, validated by pydantic (unknown keys are errors)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ByteSize, ConfigDict, Field, field_validator

from tenantwatch.config.alerting_model import AlertmanagerSection, InspectorConfig, RulesConfig
from tenantwatch.config.checks_model import CheckConfig
from tenantwatch.config.errors import refusing
from tenantwatch.config.incidents_model import IncidentsSection
from tenantwatch.config.metrics_model import MetricsConfig, ScrapeConfig
from tenantwatch.config.sla_model import SlaSection
from tenantwatch.config.types import AllowList, Duration, LabelsField
from tenantwatch.domain.tenants import TenantStatus, tenant_id_problem, timezone_problem
from tenantwatch.domain.text import text_problem
from tenantwatch.domain.tiers import (
    BUILTIN_TIERS,
    DEFAULT_MAX_SERIES,
    DEFAULT_SLA_TARGETS,
    SlaTargets,
    Tier,
)


def _name_problem(value: str) -> str | None:
    return text_problem(value, what="name", max_length=200)


Timezone = Annotated[str, refusing(timezone_problem)]
TenantId = Annotated[str, refusing(tenant_id_problem)]
TierName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaConfig(_Strict):
    availability_percentage: Annotated[Decimal, Field(gt=0, le=100)] | None = None
    response_time_ms: Annotated[int, Field(gt=0, le=3_600_000)] | None = None
    error_rate_percentage: Annotated[Decimal, Field(ge=0, le=100)] | None = None
    recovery_time_minutes: Annotated[int, Field(gt=0, le=525_600)] | None = None

    def given(self) -> dict[str, Decimal | int]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class TierConfig(_Strict):
    description: str = ""
    base: TierName | None = Field(default=None, description="built-in tier to start from")
    sla: SlaConfig = SlaConfig()
    check_interval: Duration | None = None
    retention: Duration | None = None
    max_series: int | None = Field(
        default=None, ge=1, description="series a tenant may keep in the metric store"
    )

    @field_validator("base")
    @classmethod
    def _known_base(cls, value: str | None) -> str | None:
        if value is not None and value not in BUILTIN_TIERS:
            raise ValueError(
                f"unknown base tier {value!r}; choose one of {', '.join(sorted(BUILTIN_TIERS))}"
            )
        return value

    def to_tier(self, name: str) -> Tier:
        start = BUILTIN_TIERS.get(self.base or name)
        sla: SlaTargets = start.sla if start else DEFAULT_SLA_TARGETS
        return Tier(
            name=name,
            sla=sla.with_overrides(self.sla.given()),
            check_interval_seconds=float(self.check_interval)
            if self.check_interval is not None
            else (start.check_interval_seconds if start else 60.0),
            retention_seconds=float(self.retention)
            if self.retention is not None
            else (start.retention_seconds if start else 15 * 86400.0),
            description=self.description,
            max_series=self.max_series or (start.max_series if start else DEFAULT_MAX_SERIES),
        )


class TenantLimitsConfig(_Strict):
    """A tenant's own limits, over its tier's."""

    max_series: int | None = Field(default=None, ge=1)


class TenantConfig(_Strict):
    id: TenantId
    name: Annotated[str, refusing(_name_problem)]
    tier: TierName
    timezone: Timezone = "UTC"
    labels: LabelsField = {}
    status: TenantStatus = TenantStatus.ACTIVE
    sla_overrides: SlaConfig = SlaConfig()
    limits: TenantLimitsConfig = TenantLimitsConfig()


class HttpConfig(_Strict):
    """Request bodies the HTTP API reads at most (pushes and remote-write: metrics.limits)."""

    max_body_size: Annotated[ByteSize, Field(ge=1024)] = ByteSize(1 << 20)
    max_alerts_body_size: Annotated[ByteSize, Field(ge=1024)] = ByteSize(4 << 20)
    max_alerts_per_request: int = Field(default=5000, ge=256)


class CheckRunnerConfig(_Strict):
    """How checks run: how many at once, overall and per target host; where checks made
    through the API may connect; how often a heartbeat may be pinged."""

    concurrency: int = Field(256, ge=1, le=100_000)
    per_host_concurrency: int = Field(32, ge=1, le=100_000)
    results_retention: Duration | None = Field(
        None, description="keep raw results this long; default: the tenant tier's retention"
    )
    allow_private_targets: AllowList = Field(
        default_factory=list,
        description="hosts or CIDRs that checks made through the API may reach although "
        "they are private (e.g. 10.20.0.0/16); postgres and redis checks made through the "
        "API reach only these. Checks in this file are not limited.",
    )
    ping_burst: int = Field(
        60, ge=1, le=1_000_000, description="pings one heartbeat token may send at once"
    )
    ping_rate: float = Field(
        1.0,
        gt=0,
        le=1_000_000,
        description="pings per second a heartbeat token may send once its burst is spent",
    )


class Config(_Strict):
    """tenantwatch.yml. Later sections (checks, rule_files, ...) join here."""

    tiers: dict[TierName, TierConfig] = {}
    tenants: list[TenantConfig] = []
    metrics: MetricsConfig = MetricsConfig()
    scrape_configs: list[ScrapeConfig] = []
    checks: list[CheckConfig] = []
    check_runner: CheckRunnerConfig = CheckRunnerConfig()
    rule_files: list[str] = Field(
        default_factory=list, description="Prometheus rule files (globs), relative to this file"
    )
    rules: RulesConfig = RulesConfig()
    alertmanager: AlertmanagerSection = AlertmanagerSection()
    inspector: InspectorConfig = InspectorConfig()
    http: HttpConfig = HttpConfig()
    sla: SlaSection = SlaSection()
    incidents: IncidentsSection = IncidentsSection()

    def custom_tiers(self) -> dict[str, Tier]:
        return {name: tier.to_tier(name) for name, tier in self.tiers.items()}
