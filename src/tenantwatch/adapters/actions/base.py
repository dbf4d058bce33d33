"""What every executor shares: building its Outcome with the clock read here, at the edge."""

from __future__ import annotations

from datetime import UTC, datetime

from tenantwatch.incidents.actions import ActionSpec, Outcome, OutcomeStatus

MAX_DETAIL = 4096  # bytes of output or response body kept in an outcome's detail


def now() -> datetime:
    return datetime.now(UTC)


def finished(
    spec: ActionSpec,
    status: OutcomeStatus,
    detail: str,
    started: datetime,
    *,
    dry_run: bool = False,
) -> Outcome:
    """The outcome of `spec`, finished now."""
    return Outcome(spec.name, spec.kind, status, detail, started, now(), dry_run=dry_run)


def truncated(data: bytes, limit: int = MAX_DETAIL) -> str:
    """data as text, cut to `limit` bytes with a note saying how much was left out."""
    text = data[:limit].decode("utf-8", "replace")
    if len(data) > limit:
        text += f"\n[{len(data) - limit} more bytes left out]"
    return text
