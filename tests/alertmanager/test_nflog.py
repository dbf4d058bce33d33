"""The notification log: when a group needs a notification again, and entry expiry."""

from __future__ import annotations

import pytest

from tenantwatch.alertmanager.nflog import (
    Entry,
    NotificationLog,
    expired,
    expiry,
    log,
    log_entry,
    needs_update,
)


def entry(firing: set[str], resolved: set[str] | None = None, at: float = 100.0) -> Entry:
    return Entry(frozenset(firing), frozenset(resolved or ()), at, at + 1000.0)


@pytest.mark.parametrize(
    ("last", "firing", "resolved", "send_resolved", "now", "expected"),
    [
        (None, {"a"}, set(), False, 100.0, True),  # first notification
        (None, set(), {"a"}, True, 100.0, False),  # only resolved, never told: stay quiet
        (entry({"a"}), {"a", "b"}, set(), False, 101.0, True),  # a new firing alert
        (entry({"a", "b"}), {"a"}, {"b"}, True, 101.0, True),  # b resolved, told when wanted
        (entry({"a", "b"}), {"a"}, {"b"}, False, 101.0, False),  # ... not without send_resolved
        (entry({"a"}), set(), {"a"}, False, 101.0, True),  # all resolved: always, to clear the log
        (entry(set(), {"a"}), set(), {"a"}, True, 101.0, False),  # nothing fired since
        (entry({"a"}, {"b"}), {"a"}, {"b"}, True, 101.0, False),  # nothing changed
        (entry({"a"}), {"a"}, set(), False, 160.0, False),  # repeat interval not over
        (entry({"a"}), {"a"}, set(), False, 160.1, True),  # repeat interval over
        (entry({"a"}), {"a"}, set(), False, 160.0 + 1e-9, True),
    ],
)
def test_needs_update_is_dedup_stage(
    last: Entry | None,
    firing: set[str],
    resolved: set[str],
    send_resolved: bool,
    now: float,
    expected: bool,
) -> None:
    assert needs_update(last, firing, resolved, 60.0, send_resolved, now) is expected


def test_entries_expire_after_twice_the_repeat_interval_or_the_retention() -> None:
    assert expiry(100.0, retention_s=10_000.0, repeat_s=60.0) == 220.0
    assert expiry(100.0, retention_s=100.0, repeat_s=3600.0) == 200.0
    assert expiry(100.0, retention_s=100.0, repeat_s=0.0) == 200.0
    assert log_entry({"a"}, set(), 100.0, 500.0).expires_at == 600.0


def test_log_writes_a_new_entry_but_keeps_a_newer_one() -> None:
    new = log(None, {"a"}, {"b"}, 100.0, repeat_s=60.0)
    assert new == Entry(frozenset({"a"}), frozenset({"b"}), 100.0, 220.0)
    newer = entry({"x"}, at=200.0)
    assert log(newer, {"a"}, set(), 150.0, repeat_s=60.0) is newer


def test_expired_at_the_expiry_time() -> None:
    e = log(None, {"a"}, set(), 100.0, repeat_s=60.0)
    assert not expired(e, 219.9) and expired(e, 220.0)


def test_notification_log_keys_by_receiver_integration_and_group() -> None:
    nl = NotificationLog(retention_s=1000.0)
    nl.log("team", "webhook/0", "{}:{}", {"a"}, set(), 100.0, repeat_s=60.0)
    nl.log("team", "webhook/1", "{}:{}", {"b"}, set(), 100.0, repeat_s=600.0)
    first = nl.get("team", "webhook/0", "{}:{}")
    assert first is not None and first.firing == {"a"}
    assert nl.get("team", "webhook/0", "{}/{}:{}") is None
    assert nl.gc(220.0) == [("team", "webhook/0", "{}:{}")]
    assert nl.get("team", "webhook/1", "{}:{}") is not None
