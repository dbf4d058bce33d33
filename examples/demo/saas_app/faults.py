"""Faults: what each kind does to a tenant, a schedule drawn from a seed, and forced faults."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np

from .tenants import TenantSpec

Health = Literal["ok", "degraded", "down"]


class Kind(StrEnum):
    ERRORS = "errors"
    LATENCY = "latency"
    DB = "db"
    AUTH = "auth"
    TOKENS = "tokens"
    OUTAGE = "outage"
    CPU = "cpu"
    MEMORY = "memory"
    DOWN = "down"


@dataclass(frozen=True)
class KindSpec:
    what: str
    weight: int  # relative frequency in the random schedule; 0 = only when forced
    min_seconds: int
    max_seconds: int
    health: Health


# Only outages (and the forced down) fail a tenant's health check; the other kinds leave it
# answering 200 (degraded or ok), so the checks' availability comes from the outages alone.
# Outages are not drawn in the 20-minute slots (weight 0) but as incidents, below.
# Durations are long enough for the seed rule each kind trips to reach its `for:`
# (DatabaseConnectionHigh waits 2m, HighCPUUsage and HighMemoryUsage 5m).
KINDS: Mapping[Kind, KindSpec] = {
    Kind.ERRORS: KindSpec("8-38% of requests fail (HighErrorRate)", 3, 120, 300, "degraded"),
    Kind.LATENCY: KindSpec(
        "p95 request latency above 2 s (HighResponseTime)", 3, 120, 300, "degraded"
    ),
    Kind.DB: KindSpec(
        "primary pool saturated, p95 query above 1 s (DatabaseConnectionHigh, DatabaseSlowQuery)",
        2,
        180,
        330,
        "degraded",
    ),
    Kind.AUTH: KindSpec("burst of Unauthorized errors (UnauthorizedAccess)", 2, 90, 240, "ok"),
    Kind.TOKENS: KindSpec("runaway LLM token use (HighLLMTokenUsage)", 1, 240, 480, "ok"),
    Kind.OUTAGE: KindSpec("tenant gets no traffic and fails health checks", 0, 60, 180, "down"),
    Kind.CPU: KindSpec("one pod pegged at its CPU limit (HighCPUUsage)", 1, 540, 840, "degraded"),
    Kind.MEMORY: KindSpec("one pod near its memory limit (HighMemoryUsage)", 1, 480, 840, "ok"),
    Kind.DOWN: KindSpec(
        "the whole app fails /metrics and /health (ApplicationDown)", 0, 60, 600, "down"
    ),
}

SLOT_SECONDS = 1200  # at most one scheduled fault per tenant per slot, contained in it
FAULT_CHANCE = 0.6  # per tenant and slot: a fault every ~7 minutes across five tenants
MAX_FORCED_SECONDS = 86_400

# Incidents: at most one outage per tenant per UTC day, likelier on cheaper tiers; most are
# minutes long, one in five lasts half an hour to an hour. Over a month that is about 25
# minutes down for an enterprise tenant (99.94 %), 55 for professional, 2 hours for basic
# (99.7 %), with months above and below: a 50-minute incident alone breaks 99.9 %.
INCIDENT_SLOT_SECONDS = 86_400
INCIDENT_CHANCE: Mapping[str, float] = {"basic": 0.25, "professional": 0.12, "enterprise": 0.05}
MINOR_INCIDENT_SECONDS = (120, 900)
MAJOR_INCIDENT_SECONDS = (1800, 3600)
MAJOR_INCIDENT_SHARE = 0.2


@dataclass(frozen=True)
class Fault:
    kind: Kind
    tenant: str | None  # None: the whole app (kind down)
    start: float
    end: float
    severity: float  # 0..1, how hard the fault hits
    forced: bool = False

    def active(self, now: float) -> bool:
        return self.start <= now < self.end

    def as_json(self) -> dict[str, object]:
        return {
            "kind": str(self.kind),
            "tenant": self.tenant,
            "start": self.start,
            "end": self.end,
            "severity": round(self.severity, 3),
            "forced": self.forced,
            "what": KINDS[self.kind].what,
        }


class FaultRequestError(ValueError):
    """A fault request is unusable; the message names the parameter and how to fix it."""


def _hash(text: str) -> int:
    return zlib.crc32(text.encode())


def scheduled_fault(tenant_id: str, seed: int, slot: int) -> Fault | None:
    """Return the fault the schedule puts in one slot of one tenant, or None."""
    rng = np.random.default_rng([seed, 0xFA, _hash(tenant_id), slot])
    if rng.random() >= FAULT_CHANCE:
        return None
    kinds = [kind for kind, spec in KINDS.items() if spec.weight]
    weights = np.array([KINDS[kind].weight for kind in kinds], dtype=float)
    kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
    spec = KINDS[kind]
    duration = int(rng.integers(spec.min_seconds, spec.max_seconds + 1))
    start = slot * SLOT_SECONDS + int(rng.integers(0, SLOT_SECONDS - duration + 1))
    return Fault(kind, tenant_id, start, start + duration, float(rng.uniform(0.5, 1.0)))


def incident(tenant: TenantSpec, seed: int, day: int) -> Fault | None:
    """Return the outage the schedule puts in one UTC day of one tenant, or None."""
    rng = np.random.default_rng([seed, 0x1C, _hash(tenant.id), day])
    if rng.random() >= INCIDENT_CHANCE.get(tenant.base, INCIDENT_CHANCE["basic"]):
        return None
    major = rng.random() < MAJOR_INCIDENT_SHARE
    low, high = MAJOR_INCIDENT_SECONDS if major else MINOR_INCIDENT_SECONDS
    duration = int(rng.integers(low, high + 1))
    start = day * INCIDENT_SLOT_SECONDS + int(rng.integers(0, INCIDENT_SLOT_SECONDS - duration + 1))
    return Fault(Kind.OUTAGE, tenant.id, start, start + duration, float(rng.uniform(0.5, 1.0)))


def scheduled_faults(
    tenants: Iterable[TenantSpec], seed: int, start: float, end: float
) -> tuple[Fault, ...]:
    """Return the scheduled faults and incidents overlapping [start, end), by start time.

    Suspended tenants have none: they get no traffic to fail.
    """
    faults = []
    for tenant in tenants:
        if tenant.suspended:
            continue
        for slot in range(int(start // SLOT_SECONDS), int(end // SLOT_SECONDS) + 1):
            fault = scheduled_fault(tenant.id, seed, slot)
            if fault is not None and fault.start < end and fault.end > start:
                faults.append(fault)
        days = range(int(start // INCIDENT_SLOT_SECONDS), int(end // INCIDENT_SLOT_SECONDS) + 1)
        for day in days:
            outage = incident(tenant, seed, day)
            if outage is not None and outage.start < end and outage.end > start:
                faults.append(outage)
    return tuple(sorted(faults, key=lambda f: (f.start, f.tenant or "")))


def active_faults(faults: Iterable[Fault], now: float, tenant: str | None) -> dict[Kind, Fault]:
    """Return, per kind, the strongest fault hitting tenant (or the whole app) at now."""
    hitting: dict[Kind, Fault] = {}
    for fault in faults:
        if fault.active(now) and fault.tenant in (tenant, None):
            held = hitting.get(fault.kind)
            if held is None or fault.severity > held.severity:
                hitting[fault.kind] = fault
    return hitting


def health(faults: Mapping[Kind, Fault]) -> Health:
    """Return the health a tenant reports while the given faults hit it."""
    states = {KINDS[kind].health for kind in faults}
    return "down" if "down" in states else "degraded" if "degraded" in states else "ok"


def health_delay(faults: Mapping[Kind, Fault]) -> float:
    """Return how many seconds a health check answer takes while the faults hit (at most 1)."""
    slow = faults.get(Kind.LATENCY)
    return 0.25 + 0.75 * slow.severity if slow else 0.0


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Return seconds for '90', '90s', '3m' or '1h'; raise FaultRequestError otherwise."""
    match = _DURATION.match(text.strip())
    seconds = float(match.group(1)) * _UNIT[match.group(2) or "s"] if match else -1.0
    if not 1 <= seconds <= MAX_FORCED_SECONDS:
        raise FaultRequestError(
            f"duration {text!r} must be 1s to 24h, as seconds or with a unit: '90', '90s', '3m', '1h'"
        )
    return seconds


