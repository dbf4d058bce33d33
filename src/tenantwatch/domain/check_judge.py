"""Judging a run: a probe's result and the check's conditions, or a heartbeat's pings."""

from __future__ import annotations

import functools
from datetime import datetime

from tenantwatch.domain.check_specs import HeartbeatSpec, InvalidSpec, SpecError
from tenantwatch.domain.checks import Check, CheckKind, CheckRun, ConditionResult
from tenantwatch.domain.condition_eval import Observation, evaluate_all
from tenantwatch.domain.conditions import Condition, parse_condition
from tenantwatch.domain.heartbeat import HeartbeatState
from tenantwatch.domain.heartbeat import judge as judge_pings
from tenantwatch.domain.probe_result import ProbeResult


def trusted(check: Check) -> bool:
    """True for checks declared in the config file, which run without the SSRF policy."""
    return check.managed_by == "config"


def hides_payload(check: Check) -> bool:
    """A database query's value is judged but never shown for a check made through the API
    (a tenant's query could read what its key may not)."""
    return check.kind is CheckKind.POSTGRES and not trusted(check)


def observation(result: ProbeResult, now: datetime, *, hidden: bool = False) -> Observation:
    """What conditions are judged on; `hidden`: the body and value never show in details."""
    d = result.details
    value = d.get("value")
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    expiry = result.certificate_expiry
    return Observation(
        status=result.status_code,
        response_time_ms=result.duration_s * 1000,
        body=result.body,
        certificate_expiry_ms=(expiry - now).total_seconds() * 1000 if expiry else None,
        connected=result.connected,
        dns_rcode=d.get("rcode"),
        ip=d.get("ip"),
        value=number,
        payload_hidden=hidden,
    )


@functools.lru_cache(maxsize=65536)
def _parsed(text: str) -> Condition:
    return parse_condition(text)


def judge(check: Check, result: ProbeResult, at: datetime) -> CheckRun:
    """Combine the probe's own verdict with the check's conditions into one run."""
    conds = [_parsed(c) for c in check.conditions]
    hidden = hides_payload(check)
    cond_ok, outcomes = evaluate_all(conds, observation(result, at, hidden=hidden))
    error = result.error
    details = {**result.details, "body_size": result.body_size}
    if hidden:
        details.pop("value", None)
    failed = [o for o in outcomes if not o.ok]
    if error is None and failed:
        error = "condition failed: " + "; ".join(o.detail for o in failed)
    return CheckRun(
        check_id=check.id,
        tenant_id=check.tenant_id,
        kind=check.kind,
        at=at,
        ok=result.ok and cond_ok,
        duration_s=result.duration_s,
        status_code=result.status_code,
        error=error,
        conditions=tuple(ConditionResult(o.condition, o.ok, o.detail) for o in outcomes),
        phases=dict(result.phases),
        details=details,
        certificate_expiry=result.certificate_expiry,
    )


def heartbeat_run(check: Check, state: HeartbeatState, now: datetime) -> CheckRun:
    """A heartbeat's run: the verdict on its pings at `now`. SpecError when its settings
    cannot be read."""
    spec = check.spec
    if isinstance(spec, InvalidSpec):
        raise SpecError(spec.error)
    if not isinstance(spec, HeartbeatSpec):
        raise SpecError(f"{check.kind} checks are not heartbeats")
    verdict = judge_pings(spec.schedule(), state, now)
    return CheckRun(
        check_id=check.id,
        tenant_id=check.tenant_id,
        kind=check.kind,
        at=now,
        ok=verdict.up,
        duration_s=state.last_duration_s or 0.0,
        error=None if verdict.up else verdict.reason,
        details={
            "heartbeat": str(verdict.status),
            "reason": verdict.reason,
            "last_ping": state.last_ping.isoformat() if state.last_ping else None,
            "next_deadline": verdict.next_deadline.isoformat() if verdict.next_deadline else None,
        },
    )
