"""Past results of the demo's health checks, as the samples tenantwatch's check engine writes.

Each tenant-owned check in tenantwatch.yml gets `tenantwatch_check_up` (1 passed, 0 failed)
and `tenantwatch_check_duration_seconds`, labelled `{tenant, check, kind}` like the live
engine's samples, every `step` seconds (or the check's interval, if coarser). The results
follow the same fault schedule the app's history and the live app use:

- http checks of a tenant's endpoint fail while the tenant's health is down (an outage, or
  the whole app down) and answer slowly during a latency fault, as /t/<tenant>/health does;
- tcp checks of the app's port fail only while the whole app is down;
- postgres checks slow down during the tenant's db fault, redis checks stay quick;
- heartbeat checks follow the demo job's odds (heartbeat.py): a failed run is down until
  the next one, two missed runs in a row are late past the grace.

Everything is computed per check with numpy arrays; the same arguments give the same samples.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from .faults import KINDS, Fault, FaultRequestError, Kind, parse_duration
from .heartbeat import FAIL_CHANCE, SKIP_CHANCE
from .tenants import ConfigError, TenantSpec

UP = "tenantwatch_check_up"
DURATION = "tenantwatch_check_duration_seconds"
# check_interval of the built-in tiers (tenantwatch.domain.tiers), for checks without one
TIER_INTERVAL_S = {"basic": 300, "professional": 60, "enterprise": 30}
# a typical answer's seconds per kind: (base, spread)
BASE_SECONDS: Mapping[str, tuple[float, float]] = {
    "http": (0.004, 0.004),
    "tcp": (0.0004, 0.0003),
    "postgres": (0.003, 0.002),
    "redis": (0.001, 0.0008),
}
DB_SLOW_SECONDS = (0.3, 1.2)  # a postgres check's answer while the tenant's db fault lasts

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    tenant: str
    kind: str
    interval_s: int


def _seconds(value: object, where: str) -> int | None:
    if value is None:
        return None
    try:
        return round(parse_duration(str(value)))
    except FaultRequestError:
        raise ConfigError(f"{where}: cannot read the duration {value!r}") from None


def parse_checks(
    text: str, tenants: Sequence[TenantSpec], source: str = "tenantwatch.yml"
) -> tuple[CheckSpec, ...]:
    """Return the checks of a tenantwatch.yml text that belong to one of the active tenants."""
    data: Any = yaml.safe_load(text)
    tiers = data.get("tiers") if isinstance(data, dict) else None
    tier_interval: dict[str, int] = {}
    for name, body in (tiers or {}).items():
        if isinstance(body, dict) and (given := _seconds(body.get("check_interval"), source)):
            tier_interval[str(name)] = given
    active = {t.id: t for t in tenants if not t.suspended}
    checks: list[CheckSpec] = []
    entries = data.get("checks") if isinstance(data, dict) else None
    for i, entry in enumerate(entries or []):
        if not isinstance(entry, dict) or entry.get("tenant") not in active:
            continue
        tenant = active[entry["tenant"]]
        where = f"{source}: checks[{i}]"
        interval = _seconds(entry.get("interval") or entry.get("period"), where)
        if interval is None:
            interval = tier_interval.get(tenant.tier, TIER_INTERVAL_S[tenant.base])
        checks.append(CheckSpec(str(entry["id"]), tenant.id, str(entry["kind"]), interval))
    return tuple(checks)


def load_checks(path: Path, tenants: Sequence[TenantSpec]) -> tuple[CheckSpec, ...]:
    """Return the active tenants' checks of the tenantwatch.yml at path."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc}") from None
    return parse_checks(text, tenants, str(path))


def _hash(text: str) -> int:
    return zlib.crc32(text.encode())


def _span(times: npt.NDArray[np.int64], fault: Fault) -> slice:
    """The samples at which the fault is active (start <= t < end)."""
    lo, hi = np.searchsorted(times, [fault.start, fault.end], side="left")
    return slice(int(lo), int(hi))


def _hits(check: CheckSpec, fault: Fault) -> bool:
    return fault.tenant in (check.tenant, None)


