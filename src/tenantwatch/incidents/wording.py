"""How incidents read in messages and reviews: durations, impact, services, times (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from tenantwatch.incidents.model import AffectedTenant, Incident, Role, Status

NO_TIER = "no tier"


def human_duration(span: timedelta) -> str:
    """Return a span as people say it, to the minute: "15 minutes", "1 hour 5 minutes",
    "2 days 3 hours" (two units at most). Under a minute is "less than a minute"."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return " ".join(words[:2])


def impact(tenants: Sequence[AffectedTenant]) -> str:
    """Return the affected tenants counted by tier: "3 tenants (2 enterprise, 1 basic)".
    Tiers are listed most tenants first, then by name; a tenant without one counts as
    "no tier"."""
    if not tenants:
        return "no tenant identified yet"
    tiers = Counter(t.tier or NO_TIER for t in tenants)
    counts = sorted(tiers.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(tenants) == 1:
        return f"1 tenant ({counts[0][0]})"
    return f"{len(tenants)} tenants (" + ", ".join(f"{n} {tier}" for tier, n in counts) + ")"


def service(incident: Incident) -> str:
    """Return what is affected: the incident's services, else its tenants, else "unspecified"."""
    names = incident.services or incident.tenant_ids
    return ", ".join(names) if names else "unspecified"


def commander(incident: Incident) -> str:
    return incident.roles.get(Role.COMMANDER) or "unassigned"


def eta(incident: Incident) -> str:
    """What the seed's ETA line says when nobody gave an estimate: where the response stands."""
    return {
        Status.OPEN: "Investigating",
        Status.INVESTIGATING: "Investigating",
        Status.IDENTIFIED: "Cause identified, fix in progress",
        Status.MONITORING: "Fix applied, monitoring",
        Status.RESOLVED: "Resolved",
    }[incident.status]


def duration(incident: Incident, now: datetime) -> timedelta:
    """Detection to resolution; to `now` while the incident is active."""
    end = incident.resolved_at if incident.resolved_at is not None else now
    return max(timedelta(0), end - incident.detected_at)


def utc(at: datetime) -> str:
    """A time in UTC to the second: "2026-12-07 14:03:05 UTC"."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
