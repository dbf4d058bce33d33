"""Response bodies of the checks and monitoring APIs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tenantwatch.domain.check_record import public_values
from tenantwatch.domain.checks import (
    Check,
    CheckRun,
    CheckState,
    StateChangeRecord,
    plain_details,
)
from tenantwatch.domain.health_score import Component
from tenantwatch.domain.tenant_health import TenantHealth


class StateOut(BaseModel):
    status: str
    since: datetime | None
    consecutive_failures: int
    consecutive_successes: int
    last_run_at: datetime | None
    last_ok: bool | None
    last_duration_ms: float | None
    last_error: str | None
    reason: str | None

    @classmethod
    def of(cls, s: CheckState) -> StateOut:
        return cls(
            status=str(s.status),
            since=s.since,
            consecutive_failures=s.failures,
            consecutive_successes=s.successes,
            last_run_at=s.last_run_at,
            last_ok=s.last_ok,
            last_duration_ms=round(s.last_duration_s * 1000, 3)
            if s.last_duration_s is not None
            else None,
            last_error=s.last_error,
            reason=s.reason,
        )


class CheckOut(BaseModel):
    id: str
    tenant_id: str
    name: str
    kind: str
    settings: dict[str, Any]
    conditions: list[str]
    interval_seconds: float | None
    timeout_seconds: float
    jitter_seconds: float | None
    failure_threshold: int
    success_threshold: int
    critical: bool
    enabled: bool
    labels: dict[str, str]
    managed_by: str
    ping_url: str | None
    created_at: datetime | None
    updated_at: datetime | None
    archived_at: datetime | None = Field(
        None, description="set when the config file stopped declaring the check (history kept)"
    )
    state: StateOut

    @classmethod
    def of(cls, c: Check, state: CheckState, base_url: str) -> CheckOut:
        return cls(
            **public_values(c),
            ping_url=f"{base_url}/ping/{c.token}" if c.token else None,
            state=StateOut.of(state),
        )


class CheckPage(BaseModel):
    items: list[CheckOut]
    next_cursor: str | None


class ConditionOut(BaseModel):
    condition: str
    ok: bool
    detail: str


class RunOut(BaseModel):
    id: int | None = None
    check_id: str
    tenant_id: str
    kind: str
    status: str
    ok: bool
    timestamp: datetime
    response_time_ms: float
    status_code: int | None
    error: str | None
    conditions: list[ConditionOut]
    phases_ms: dict[str, float]
    details: dict[str, Any]
    certificate_expiry: datetime | None = None

    @classmethod
    def of(cls, r: CheckRun, run_id: int | None = None) -> RunOut:
        return cls(
            id=run_id,
            check_id=r.check_id,
            tenant_id=r.tenant_id,
            kind=str(r.kind),
            status="healthy" if r.ok else "unhealthy",
            ok=r.ok,
            timestamp=r.at,
            response_time_ms=round(r.duration_s * 1000, 3),
            status_code=r.status_code,
            error=r.error,
            conditions=[
                ConditionOut(condition=c.condition, ok=c.ok, detail=c.detail) for c in r.conditions
            ],
            phases_ms={k: round(v * 1000, 3) for k, v in r.phases.items()},
            details=plain_details(r.details),
            certificate_expiry=r.certificate_expiry,
        )


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None


class StateChangeOut(BaseModel):
    check_id: str
    tenant_id: str
    at: datetime
    old: str
    new: str
    reason: str

    @classmethod
    def of(cls, c: StateChangeRecord) -> StateChangeOut:
        return cls(
            check_id=c.check_id,
            tenant_id=c.tenant_id,
            at=c.at,
            old=str(c.old),
            new=str(c.new),
            reason=c.reason,
        )


class StateChangePage(BaseModel):
    items: list[StateChangeOut]
    next_cursor: str | None


class RollupOut(BaseModel):
    bucket: datetime
    runs: int
    ok_runs: int
    uptime_percentage: float
    avg_response_time_ms: float
    max_response_time_ms: float


class HealthComponentOut(BaseModel):
    """One part of the health score: its 0-100 score, its weight and what it adds."""

    name: str = Field(description="uptime, response_time, error_rate or resource_utilization")
    score: float
    weight: float
    weighted: float = Field(description="score x weight; the health score is their sum")

    @classmethod
    def of(cls, c: Component) -> HealthComponentOut:
        return cls(
            name=c.name, score=round(c.score, 2), weight=c.weight, weighted=round(c.weighted, 2)
        )


def health_components(components: Sequence[Component]) -> list[HealthComponentOut]:
    return [HealthComponentOut.of(c) for c in components]


class TenantHealthOut(BaseModel):
    tenant_id: str
    status: str
    health_score: float | None
    health_components: list[HealthComponentOut] = Field(
        description="the parts of health_score (rounded to two decimals); empty while unknown"
    )
    checks_total: int
    checks_up: int
    checks_down: int
    avg_response_time_ms: float | None
    reasons: list[str]
    resource_usage: dict[str, float]

    @classmethod
    def of(cls, h: TenantHealth) -> TenantHealthOut:
        return cls(
            tenant_id=h.tenant_id,
            status=str(h.status),
            health_score=h.score,
            health_components=health_components(h.components),
            checks_total=h.checks_total,
            checks_up=h.checks_up,
            checks_down=h.checks_down,
            avg_response_time_ms=h.avg_response_time_ms,
            reasons=list(h.reasons),
            resource_usage=dict(h.resources),
        )
