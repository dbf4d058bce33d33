"""The outbox table: idempotent enqueue, leased claims that never overlap, results, the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.migrate import migrate
from tenantwatch.adapters.db.repos.audit import SqlAuditRepo
from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.outbox_order import order_key

T0 = 1_700_000_000.0


def row(key: str, **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "tenant_id": "alpha",
        "idempotency_key": key,
        "receiver": "team",
        "integration": "webhook/0",
        "kind": "webhook",
        "target": "http://hooks.example/<redacted>",
        "group_key": "{}:{}",
        "fingerprints": ["a1b2c3d4e5f60718"],
        "alert_status": "firing",
        "request": {"url": "http://hooks.example/secret", "headers": [["X-Token", "hush"]]},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": T0,
        "created_at": T0,
        "sent_at": None,
    }
    return {**values, **over}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    await migrate(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def repo(engine: AsyncEngine) -> SqlNotificationRepo:
    return SqlNotificationRepo(engine)


async def test_enqueue_ignores_a_repeated_idempotency_key(repo: SqlNotificationRepo) -> None:
    assert await repo.enqueue_many([row("a"), row("b")]) == {"a", "b"}
    assert await repo.enqueue_many([row("a", receiver="other"), row("c")]) == {"c"}
    assert await repo.enqueue_many([row("a")]) == set()
    assert await repo.enqueue_many([]) == set()
    rows = await repo.list(before_id=None, limit=10)
    assert sorted(r.idempotency_key for r in rows) == ["a", "b", "c"]
    assert {r.receiver for r in rows} == {"team"}  # the first enqueue stands


async def test_claims_take_due_rows_once_until_the_lease_lapses(repo: SqlNotificationRepo) -> None:
    await repo.enqueue_many([row("now"), row("later", next_attempt_at=T0 + 60)])
    first = await repo.claim(T0, lease_s=30, limit=10)
    assert [c.idempotency_key for c in first] == ["now"]
    assert first[0].lease_until == T0 + 30 and first[0].request["url"].endswith("secret")
    assert await repo.claim(T0 + 10, lease_s=30, limit=10) == []  # held by the lease
    assert (await repo.get(first[0].id)).status == "sending"  # type: ignore[union-attr]
    # the worker died: after the lease its row comes back, with the one now due
    again = await repo.claim(T0 + 61, lease_s=30, limit=10)
    assert sorted(c.idempotency_key for c in again) == ["later", "now"]


async def test_claims_come_in_batches_oldest_due_first(repo: SqlNotificationRepo) -> None:
    await repo.enqueue_many([row(f"k{i:03d}", next_attempt_at=T0 - i) for i in range(200)])
    batch = await repo.claim(T0, lease_s=30, limit=2)
    assert sorted(c.idempotency_key for c in batch) == ["k198", "k199"]
    assert [len(await repo.claim(T0, lease_s=30, limit=90)) for _ in range(3)] == [90, 90, 18]
    assert await repo.claim(T0, lease_s=30, limit=0) == []


async def test_concurrent_claims_never_share_a_row(database_url: str, engine: AsyncEngine) -> None:
    await SqlNotificationRepo(engine).enqueue_many([row(f"k{i:03d}") for i in range(120)])
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        repos = [SqlNotificationRepo(e) for e in engines]

        async def drain(r: SqlNotificationRepo) -> list[int]:
            got: list[int] = []
            while batch := await r.claim(T0, lease_s=30, limit=7):
                assert len(batch) <= 7
                got += [c.id for c in batch]
            return got

        results = await asyncio.gather(*(drain(r) for r in repos))
    finally:
        for e in engines:
            await e.dispose()
    ids = [i for got in results for i in got]
    assert len(ids) == 120 and len(set(ids)) == 120


def grouped(key: str, group: str, **over: Any) -> dict[str, Any]:
    """A row ordered with the others of its group (what the outbox worker enqueues)."""
    return row(key, order_key=order_key("team", "webhook/0", group), role="notice", **over)


async def test_a_claim_takes_only_the_oldest_unsent_row_of_a_group(
    repo: SqlNotificationRepo,
) -> None:
    loose = {"group_key": None, "order_key": None, "role": "notice"}  # ordered with nothing
    await repo.enqueue_many(
        [
            grouped("a1", "a", next_attempt_at=T0 + 60),
            grouped("a2", "a"),
            grouped("b1", "b"),
            grouped("b2", "b"),
            row("loose1", **loose),
            row("loose2", **loose),
        ]
    )
    # a1 is not due yet, and a2 waits behind it; b2 waits behind b1 in flight
    first = await repo.claim(T0, lease_s=30, limit=10)
    assert sorted(c.idempotency_key for c in first) == ["b1", "loose1", "loose2"]
    assert await repo.next_due() == T0 + 30  # not a2, which is due but behind a1
    [b1] = [c for c in first if c.idempotency_key == "b1"]
    await repo.record(b1, status="pending", next_attempt_at=T0 + 5, attempts=1)
    for c in first:
        if c.idempotency_key.startswith("loose"):
            await repo.record(c, status="sent", attempts=1)
    assert await repo.claim(T0 + 1, lease_s=30, limit=10) == []  # b1 failed: b2 still waits
    [again] = await repo.claim(T0 + 5, lease_s=30, limit=10)
    assert again.idempotency_key == "b1" and await repo.next_due() == T0 + 35
    await repo.record(again, status="sent", attempts=2)
    [b2] = await repo.claim(T0 + 6, 30, 10)
    assert b2.idempotency_key == "b2"
    await repo.record(b2, status="sent", attempts=1)
    assert [c.idempotency_key for c in await repo.claim(T0 + 60, 30, 10)] == ["a1"]


async def test_concurrent_claims_never_take_two_rows_of_a_group(
    database_url: str, engine: AsyncEngine
) -> None:
    groups = [f"g{i}" for i in range(10)]
    await SqlNotificationRepo(engine).enqueue_many(
        [grouped(f"{g}-{n}", g) for n in range(6) for g in groups]
    )
    engines = [create_engine(database_url) for _ in range(4)]
    order: list[str] = []
    inflight: set[str] = set()
    try:

        async def work(r: SqlNotificationRepo) -> None:
            while (await r.counts())["pending"]:
                for claim in await r.claim(T0, lease_s=30, limit=4):
                    group = claim.idempotency_key.split("-")[0]
                    assert group not in inflight, claim.idempotency_key
                    inflight.add(group)
                    await asyncio.sleep(0.001)
                    order.append(claim.idempotency_key)
                    inflight.discard(group)
                    assert await r.record(claim, status="sent", attempts=1)

        await asyncio.gather(*(work(SqlNotificationRepo(e)) for e in engines))
    finally:
        for e in engines:
            await e.dispose()
    assert sorted(order) == sorted(f"{g}-{n}" for n in range(6) for g in groups)
    for g in groups:
        assert [k for k in order if k.startswith(f"{g}-")] == [f"{g}-{n}" for n in range(6)]


async def test_a_newer_state_supersedes_older_waiting_ones_when_enqueued(
    repo: SqlNotificationRepo,
) -> None:
    def state(key: str, status: str = "firing") -> dict[str, Any]:
        return {**grouped(key, "a", alert_status=status), "role": "state"}

    await repo.enqueue_many([state("f1")])
    [f1] = await repo.claim(T0, lease_s=30, limit=10)  # in flight: not superseded
    await repo.enqueue_many([state("f2")])
    await repo.enqueue_many([state("f3"), state("r4", "resolved")])  # one batch
    rows = {r.idempotency_key: r for r in await repo.list(before_id=None, limit=10)}
    assert {k: (r.status, r.superseded_by) for k, r in rows.items()} == {
        "f1": ("sending", None),
        "f2": ("superseded", rows["r4"].id),
        "f3": ("superseded", rows["r4"].id),
        "r4": ("pending", None),
    }
    # f1 fails: with r4 queued behind it, it is superseded instead of retried
    assert await repo.record(f1, status="pending", next_attempt_at=T0 + 9, attempts=1)
    got = await repo.get(f1.id)
    assert got is not None and (got.status, got.superseded_by, got.attempts) == (
        "superseded",
        rows["r4"].id,
        1,
    )
    assert [c.idempotency_key for c in await repo.claim(T0, 30, 10)] == ["r4"]
    assert await repo.superseding(f1.id) == rows["r4"].id
    assert await repo.superseding(rows["r4"].id) is None


async def test_a_result_is_stored_only_under_the_claim_that_holds_the_row(
    repo: SqlNotificationRepo,
) -> None:
    await repo.enqueue_many([row("a")])
    (stale,) = await repo.claim(T0, lease_s=5, limit=1)
    (fresh,) = await repo.claim(T0 + 6, lease_s=5, limit=1)  # the first worker was too slow
    assert not await repo.record(stale, status="sent", attempts=1, sent_at=T0 + 7)
    assert await repo.record(
        fresh,
        status="sent",
        attempts=1,
        sent_at=T0 + 7,
        last_attempt_at=T0 + 7,
        last_status_code=200,
        latency_ms=12.5,
    )
    got = await repo.get(fresh.id)
    assert got is not None and (got.status, got.attempts, got.sent_at) == ("sent", 1, T0 + 7)
    assert (got.last_status_code, got.latency_ms) == (200, 12.5)
    assert await repo.claim(T0 + 100, lease_s=5, limit=1) == []  # sent is final


async def test_release_hands_a_row_back_without_counting_an_attempt(
    repo: SqlNotificationRepo,
) -> None:
    await repo.enqueue_many([row("a")])
    (claim,) = await repo.claim(T0, lease_s=30, limit=1)
    assert await repo.release(claim, T0 + 3)
    assert await repo.next_due() == T0 + 3
    assert await repo.claim(T0 + 2, lease_s=30, limit=1) == []
    (again,) = await repo.claim(T0 + 3, lease_s=30, limit=1)
    assert again.attempts == 0


async def test_next_due_sees_pending_rows_and_leases(repo: SqlNotificationRepo) -> None:
    assert await repo.next_due() is None
    await repo.enqueue_many([row("a", next_attempt_at=T0 + 50), row("b", next_attempt_at=T0)])
    assert await repo.next_due() == T0
    await repo.claim(T0, lease_s=20, limit=1)
    assert await repo.next_due() == T0 + 20  # b's lease ends before a is due


async def test_a_dead_notification_can_be_retried(repo: SqlNotificationRepo) -> None:
    await repo.enqueue_many([row("a")])
    (claim,) = await repo.claim(T0, lease_s=30, limit=1)
    await repo.record(claim, status="dead", attempts=8, last_error="gave up after 8 attempts")
    assert not await repo.retry_dead(claim.id + 1000, T0 + 1)
    assert await repo.retry_dead(claim.id, T0 + 1)
    assert not await repo.retry_dead(claim.id, T0 + 1)  # it is pending now
    got = await repo.get(claim.id)
    assert got is not None and (got.status, got.attempts, got.next_attempt_at) == (
        "pending",
        0,
        T0 + 1,
    )
    assert got.last_error == "gave up after 8 attempts"  # kept until the next attempt


async def test_putting_back_and_its_audit_entry_are_one_transaction(
    repo: SqlNotificationRepo, engine: AsyncEngine
) -> None:
    await repo.enqueue_many([row("dead", status="dead"), row("pending")])
    by_key = {r.idempotency_key: r.id for r in await repo.list(before_id=None, limit=10)}

    def entry(notification_id: int) -> AuditEntry:
        return AuditEntry.of(
            at=datetime.fromtimestamp(T0, UTC),
            actor="cli:ops",
            action="notification.retry",
            object_type="notification",
            object_id=str(notification_id),
            tenant_id="alpha",
        )

    assert not await repo.retry_dead(by_key["pending"], T0, entry(by_key["pending"]))
    assert await repo.retry_dead(by_key["dead"], T0, entry(by_key["dead"]))
    async with engine.connect() as conn:
        logged = await SqlAuditRepo(conn).list(before_id=None, limit=10, tenant_id=None)
    assert [(e.action, e.object_id) for e in logged] == [
        ("notification.retry", str(by_key["dead"]))
    ]


async def test_fingerprints_and_the_group_key_are_kept(repo: SqlNotificationRepo) -> None:
    await repo.enqueue_many([row("two", fingerprints=["b", "a"]), row("old", fingerprints=None)])
    got = {r.idempotency_key: r for r in await repo.list(before_id=None, limit=10)}
    assert (got["two"].fingerprints, got["two"].group_key) == (("b", "a"), "{}:{}")
    assert got["old"].fingerprints is None


async def test_failing_lists_notifications_whose_last_attempt_failed(
    repo: SqlNotificationRepo,
) -> None:
    await repo.enqueue_many(
        [
            row("waiting", last_error=None),
            row("retrying", attempts=2, last_error="HTTP 503"),
            row("dead", status="dead", last_error="HTTP 400"),
            row("recovered", status="sent", last_error=None),
        ]
    )
    failing = await repo.list(before_id=None, limit=10, failing=True)
    assert [r.idempotency_key for r in failing] == ["dead", "retrying"]
    dead = await repo.list(before_id=None, limit=10, failing=True, status="dead")
    assert [r.last_error for r in dead] == ["HTTP 400"]


async def test_the_log_filters_pages_and_counts(repo: SqlNotificationRepo) -> None:
    await repo.enqueue_many(
        [
            row("a1"),
            row("a2", kind="slack", receiver="chat"),
            row("b1", tenant_id="bravo"),
            row("a3", status="dead"),
            row("none", tenant_id=None),
        ]
    )
    keys = [r.idempotency_key for r in await repo.list(before_id=None, limit=10)]
    assert keys == ["none", "a3", "b1", "a2", "a1"]  # newest first
    alpha = await repo.list(before_id=None, limit=10, tenant_id="alpha")
    assert [r.idempotency_key for r in alpha] == ["a3", "a2", "a1"]
    page = await repo.list(before_id=alpha[0].id, limit=1, tenant_id="alpha")
    assert [r.idempotency_key for r in page] == ["a2"]
    filtered = [
        await repo.list(before_id=None, limit=10, status="dead"),
        await repo.list(before_id=None, limit=10, receiver="chat"),
        await repo.list(before_id=None, limit=10, kind="slack", tenant_id="alpha"),
    ]
    assert [[r.idempotency_key for r in rows] for rows in filtered] == [["a3"], ["a2"], ["a2"]]
    assert await repo.counts() == {
        "pending": 4,
        "sending": 0,
        "sent": 0,
        "dead": 1,
        "superseded": 0,
    }
    assert await repo.counts("bravo") == {
        "pending": 1,
        "sending": 0,
        "sent": 0,
        "dead": 0,
        "superseded": 0,
    }
    assert not hasattr(alpha[0], "request")
    stored = await repo.stored_request(alpha[0].id)
    assert stored is not None and stored["headers"] == [["X-Token", "hush"]]
    assert await repo.get(10_000) is None


async def test_prune_removes_only_old_sent_rows(repo: SqlNotificationRepo) -> None:
    await repo.enqueue_many(
        [
            row("old", status="sent", sent_at=T0 - 100),
            row("new", status="sent", sent_at=T0),
            row("dead", status="dead"),
            row("pending"),
        ]
        + [row(f"old{i}", status="sent", sent_at=T0 - 50) for i in range(5)]
    )
    assert await repo.prune_sent(before=T0 - 10, batch=2) == 6
    left = {r.idempotency_key for r in await repo.list(before_id=None, limit=10)}
    assert left == {"new", "dead", "pending"}


async def test_outcomes_of_several_claims_are_stored_together(repo: SqlNotificationRepo) -> None:
    await repo.enqueue_many([row("a"), row("b"), row("c")])
    first = {c.idempotency_key: c for c in await repo.claim(T0, lease_s=30, limit=10)}
    # the leases lapse and another worker claims the rows: first["c"]'s result is stale
    again = {c.idempotency_key: c for c in await repo.claim(T0 + 31, lease_s=30, limit=10)}
    assert sorted(again) == ["a", "b", "c"]
    answers = await repo.record_many(
        [
            (again["a"], {"status": "sent", "sent_at": T0 + 32, "attempts": 1}),
            (first["c"], {"status": "sent", "sent_at": T0 + 32, "attempts": 1}),
            (again["b"], {"status": "dead", "attempts": 1, "last_error": "HTTP 400"}),
        ]
    )
    assert answers == [True, False, True]
    by_key = {r.idempotency_key: r for r in await repo.list(before_id=None, limit=10)}
    assert by_key["a"].status == "sent" and by_key["a"].sent_at is not None
    assert by_key["b"].status == "dead" and by_key["b"].last_error == "HTTP 400"
    assert by_key["c"].status == "sending"  # the newer claim still holds it
    assert await repo.record_many([]) == []
