"""Silences: Alertmanager's, plus recurrence and ending when the silenced alerts resolve.

A silence mutes every alert all of its matchers match while it is active: from startsAt
until endsAt (an end equal to now counts as expired, as in Alertmanager). A recurring
silence (an RFC 5545 RRULE in an IANA timezone, each occurrence lasting `duration`) is
active only inside its occurrences between startsAt and endsAt, so "Saturdays 02:00 for
two hours" stays 02:00 local time across daylight-saving changes. A silence with
`end_on_resolve` ends once nothing it muted is firing any more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from tenantwatch.domain.routing import LabelMatcher, RoutingError


@dataclass(frozen=True, slots=True)
class Recurrence:
    rrule: str
    duration_s: float
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[LabelMatcher, ...]
    starts_at: float
    ends_at: float
    updated_at: float
    created_by: str
    comment: str
    tenant_id: str | None = None
    recurrence: Recurrence | None = None
    end_on_resolve: bool = False


def _occurrence_active(s: Silence, now: float) -> bool:
    rec = s.recurrence
    assert rec is not None
    tz = ZoneInfo(rec.timezone)
    start = datetime.fromtimestamp(s.starts_at, tz).replace(tzinfo=None)
    rule = rrulestr(rec.rrule, dtstart=start)
    local_now = datetime.fromtimestamp(now, tz).replace(tzinfo=None)
    # the latest occurrence that began at or before now (naive local times, so wall-clock
    # occurrences keep their local time across DST changes)
    window = timedelta(seconds=rec.duration_s)
    last = rule.before(local_now, inc=True)
    if last is None:
        return False
    began = last.replace(tzinfo=tz).timestamp()
    return began <= now < began + window.total_seconds()


def silence_state(s: Silence, now: float) -> str:
    """pending, active or expired (Alertmanager's states; recurring ones pend between)."""
    if s.ends_at <= now:
        return "expired"
    if s.starts_at > now:
        return "pending"
    if s.recurrence is not None and not _occurrence_active(s, now):
        return "pending"
    return "active"


def mutes(s: Silence, labels: Mapping[str, str], now: float) -> bool:
    return silence_state(s, now) == "active" and all(m.matches(labels) for m in s.matchers)


def silenced_by(labels: Mapping[str, str], silences: Sequence[Silence], now: float) -> list[str]:
    return [s.id for s in silences if mutes(s, labels, now)]


def validate(s: Silence, now: float) -> list[str]:
    """Why the silence cannot be stored (Alertmanager's rules plus tenantwatch's)."""
    problems = []
    if not s.matchers:
        problems.append("at least one matcher required")
    elif all(m.matches({}) for m in s.matchers):
        problems.append("at least one matcher must not match the empty string")
    if s.ends_at <= s.starts_at:
        problems.append("end time must not be before start time")
    if s.ends_at <= now:
        problems.append("end time can't be in the past")
    if not s.created_by:
        problems.append("creator information required")
    if not s.comment:
        problems.append("comment required")
    if s.tenant_id is not None and not any(
        m.name == "tenant" and m.op == "=" and m.value == s.tenant_id for m in s.matchers
    ):
        problems.append(f'a tenant\'s silence needs the matcher tenant="{s.tenant_id}"')
    if s.recurrence is not None:
        rec = s.recurrence
        try:
            ZoneInfo(rec.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"unknown timezone {rec.timezone!r}; use an IANA name")
        try:
            rrulestr(rec.rrule, dtstart=datetime.fromtimestamp(s.starts_at, UTC))
        except (ValueError, TypeError) as exc:
            problems.append(f"recurrence: invalid RRULE {rec.rrule!r}: {exc}")
        if rec.duration_s <= 0:
            problems.append("recurrence: duration must be positive")
    return problems


def expire(s: Silence, now: float) -> Silence:
    """End the silence now (a pending one never starts). Raise for an expired one."""
    state = silence_state(s, now)
    if s.ends_at <= now:
        raise ValueError("silence already expired")
    if state == "pending" and s.starts_at > now:
        return replace(s, starts_at=now, ends_at=now, updated_at=now)
    return replace(s, ends_at=now, updated_at=now)


def update(old: Silence, new: Silence, now: float) -> tuple[Silence, Silence | None]:
    """Alertmanager's update: (silence to store, expired old one or None).

    In place (same id) when the old one has not expired and only its end, comment or
    creator change (and a started one keeps its start); otherwise the old one is expired
    and the new one gets a fresh id.
    """
    state = silence_state(old, now)
    same_matchers = {(m.name, m.op, m.value) for m in old.matchers} == {
        (m.name, m.op, m.value) for m in new.matchers
    }
    in_place = (
        old.ends_at > now
        and same_matchers
        and new.recurrence == old.recurrence
        and (state == "pending" or new.starts_at == old.starts_at)
    )
    if in_place:
        return replace(new, id=old.id, updated_at=now), None
    expired = expire(old, now) if old.ends_at > now else None
    return replace(new, id="", updated_at=now), expired


def ended_by_resolution(
    s: Silence, firing: Sequence[Mapping[str, str]], matched_before: bool, now: float
) -> bool:
    """Whether an end_on_resolve silence should end: it muted something, now nothing fires."""
    if not s.end_on_resolve or not matched_before or silence_state(s, now) == "expired":
        return False
    return not any(all(m.matches(labels) for m in s.matchers) for labels in firing)


def matchers_from_api(items: Sequence[Mapping[str, Any]]) -> tuple[LabelMatcher, ...]:
    """API v2 matchers ({name, value, isRegex, isEqual}) to LabelMatchers."""
    out = []
    for i, item in enumerate(items):
        name, value = item.get("name"), item.get("value")
        if not isinstance(name, str) or not name or not isinstance(value, str):
            raise ValueError(f"matcher {i}: needs a name and a value")
        regex = bool(item.get("isRegex", False))
        equal = bool(item.get("isEqual", True))
        op = ("=~" if equal else "!~") if regex else ("=" if equal else "!=")
        try:
            out.append(LabelMatcher.of(name, op, value))
        except RoutingError as exc:
            raise ValueError(f"matcher {i}: {exc}") from None
    return tuple(out)


def matchers_to_api(matchers: Sequence[LabelMatcher]) -> list[dict[str, Any]]:
    return [
        {
            "name": m.name,
            "value": m.value,
            "isRegex": m.op in ("=~", "!~"),
            "isEqual": m.op in ("=", "=~"),
        }
        for m in matchers
    ]
