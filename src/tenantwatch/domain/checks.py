"""Checks: what a check is, how its state moves with results, and when it runs.

A check turns down after `failure_threshold` failed runs in a row and up again after
`success_threshold` passing runs in a row (Gatus' defaults 3 / 2), so a flapping target
does not flip the state on every run. A new check has no state ("unknown"): its first
passing run makes it up, while turning down still needs `failure_threshold` failures.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tenantwatch.domain.check_specs import InvalidSpec, Spec, spec_or_invalid

CHECK_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9_.-]{0,98}[a-z0-9])?$"
_CHECK_ID = re.compile(CHECK_ID_PATTERN)
MIN_INTERVAL_S = 1.0
DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_SUCCESS_THRESHOLD = 2
DEFAULT_TIMEOUT_S = 10.0
HEARTBEAT_JUDGE_INTERVAL_S = 5.0


class CheckKind(StrEnum):
    HTTP = "http"
    TCP = "tcp"
    DNS = "dns"
    TLS = "tls"
    POSTGRES = "postgres"
    REDIS = "redis"
    HEARTBEAT = "heartbeat"
    PYTHON = "python"


class CheckStatus(StrEnum):
    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


def check_id_problem(value: str) -> str | None:
    """Return why a check id is invalid, or None."""
    if _CHECK_ID.fullmatch(value):
        return None
    return (
        f"invalid check id {value!r}: use 1-100 lowercase letters, digits, '-', '_' and '.', "
        "starting and ending with a letter or digit (e.g. 'acme-api-health')"
    )


@dataclass(frozen=True, slots=True)
class Check:
    """A configured check. `settings` holds the kind's fields as stored (url, host, dsn ...);
    `spec` is them read once into the kind's typed spec (InvalidSpec when they cannot be)."""

    id: str
    tenant_id: str
    name: str
    kind: CheckKind
    settings: Mapping[str, Any]
    conditions: tuple[str, ...] = ()
    interval_s: float | None = None  # None: the tenant tier's check interval
    timeout_s: float = DEFAULT_TIMEOUT_S
    jitter_s: float | None = None  # None: spread over the whole interval
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    success_threshold: int = DEFAULT_SUCCESS_THRESHOLD
    critical: bool = False
    enabled: bool = True
    labels: Mapping[str, str] = field(default_factory=dict)
    token: str | None = None  # heartbeat checks: the secret part of the ping URL
    managed_by: str = "api"
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # set when the config file stopped declaring the check: it no longer runs or shows in
    # lists, but its history is kept, and declaring it again brings it back with its history
    archived_at: datetime | None = None
    spec: Spec | InvalidSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", spec_or_invalid(self.kind, self.settings))

    def effective_interval(self, tier_interval_s: float) -> float:
        if self.kind is CheckKind.HEARTBEAT:
            # judged often enough to notice a missed ping within half its grace
            grace = float(self.settings.get("grace", HEARTBEAT_JUDGE_INTERVAL_S * 2))
            return min(HEARTBEAT_JUDGE_INTERVAL_S, max(MIN_INTERVAL_S, grace / 2))
        return max(MIN_INTERVAL_S, self.interval_s or tier_interval_s)


@dataclass(frozen=True, slots=True)
class CheckState:
    """Where a check stands after its latest run."""

    check_id: str
    status: CheckStatus = CheckStatus.UNKNOWN
    failures: int = 0  # consecutive failed runs
    successes: int = 0  # consecutive passing runs
    since: datetime | None = None  # when the status last changed
    last_run_at: datetime | None = None
    last_ok: bool | None = None
    last_duration_s: float | None = None
    last_error: str | None = None
    reason: str | None = None  # why the status last changed


def advance(
    check: Check,
    state: CheckState,
    *,
    ok: bool,
    error: str | None,
    duration_s: float,
    now: datetime,
) -> tuple[CheckState, StateChangeRecord | None]:
    """Return the state after one run, and the change of status it caused (if any)."""
    failures = 0 if ok else state.failures + 1
    successes = state.successes + 1 if ok else 0
    status = state.status
    reason = state.reason
    new = status
    if ok and status is CheckStatus.UNKNOWN:
        new, reason = CheckStatus.UP, "first run passed"
    elif ok and status is CheckStatus.DOWN and successes >= check.success_threshold:
        new, reason = CheckStatus.UP, f"{successes} passing runs in a row"
    elif not ok and status is not CheckStatus.DOWN and failures >= check.failure_threshold:
        new = CheckStatus.DOWN
        reason = f"{failures} failed runs in a row: {error or 'failed'}"
    changed = new is not status
    after = replace(
        state,
        status=new,
        failures=failures,
        successes=successes,
        since=now if changed else state.since,
        last_run_at=now,
        last_ok=ok,
        last_duration_s=duration_s,
        last_error=None if ok else error,
        reason=reason,
    )
    change = (
        StateChangeRecord(check.id, check.tenant_id, now, status, new, reason or "")
        if changed
        else None
    )
    return after, change


