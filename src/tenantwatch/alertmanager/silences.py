"""Silences: Alertmanager's, plus recurrence, tenant scope and ending when the alerts resolve.

A silence mutes every alert all of its matchers match while it is active. Its states are
Alertmanager's: pending before startsAt, active from startsAt, expired from endsAt.
Alertmanager's own check is `now.After(endsAt)`, so at the very nanosecond endsAt equals
now it still counts as active; we use the half-open interval [startsAt, endsAt) instead so
that `expire(s, now)` takes effect at that same `now` (the difference cannot be observed
with a real clock).

tenantwatch adds three things Alertmanager does not have:
- a recurrence (an RFC 5545 RRULE such as ``FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=2`` read in an
  IANA timezone with startsAt as DTSTART; each occurrence lasts `duration_s`): such a
  silence is active only inside an occurrence that begins between startsAt and endsAt,
  and pending in between. Occurrences are computed on local wall-clock time, so 02:00
  stays 02:00 local across daylight-saving changes. A local time that does not exist on
  the day clocks go forward is taken with the offset before the change (02:30 becomes
  03:30), an ambiguous one as its first instance.
- a tenant scope: a tenant's silence must carry the matcher tenant="<id>".
- `end_on_resolve`: the silence expires once nothing it muted is firing any more.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from tenantwatch.alertmanager.routing import LabelMatcher, RoutingError

SilenceState = Literal["pending", "active", "expired"]

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_TOO_FREQUENT = ("SECONDLY", "MINUTELY")
# Occurrences are found on local wall-clock time; no zone's UTC offset moves by more than
# this much, so looking this far around `now` never misses the occurrence that covers it.
_OFFSET_SLACK = timedelta(hours=3)


class SilenceAlreadyExpired(ValueError):
    """Expiring a silence that has already expired (Alertmanager answers 200 to this)."""


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
    # set once the silence has muted a firing alert; end_on_resolve waits for it
    matched_once: bool = False


# -- state -----------------------------------------------------------------------------------


def _base_state(s: Silence, now: float) -> SilenceState:
    if s.ends_at <= now:
        return "expired"
    if now < s.starts_at:
        return "pending"
    return "active"


def state(s: Silence, now: float) -> SilenceState:
    """Return 'pending', 'active' or 'expired' at `now`.

    A recurring silence is 'active' only inside one of its occurrences and 'pending'
    between them, until endsAt.
    """
    base = _base_state(s, now)
    if base == "active" and s.recurrence is not None:
        return "active" if _current_occurrence(s, now) is not None else "pending"
    return base


silence_state = state


def mutes(s: Silence, labels: Mapping[str, str], now: float) -> bool:
    """Return True if the silence is active at `now` and all its matchers match `labels`."""
    return state(s, now) == "active" and all(m.matches(labels) for m in s.matchers)


def silenced_by(labels: Mapping[str, str], silences: Iterable[Silence], now: float) -> list[str]:
    """Return the ids of the silences that mute an alert with these labels, in input order."""
    return [s.id for s in silences if mutes(s, labels, now)]


def occurrence_window(s: Silence, now: float) -> tuple[float, float] | None:
    """Return the (start, end) of the window that makes the silence active at `now`.

    For a plain silence that is (startsAt, endsAt); for a recurring one the occurrence,
    cut at endsAt. Return None when the silence is not active.
    """
    if _base_state(s, now) != "active":
        return None
    if s.recurrence is None:
        return (s.starts_at, s.ends_at)
    began = _current_occurrence(s, now)
    if began is None:
        return None
    return (max(began, s.starts_at), min(began + s.recurrence.duration_s, s.ends_at))


def next_change(s: Silence, now: float) -> float | None:
    """Return the first moment after `now` at which the silence's state changes.

    Return None once it has expired. Schedulers use this to re-check muted alerts.
    """
    base = _base_state(s, now)
    if base == "expired":
        return None
    if base == "pending":
        if s.recurrence is None:
            return s.starts_at
        # dtstart drops sub-second parts, so the first occurrence may begin just before
        first = _next_occurrence_start(s, s.starts_at - 1.0)
        return s.ends_at if first is None else min(max(first, s.starts_at), s.ends_at)
    if s.recurrence is None:
        return s.ends_at
    window = occurrence_window(s, now)
    if window is not None:
        return window[1]
    upcoming = _next_occurrence_start(s, now)
    return s.ends_at if upcoming is None else min(upcoming, s.ends_at)


# -- recurrence ------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from None


def _local(ts: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, tz).replace(tzinfo=None)


def _instant(local: datetime, tz: ZoneInfo) -> float:
    return local.replace(tzinfo=tz).timestamp()


def _rule_text(text: str, tz: ZoneInfo) -> str:
    """The RRULE with any UTC UNTIL (…Z) turned into local time, as dtstart is local."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if "\n" in body or "DTSTART" in body.upper():
        raise ValueError(
            f"recurrence {text!r}: give only the RRULE part (e.g. 'FREQ=WEEKLY;BYDAY=SA'); "
            "the silence's startsAt is its DTSTART"
        )
    parts = []
    for part in body.split(";"):
        key, _, value = part.partition("=")
        if key.strip().upper() == "UNTIL" and value.strip().upper().endswith("Z"):
            try:
                until = datetime.strptime(value.strip().upper(), "%Y%m%dT%H%M%SZ")
            except ValueError:
                raise ValueError(
                    f"recurrence {text!r}: UNTIL must look like 20240131T235959Z"
                ) from None
            local = until.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
            part = f"UNTIL={local:%Y%m%dT%H%M%S}"
        parts.append(part)
    return ";".join(parts)