def _down(times: npt.NDArray[np.int64], check: CheckSpec, faults: Iterable[Fault]) -> Bools:
    """Where the check's target answers no: the tenant's health down, or the whole app down
    (which PostgreSQL, Redis and heartbeats do not see)."""
    down = np.zeros(len(times), dtype=bool)
    for fault in faults:
        app_down = fault.kind is Kind.DOWN and check.kind in ("http", "tcp")
        if app_down or (
            check.kind == "http"
            and fault.tenant == check.tenant
            and KINDS[fault.kind].health == "down"
        ):
            down[_span(times, fault)] = True
    return down


def _extra(times: npt.NDArray[np.int64], check: CheckSpec, faults: Iterable[Fault]) -> Floats:
    """Seconds a fault adds to the check's answers: health_delay's for http, db's for postgres."""
    extra = np.zeros(len(times))
    for fault in faults:
        if not _hits(check, fault):
            continue
        if check.kind == "http" and fault.kind is Kind.LATENCY:
            delay = 0.25 + 0.75 * fault.severity  # faults.health_delay
        elif check.kind == "postgres" and fault.kind is Kind.DB:
            low, high = DB_SLOW_SECONDS
            delay = low + (high - low) * fault.severity
        else:
            continue
        span = _span(times, fault)
        extra[span] = np.maximum(extra[span], delay)
    return extra


def _heartbeat(times: npt.NDArray[np.int64], rng: np.random.Generator) -> tuple[Bools, Floats]:
    roll = rng.random(len(times))
    skipped = roll < SKIP_CHANCE
    failed = (roll >= SKIP_CHANCE) & (roll < SKIP_CHANCE + FAIL_CHANCE)
    late = skipped & np.concatenate(([False], skipped[:-1]))
    took = rng.uniform(0.5, 3.0, len(times))  # the job's run time
    ran = ~skipped
    # the duration is the last completed run's
    last = np.maximum.accumulate(np.where(ran, np.arange(len(times)), 0))
    return failed | late, took[last]


def check_series(
    check: CheckSpec, seed: int, times: npt.NDArray[np.int64], faults: Sequence[Fault]
) -> tuple[Floats, Floats]:
    """Return the check's up values (1.0 / 0.0) and durations (seconds) at the given times."""
    rng = np.random.default_rng([seed, 0xC4EC, _hash(check.id), int(times[0]) if len(times) else 0])
    if check.kind == "heartbeat":
        failed, seconds = _heartbeat(times, rng)
    else:
        base, spread = BASE_SECONDS.get(check.kind, BASE_SECONDS["http"])
        seconds = base + spread * rng.random(len(times)) + _extra(times, check, faults)
        failed = _down(times, check, faults)
        if check.kind == "http":
            seconds[failed] = base  # a quick 503
    return np.where(failed, 0.0, 1.0), np.round(seconds, 6)


def check_times(check: CheckSpec, start: int, end: int, step: int) -> npt.NDArray[np.int64]:
    """Sample times of a check: every max(step, its interval) seconds, aligned, in [start, end)."""
    every = max(step, check.interval_s)
    first = -(-start // every) * every
    return np.arange(first, end, every, dtype=np.int64)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(check: CheckSpec) -> str:
    pairs = (("check", check.id), ("kind", check.kind), ("tenant", check.tenant))
    return ",".join(f'{name}="{_escape(value)}"' for name, value in pairs)


def check_history(
    checks: Sequence[CheckSpec],
    seed: int,
    faults: Sequence[Fault],
    *,
    start: int,
    end: int,
    step: int,
) -> Iterator[str]:
    """Yield the OpenMetrics lines (no `# EOF`) of the checks' up and duration samples."""
    ups: list[tuple[str, list[int], list[float]]] = []
    durations: list[tuple[str, list[int], list[float]]] = []
    for check in checks:
        times = check_times(check, start, end, step)
        own = [f for f in faults if _hits(check, f)]
        up, seconds = check_series(check, seed, times, own)
        stamps = times.tolist()
        ups.append((_labels(check), stamps, up.tolist()))
        durations.append((_labels(check), stamps, seconds.tolist()))
    for name, what, series in (
        (UP, "1 when the check's run passed, 0 when it failed", ups),
        (DURATION, "seconds the check's run took", durations),
    ):
        yield f"# TYPE {name} gauge"
        yield f"# HELP {name} {what}"
        for labels, stamps, values in series:
            prefix = f"{name}{{{labels}}} "
            for value, stamp in zip(values, stamps, strict=True):
                yield f"{prefix}{value!r} {stamp}"
