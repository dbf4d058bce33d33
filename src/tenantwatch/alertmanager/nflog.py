"""Alertmanager's notification log: what each integration last notified for each group.

An entry is kept per (receiver, integration such as "webhook/0", group key) and holds the
alerts (by fingerprint) that were firing and resolved at that notification. The dedup
stage compares a flush with it: notify when a firing alert is new, when every alert
resolved after some were notified firing, when send_resolved is on and an alert resolved
since, or when nothing changed but the repeat interval passed.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

EntryKey = tuple[str, str, str]  # (receiver, integration, group key)
DEFAULT_RETENTION_S = 120 * 3600.0  # --data.retention


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
    """DedupStage.needsUpdate of Alertmanager 0.25.

    Without an entry: notify when something fires. Otherwise notify when a firing alert
    was not in the last notification; when nothing fires any more but the last
    notification had firing alerts (whatever send_resolved says, so the log forgets
    them); when send_resolved is on and an alert resolved that was not notified
    resolved; else only once the repeat interval has passed since the last one.
    """
    if entry is None:
        return len(firing) > 0
    if not firing <= entry.firing:
        return True
    if not firing:
        return len(entry.firing) > 0
    if send_resolved and not resolved <= entry.resolved:
        return True
    return entry.timestamp < now - repeat_s


def expiry(now: float, retention_s: float, repeat_s: float) -> float:
    """When an entry written at `now` expires: after twice the repeat interval, or after
    the retention when that is shorter (nflog.Log with SetNotifiesStage's expiry)."""
    keep = 2 * repeat_s
    if keep > 0 and retention_s > keep:
        return now + keep
    return now + retention_s


def log(
    previous: Entry | None,
    firing: Set[str],
    resolved: Set[str],
    now: float,
    *,
    repeat_s: float,
    retention_s: float = DEFAULT_RETENTION_S,
) -> Entry:
    """The entry after a notification (or a decision to send nothing) at `now`.

    An entry newer than `now` is kept as it is, as Alertmanager does against clock skew.
    """
    if previous is not None and previous.timestamp > now:
        return previous
    return Entry(frozenset(firing), frozenset(resolved), now, expiry(now, retention_s, repeat_s))


def log_entry(
    firing: Set[str], resolved: Set[str], now: float, retention_s: float, repeat_s: float = 0.0
) -> Entry:
    """A fresh entry (see `log`); without repeat_s it lives for the whole retention."""
    return Entry(frozenset(firing), frozenset(resolved), now, expiry(now, retention_s, repeat_s))


def expired(entry: Entry, now: float) -> bool:
    """Whether garbage collection removes the entry at `now`."""
    return entry.expires_at <= now


class NotificationLog:
    """The log's entries in memory (the caller persists them)."""

    def __init__(self, retention_s: float = DEFAULT_RETENTION_S) -> None:
        self.retention_s = retention_s
        self.entries: dict[EntryKey, Entry] = {}

    def get(self, receiver: str, integration: str, group_key: str) -> Entry | None:
        return self.entries.get((receiver, integration, group_key))

    def log(
        self,
        receiver: str,
        integration: str,
        group_key: str,
        firing: Set[str],
        resolved: Set[str],
        now: float,
        repeat_s: float,
    ) -> Entry:
        key = (receiver, integration, group_key)
        entry = log(
            self.entries.get(key),
            firing,
            resolved,
            now,
            repeat_s=repeat_s,
            retention_s=self.retention_s,
        )
        self.entries[key] = entry
        return entry

    def gc(self, now: float) -> list[EntryKey]:
        """Remove the expired entries; return their keys."""
        gone = [k for k, e in self.entries.items() if expired(e, now)]
        for key in gone:
            del self.entries[key]
        return gone
