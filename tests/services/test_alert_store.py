"""The alert manager's state: written through its repository, loaded back on start."""

from __future__ import annotations

import asyncio

from tenantwatch.alertmanager import nflog
from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.flush_plan import LogEntry
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.services.alert_store import AlertStore
from tests.services.memory_alert_repo import MemoryAlertRepo

NOW = 1_700_000_000.0


def record(name: str, ends_at: float = NOW + 300) -> AlertRecord:
    a = AmAlert.of(
        labels={"alertname": name}, annotations={}, starts_at=NOW, ends_at=ends_at, updated_at=NOW
    )
    return AlertRecord(a, "api", NOW, NOW)


def entry(key: str, expires_at: float) -> LogEntry:
    e = nflog.Entry(frozenset({"f"}), frozenset(), NOW - 10, expires_at)
    return LogEntry(key, "hook", "webhook/0", "{}:{}", e)


async def test_concurrent_commits_share_one_write_and_the_later_version_wins() -> None:
    repo = MemoryAlertRepo()
    store = AlertStore(repo)
    a, b = record("A"), record("B")
    a_resolved = record("A", ends_at=NOW)
    await asyncio.gather(
        store.commit_records({a.fingerprint: a, b.fingerprint: b}),
        store.commit_records({a.fingerprint: a_resolved}),
    )
    assert repo.alert_writes == [2]
    assert repo.alerts[a.fingerprint] == a_resolved
    assert store.records[a.fingerprint] == a_resolved


async def test_loading_leaves_expired_log_entries_out() -> None:
    repo = MemoryAlertRepo()
    writer = AlertStore(repo)
    await writer.save_record(record("A"))
    await writer.write_log([entry("live", NOW + 1), entry("gone", NOW)])
    store = AlertStore(repo)
    await store.load(NOW)
    assert list(store.records) == list(writer.records)
    assert list(store.nflog) == ["live"]


async def test_forgetting_removes_from_memory_and_repository() -> None:
    repo = MemoryAlertRepo()
    store = AlertStore(repo)
    a = record("A")
    await store.save_record(a)
    await store.write_log([entry("k", NOW + 60)])
    await store.forget_records([a.fingerprint])
    await store.forget_log(["k"])
    assert (store.records, store.nflog, repo.alerts, repo.log) == ({}, {}, {}, {})