@lru_cache(maxsize=512)
def _compile(text: str, timezone: str, dtstart: datetime) -> rrule:
    tz = _zone(timezone)
    body = _rule_text(text, tz)
    try:
        rule = rrulestr(body, dtstart=dtstart, cache=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"recurrence {text!r} is not a valid RFC 5545 RRULE ({exc}); "
            "write e.g. 'FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=2'"
        ) from None
    if not isinstance(rule, rrule):
        raise ValueError(f"recurrence {text!r}: give a single RRULE")
    freq = re.search(r"FREQ=([A-Z]+)", body.upper())
    if freq is not None and freq.group(1) in _TOO_FREQUENT:
        raise ValueError(
            f"recurrence {text!r}: FREQ={freq.group(1)} is too frequent for a silence; "
            "use FREQ=HOURLY or slower (or a route's mute_time_intervals)"
        )
    interval = re.search(r"INTERVAL=(-?\d+)", body.upper())
    if interval is not None and int(interval.group(1)) < 1:
        raise ValueError(f"recurrence {text!r}: INTERVAL must be 1 or more")
    return rule


def _rule(s: Silence) -> tuple[rrule, ZoneInfo]:
    rec = s.recurrence
    assert rec is not None
    tz = _zone(rec.timezone)
    return _compile(rec.rrule, rec.timezone, _local(s.starts_at, tz).replace(microsecond=0)), tz


def _current_occurrence(s: Silence, now: float) -> float | None:
    """Start of the latest occurrence that began at or before now and still covers it."""
    rule, tz = _rule(s)
    assert s.recurrence is not None
    duration = s.recurrence.duration_s
    low = _local(now - duration, tz) - _OFFSET_SLACK
    high = _local(now, tz) + _OFFSET_SLACK
    latest: float | None = None
    for occ in rule.between(low, high, inc=True):
        began = _instant(occ, tz)
        if began <= now and (latest is None or began > latest):
            latest = began
    if latest is not None and now < latest + duration:
        return latest
    return None


def _next_occurrence_start(s: Silence, after: float) -> float | None:
    """Start of the first occurrence beginning strictly after `after` (None if none)."""
    rule, tz = _rule(s)
    probe = _local(after, tz) - _OFFSET_SLACK
    while True:
        occ = rule.after(probe, inc=False)
        if occ is None:
            return None
        began = _instant(occ, tz)
        if began > after:
            return began
        probe = occ


# -- validation ------------------------------------------------------------------------------


def _matches_empty(m: LabelMatcher) -> bool:
    # Alertmanager counts only = and =~ here: {a!="b"} alone is a valid silence.
    return m.op in ("=", "=~") and m.matches({})


