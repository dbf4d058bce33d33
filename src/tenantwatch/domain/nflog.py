"""Alertmanager's notification log: what each integration last sent for each group.

The dedup stage compares a flush with the last entry: notify when a firing alert is new,
when every alert resolved after some were notified firing, when send_resolved is on and an
alert resolved since, or when nothing changed but the repeat interval passed.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    firing: frozenset[str]
    resolved: frozenset[str]
    timestamp: float
    expires_at: float


def needs_update(
    entry: Entry | None,
    firing: Set[str],
    resolved: Set[str],
    repeat_s: float,
    send_resolved: bool,
    now: float,
) -> bool:
    """DedupStage.needsUpdate of Alertmanager 0.25."""
    if entry is None:
        return len(firing) > 0
    if not firing <= entry.firing:
        return True
    if not firing:
        # all resolved: tell the receiver if it was told about firing alerts
        return len(entry.firing) > 0
    if send_resolved and not resolved <= entry.resolved:
        return True
    return entry.timestamp < now - repeat_s


def log_entry(firing: Set[str], resolved: Set[str], now: float, retention_s: float) -> Entry:
    return Entry(frozenset(firing), frozenset(resolved), now, now + retention_s)