def fault_request(params: Mapping[str, str], tenants: Iterable[TenantSpec], now: float) -> Fault:
    """Return the forced fault that ?kind=&tenant=&duration=&severity= asks for.

    Raise FaultRequestError naming the bad parameter.
    """
    names = ", ".join(str(kind) for kind in Kind)
    kind_text = params.get("kind", "")
    try:
        kind = Kind(kind_text)
    except ValueError:
        raise FaultRequestError(
            f"kind {kind_text!r} is not a fault kind; use one of {names}"
        ) from None
    tenant = params.get("tenant") or None
    known = [t.id for t in tenants]
    if kind is Kind.DOWN:
        tenant = None
    elif tenant is None:
        raise FaultRequestError(f"kind {kind} needs tenant=, one of {', '.join(known)}")
    elif tenant not in known:
        raise FaultRequestError(f"tenant {tenant!r} is unknown; use one of {', '.join(known)}")
    spec = KINDS[kind]
    default = f"{(spec.min_seconds + spec.max_seconds) // 2}s"
    duration = parse_duration(params.get("duration") or default)
    try:
        severity = float(params.get("severity", "0.8"))
    except ValueError:
        severity = -1.0
    if not 0.0 <= severity <= 1.0:
        raise FaultRequestError(
            f"severity {params.get('severity')!r} must be a number from 0 to 1, e.g. 0.8"
        )
    return Fault(kind, tenant, now, now + duration, severity, forced=True)