def validate(s: Silence, now: float) -> list[str]:
    """Return why the silence cannot be stored; an empty list when it can.

    Alertmanager 0.25's rules (api/v2 postSilences and silence.validateSilence): at least
    one matcher, valid label names, not every matcher matching the empty string, start
    before end, end not in the past. Like Alertmanager, createdBy and comment may be
    empty. tenantwatch adds the tenant matcher and recurrence checks.
    """
    problems: list[str] = []
    if not s.matchers:
        problems.append('at least one matcher required, e.g. alertname="DiskFull"')
    for i, m in enumerate(s.matchers):
        if not _LABEL_NAME.match(m.name):
            problems.append(
                f"invalid label matcher {i}: invalid label name {m.name!r}; "
                "use letters, digits and underscores, not starting with a digit"
            )
    if s.matchers and all(_matches_empty(m) for m in s.matchers):
        problems.append(
            "at least one matcher must not match the empty string; "
            'a silence like {instance=~".*"} would mute every alert'
        )
    times = {"startsAt": s.starts_at, "endsAt": s.ends_at}
    bad_times = [name for name, value in times.items() if not math.isfinite(value)]
    for name in bad_times:
        problems.append(f"{name} must be a valid time")
    if not bad_times:
        if s.ends_at <= s.starts_at:
            problems.append("start time must be before end time")
        if s.ends_at < now:
            problems.append("end time can't be in the past")
    if s.tenant_id is not None and not any(
        m.name == "tenant" and m.op == "=" and m.value == s.tenant_id for m in s.matchers
    ):
        problems.append(
            f'a silence of tenant {s.tenant_id!r} needs the matcher tenant="{s.tenant_id}"; '
            "add it to the matchers"
        )
    if s.recurrence is not None and not bad_times:
        problems.extend(_recurrence_problems(s))
    return problems


def _recurrence_problems(s: Silence) -> list[str]:
    rec = s.recurrence
    assert rec is not None
    problems = []
    if not (math.isfinite(rec.duration_s) and rec.duration_s > 0):
        problems.append("recurrence duration must be positive, e.g. '2h'")
    try:
        _rule(s)
    except ValueError as exc:
        return [*problems, str(exc)]
    if problems:
        return problems
    first = _next_occurrence_start(s, s.starts_at - 1.0)
    if first is None or first >= s.ends_at:
        problems.append(
            f"recurrence {rec.rrule!r} has no occurrence between startsAt and endsAt; "
            "move endsAt later or change the rule"
        )
    return problems


# -- expire and update -------------------------------------------------------------------------


def create(s: Silence, now: float) -> Silence:
    """Return a new silence ready to store, as Alertmanager's Set does for a fresh one.

    A start in the past becomes `now` (except for a recurring silence, whose start is
    the anchor of its occurrences); updated_at becomes `now`.
    """
    starts = s.starts_at if s.recurrence is not None else max(s.starts_at, now)
    return replace(s, starts_at=starts, updated_at=now, matched_once=False)


def expire(s: Silence, now: float) -> Silence:
    """Return the silence ended at `now`, as Alertmanager's expire.

    A silence that has not started yet gets startsAt = endsAt = now (so it never
    mutes); an active one (or a recurring one between occurrences) gets endsAt = now.
    Raise SilenceAlreadyExpired for an expired one.
    """
    base = _base_state(s, now)
    if base == "expired":
        raise SilenceAlreadyExpired(f"silence {s.id} already expired")
    if base == "pending":
        return replace(s, starts_at=now, ends_at=now, updated_at=now)
    return replace(s, ends_at=now, updated_at=now)


def can_update(old: Silence, new: Silence, now: float) -> bool:
    """Return True if `old` can become `new` in place without rewriting history.

    Alertmanager's canUpdate: same matchers in the same order; an active silence keeps
    its start (to the second) and may not end before now; a pending one may not start
    before now; an expired one never. tenantwatch also keeps tenant and recurrence.
    """
    if _matcher_key(old.matchers) != _matcher_key(new.matchers):
        return False
    if old.tenant_id != new.tenant_id or old.recurrence != new.recurrence:
        return False
    base = _base_state(old, now)
    if base == "active":
        return math.floor(new.starts_at) == math.floor(old.starts_at) and new.ends_at >= now
    if base == "pending":
        return new.starts_at >= now
    return False