def offset_s(check_id: str, spread_s: float) -> float:
    """A stable offset in [0, spread) for a check, so checks spread over their interval."""
    if spread_s <= 0:
        return 0.0
    digest = hashlib.blake2b(check_id.encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") / 2**64) * spread_s


def slot_of(t: float, interval_s: float, offset: float) -> int:
    """The number of the run slot that time t (unix seconds) falls in."""
    return math.floor((t - offset) / interval_s)


def slot_start(slot: int, interval_s: float, offset: float) -> float:
    return slot * interval_s + offset


@dataclass(frozen=True, slots=True)
class ConditionResult:
    condition: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class CheckRun:
    """One run of a check, as stored: the probe's observations and the conditions' verdicts."""

    check_id: str
    tenant_id: str
    kind: CheckKind
    at: datetime
    ok: bool
    duration_s: float
    status_code: int | None = None
    error: str | None = None
    conditions: tuple[ConditionResult, ...] = ()
    phases: Mapping[str, float] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    certificate_expiry: datetime | None = None
    state: CheckStatus | None = None  # the check's state after this run, once recorded


@dataclass(frozen=True, slots=True)
class StateChangeRecord:
    """A stored change of status, with the tenant it belongs to."""

    check_id: str
    tenant_id: str
    at: datetime
    old: CheckStatus
    new: CheckStatus
    reason: str
    id: int | None = None


HIDDEN = "***"


def redact_url(url: str) -> str:
    """A URL or DSN with its password (in the userinfo or as ?password=) shown as ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":" + HIDDEN
        netloc = f"{userinfo}@{hosts}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(k == "password" for k, _ in pairs):
        query = urlencode([(k, HIDDEN if k == "password" else v) for k, v in pairs], safe="*")
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_SCALARS = (bool, int, float, str)
_SEQUENCES = (list, tuple, set, frozenset)


def plain_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """A run's details as JSON values (anything else becomes its text)."""
    out: dict[str, Any] = {}
    for k, v in details.items():
        if v is None or isinstance(v, _SCALARS):
            out[str(k)] = v
        elif isinstance(v, _SEQUENCES):
            out[str(k)] = [x if isinstance(x, _SCALARS) else str(x) for x in v]
        elif isinstance(v, Mapping):
            out[str(k)] = plain_details(v)
        else:
            out[str(k)] = str(v)
    return out


_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key"}


def public_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a check with every secret hidden, for API answers and logs."""
    out = dict(settings)
    for name in ("dsn", "url"):
        if isinstance(out.get(name), str):
            out[name] = redact_url(out[name])
    if out.get("bearer_token"):
        out["bearer_token"] = HIDDEN
    auth = out.get("basic_auth")
    if isinstance(auth, Mapping):
        out["basic_auth"] = {**auth, "password": "***"}
    headers = out.get("headers")
    if isinstance(headers, Mapping):
        out["headers"] = {
            k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()
        }
    return out


@dataclass(frozen=True, slots=True)
class RollupDelta:
    check_id: str
    tenant_id: str
    resolution: str
    bucket: datetime
    runs: int
    ok_runs: int
    duration_sum: float
    duration_max: float


ROLLUPS = {"1m": 60, "1h": 3600, "1d": 86400}  # resolution: bucket width in seconds


def rollup_deltas(runs: Sequence[CheckRun]) -> Sequence[RollupDelta]:
    """What the runs add to each check's per-minute, per-hour and per-day buckets."""
    acc: dict[tuple[str, str, datetime], list[Any]] = {}
    for r in runs:
        epoch = r.at.timestamp()
        for res, width in ROLLUPS.items():
            bucket = datetime.fromtimestamp(epoch - epoch % width, tz=r.at.tzinfo)
            key = (r.check_id, res, bucket)
            a = acc.get(key)
            if a is None:
                acc[key] = [r.tenant_id, 1, int(r.ok), r.duration_s, r.duration_s]
            else:
                a[1] += 1
                a[2] += int(r.ok)
                a[3] += r.duration_s
                a[4] = max(a[4], r.duration_s)
    return [
        RollupDelta(cid, a[0], res, bucket, a[1], a[2], a[3], a[4])
        for (cid, res, bucket), a in acc.items()
    ]


@dataclass(frozen=True, slots=True)
class RollupRow:
    check_id: str
    resolution: str
    bucket: datetime
    runs: int
    ok_runs: int
    duration_sum: float
    duration_max: float