def update(old: Silence, new: Silence, now: float) -> tuple[Silence, Silence | None]:
    """Return (silence to store, old silence expired or None), as Alertmanager's Set.

    In place when `can_update`: the result keeps old's id. Otherwise old is expired
    (unless it already was) and the result is a new silence with an empty id for the
    caller to assign, its start moved up to `now` as for any new silence.
    """
    if can_update(old, new, now):
        return replace(new, id=old.id, updated_at=now, matched_once=old.matched_once), None
    expired = None if _base_state(old, now) == "expired" else expire(old, now)
    return create(replace(new, id=""), now), expired


def _matcher_key(matchers: Sequence[LabelMatcher]) -> list[tuple[str, str, str]]:
    return [(m.name, m.op, m.value) for m in matchers]


# -- end on resolve --------------------------------------------------------------------------


def ended_by_resolution(
    s: Silence, firing: Iterable[Mapping[str, str]], now: float
) -> tuple[bool, bool]:
    """Return (ends, matched_once) for an end_on_resolve silence given the firing alerts.

    `matched_once` becomes True the first time the active silence mutes a firing alert;
    `ends` is True when it had and now mutes none. Silences without end_on_resolve, and
    ones not active at `now`, never end this way.
    """
    if not s.end_on_resolve or state(s, now) != "active":
        return False, s.matched_once
    muting = any(all(m.matches(labels) for m in s.matchers) for labels in firing)
    if muting:
        return False, True
    return s.matched_once, s.matched_once


def apply_resolution(s: Silence, firing: Iterable[Mapping[str, str]], now: float) -> Silence:
    """Return the silence after `ended_by_resolution`: expired, flagged, or unchanged.

    The caller stores the result when it differs from `s`.
    """
    ends, matched_once = ended_by_resolution(s, firing, now)
    if ends:
        return expire(replace(s, matched_once=True), now)
    if matched_once != s.matched_once:
        return replace(s, matched_once=matched_once, updated_at=now)
    return s


# -- API v2 matchers -------------------------------------------------------------------------


def matchers_from_api(items: Any) -> tuple[LabelMatcher, ...]:
    """Return LabelMatchers for API v2 matchers ([{name, value, isRegex, isEqual}]).

    isEqual defaults to true and isRegex to false. Raise ValueError saying what to fix.
    """
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise ValueError(
            'matchers must be a list like [{"name": "alertname", "value": "X", "isRegex": false}]'
        )
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValueError(f"matcher {i}: expected an object with name, value and isRegex")
        name, value = item.get("name"), item.get("value")
        if not isinstance(name, str) or not _LABEL_NAME.match(name):
            raise ValueError(
                f"matcher {i}: invalid label name {name!r}; use letters, digits and "
                "underscores, not starting with a digit"
            )
        if not isinstance(value, str):
            raise ValueError(f"matcher {i} ({name}): value must be a string")
        flags = {}
        for flag, default in (("isRegex", False), ("isEqual", True)):
            got = item.get(flag, default)
            if got is None:
                got = default
            if not isinstance(got, bool):
                raise ValueError(f"matcher {i} ({name}): {flag} must be true or false")
            flags[flag] = got
        if flags["isRegex"]:
            op = "=~" if flags["isEqual"] else "!~"
        else:
            op = "=" if flags["isEqual"] else "!="
        try:
            out.append(LabelMatcher.of(name, op, value))
        except RoutingError as exc:
            raise ValueError(f"matcher {i} ({name}): {exc}") from None
    return tuple(out)


def matchers_to_api(matchers: Iterable[LabelMatcher]) -> list[dict[str, Any]]:
    """Return API v2 matchers for LabelMatchers (the inverse of matchers_from_api)."""
    return [
        {
            "name": m.name,
            "value": m.value,
            "isRegex": m.op in ("=~", "!~"),
            "isEqual": m.op in ("=", "=~"),
        }
        for m in matchers
    ]
