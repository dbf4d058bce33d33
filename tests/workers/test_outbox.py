"""The outbox worker against loopback receivers: idempotency, Retry-After, dead letters, a
receiver that comes back, Slack's rate limit, and kill -9 with notifications in flight."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.adapters.notifiers.base import Notifiers
from tenantwatch.alertmanager.notify_payloads import OutboundRequest
from tenantwatch.domain.outbox import RateLimit, RetryPolicy
from tenantwatch.workers.outbox import OutboxWorker
from tests.support import free_port
from tests.workers.outbox_child import (
    FAST,
    T0,
    Arrival,
    Clock,
    Receiver,
    http_deliver,
    note,
    receiving,
)

CHILD = Path(__file__).with_name("outbox_child.py")


def scripted(*answers: tuple[int, dict[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    yield from answers
    while True:
        yield 200, {}


def answers(*script: tuple[int, dict[str, str]]) -> Any:
    it = scripted(*script)
    return lambda _arrival: next(it)


async def settled(repo: SqlNotificationRepo, sent: int, timeout: float = 30.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while (counts := await repo.counts())["sent"] < sent and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return counts


async def test_a_repeated_idempotency_key_is_stored_and_delivered_once(
    repo: SqlNotificationRepo,
) -> None:
    clock = Clock()
    worker = OutboxWorker(repo, http_deliver, policy=FAST, now=clock)
    async with receiving(Receiver()) as rec:
        first = dataclasses.replace(note(rec.url + "/hook", "k1"), fingerprints=("fb", "fa"))
        assert await worker.enqueue_many([first]) == 1
        assert await worker.enqueue_many([note(rec.url + "/hook", "k1")]) == 0
        assert await worker.run_once(clock()) == 1
        assert await worker.run_once(clock()) == 0
    assert [(a.key, a.authorization) for a in rec.arrivals] == [("k1", "Bearer s3cret-token")]
    (row,) = await repo.list(before_id=None, limit=10)
    assert (row.status, row.attempts, row.last_status_code, row.sent_at) == ("sent", 1, 200, T0)
    assert row.latency_ms is not None and row.latency_ms > 0 and row.last_error is None
    assert row.fingerprints == ("fa", "fb")  # the alerts it carried, sorted


async def test_a_429_with_retry_after_is_delivered_no_sooner(repo: SqlNotificationRepo) -> None:
    clock = Clock()
    worker = OutboxWorker(repo, http_deliver, policy=FAST, now=clock)
    async with receiving(Receiver(answers((429, {"Retry-After": "2"})))) as rec:
        await worker.enqueue_many([note(rec.url + "/hook", "k")])
        await worker.run_once(clock())
        (row,) = await repo.list(before_id=None, limit=1)
        assert (row.status, row.last_status_code, row.next_attempt_at) == ("pending", 429, T0 + 2)
        clock.t = T0 + 1.9
        assert await worker.run_once(clock()) == 0
        clock.t = T0 + 2
        assert await worker.run_once(clock()) == 1
    got = await repo.get(row.id)
    assert got is not None and got.status == "sent" and got.attempts == 2
    assert got.sent_at is not None and got.sent_at - got.created_at >= 2
    assert len(rec.arrivals) == 2


async def test_failures_are_retried_then_dead_with_the_reason(repo: SqlNotificationRepo) -> None:
    clock = Clock()
    policy = RetryPolicy(max_attempts=4, base_s=1, cap_s=10)
    worker = OutboxWorker(repo, http_deliver, policy=policy, now=clock)
    async with receiving(Receiver(lambda _a: (500, {}))) as rec:
        await worker.enqueue_many([note(rec.url + "/hook", "k")])
        waits = []
        for _ in range(6):
            await worker.run_once(clock())
            (row,) = await repo.list(before_id=None, limit=1)
            waits.append(row.next_attempt_at - clock.t)
            clock.t += 20
    assert len(rec.arrivals) == 4
    assert (row.status, row.attempts, row.last_status_code) == ("dead", 4, 500)
    assert row.last_error == "gave up after 4 attempts; last: HTTP 500: Internal Server Error"
    assert all(0 <= w < policy.ceiling(n + 1) for n, w in enumerate(waits[:3]))


async def test_a_deliver_that_raises_is_retried_not_lost(repo: SqlNotificationRepo) -> None:
    clock = Clock()
    calls: list[str] = []

    async def flaky(request: OutboundRequest, *, timeout: float) -> Any:
        calls.append(request.idempotency_key)
        if len(calls) == 1:
            raise RuntimeError("sender bug")
        return await http_deliver(request, timeout=timeout)

    worker = OutboxWorker(repo, flaky, policy=FAST, now=clock)
    async with receiving(Receiver()) as rec:
        await worker.enqueue_many([note(rec.url + "/hook", "k")])
        await worker.run_once(clock())
        (row,) = await repo.list(before_id=None, limit=1)
        assert row.status == "pending" and row.last_error == "RuntimeError: sender bug"
        clock.t += 10
        await worker.run_once(clock())
    assert calls == ["k", "k"] and [a.key for a in rec.arrivals] == ["k"]
    assert (await repo.counts())["sent"] == 1


async def test_a_sender_that_hangs_is_cut_off_and_retried(repo: SqlNotificationRepo) -> None:
    async def hangs(request: OutboundRequest, *, timeout: float) -> Any:
        await asyncio.sleep(3600)

    clock = Clock()
    worker = OutboxWorker(repo, hangs, policy=FAST, timeout_s=0.1, lease_s=1, now=clock)
    await worker.enqueue_many([note("http://127.0.0.1:9/never", "k")])
    await worker.run_once(clock())
    (row,) = await repo.list(before_id=None, limit=1)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "the sender did not return within 0.15s"


async def test_a_receiver_that_was_down_gets_everything_when_it_comes_back(
    repo: SqlNotificationRepo,
) -> None:
    port = free_port()  # nothing listens yet
    fast = RetryPolicy(max_attempts=100, base_s=0.05, cap_s=0.3)
    worker = OutboxWorker(repo, http_deliver, policy=fast, timeout_s=1, lease_s=5, poll_s=0.1)
    keys = {f"k{i:02d}" for i in range(20)}
    await worker.enqueue_many([note(f"http://127.0.0.1:{port}/hook", k) for k in sorted(keys)])
    worker.start()
    try:
        await asyncio.sleep(1.0)
        down = await repo.list(before_id=None, limit=50)
        assert {r.status for r in down} <= {"pending", "sending"}
        assert max(r.attempts for r in down) >= 2 and "Connect" in (down[0].last_error or "")
        async with receiving(Receiver(), port=port) as rec:
            counts = await settled(repo, 20)
    finally:
        await worker.stop()
    assert counts == {"pending": 0, "sending": 0, "sent": 20, "dead": 0, "superseded": 0}
    assert rec.keys() == keys


async def test_slack_sends_to_one_webhook_are_a_second_apart(repo: SqlNotificationRepo) -> None:
    worker = OutboxWorker(repo, http_deliver, policy=FAST, poll_s=0.1)
    async with receiving(Receiver()) as rec:
        same = [note(rec.url + "/slack/a", f"a{i}", kind="slack") for i in range(5)]
        other = [note(rec.url + "/slack/b", "b", kind="slack"), note(rec.url + "/hook", "w")]
        started = time.time()
        await worker.enqueue_many([*same, *other])
        worker.start()
        try:
            await rec.wait_for(7, timeout=15)
        finally:
            await worker.stop()
    times = sorted(a.at for a in rec.arrivals if a.path == "/slack/a")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 5 and all(g >= 0.9 for g in gaps), gaps
    assert times[-1] - times[0] >= 3.95
    assert all(a.at - started < 1.0 for a in rec.arrivals if a.path != "/slack/a")


async def test_a_rate_limit_wait_longer_than_the_lease_goes_back_to_the_queue(
    repo: SqlNotificationRepo,
) -> None:
    clock = Clock()
    worker = OutboxWorker(
        repo,
        http_deliver,
        policy=FAST,
        rate_limits={"slack": RateLimit(per_second=0.01)},  # one per 100 s
        lease_s=10,
        timeout_s=2,
        now=clock,
    )
    async with receiving(Receiver()) as rec:
        await worker.enqueue_many([note(rec.url + "/s", k, kind="slack") for k in ("a", "b")])
        assert await worker.run_once(clock()) == 2
        assert [a.key for a in rec.arrivals] == ["a"]
        (waiting,) = await repo.list(before_id=None, limit=5, status="pending")
        assert (waiting.attempts, waiting.next_attempt_at) == (0, T0 + 100)
        clock.t = T0 + 100
        assert await worker.run_once(clock()) == 1
    assert [a.key for a in rec.arrivals] == ["a", "b"]


async def test_the_real_senders_deliver_from_the_outbox(repo: SqlNotificationRepo) -> None:
    notifiers = Notifiers(allow_private=["127.0.0.1/32"])
    clock = Clock()
    worker = OutboxWorker(repo, notifiers.deliver, policy=FAST, now=clock)
    try:
        async with receiving(Receiver(answers((503, {"Retry-After": "3"})))) as rec:
            await worker.enqueue_many([note(rec.url + "/hook", "k")])
            await worker.run_once(clock())
            clock.t += 3
            await worker.run_once(clock())
    finally:
        await notifiers.close()
    (row,) = await repo.list(before_id=None, limit=1)
    assert (row.status, row.attempts, row.last_status_code) == ("sent", 2, 200)
    assert [a.authorization for a in rec.arrivals] == ["Bearer s3cret-token"] * 2


async def test_stop_hands_unfinished_sends_back_to_the_queue(repo: SqlNotificationRepo) -> None:
    worker = OutboxWorker(repo, http_deliver, policy=FAST, timeout_s=5, lease_s=60)
    async with receiving(Receiver(delay=3)) as rec:
        await worker.enqueue_many([note(rec.url + "/slow", f"k{i}") for i in range(3)])
        worker.start()
        await rec.wait_for(3)
        await worker.stop(grace_s=0.1)
    rows = await repo.list(before_id=None, limit=5)
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
    assert len(await repo.claim(time.time(), lease_s=5, limit=5)) == 3  # due again at once


async def test_sent_notifications_are_pruned_after_the_retention(
    repo: SqlNotificationRepo,
) -> None:
    clock = Clock()
    worker = OutboxWorker(repo, http_deliver, policy=FAST, retention_s=3600, now=clock)
    async with receiving(Receiver(lambda a: (200 if a.path == "/ok" else 400, {}))) as rec:
        await worker.enqueue_many([note(rec.url + "/ok", "ok"), note(rec.url + "/bad", "bad")])
        await worker.run_once(clock())
    assert await worker.prune(T0 + 3599) == 0
    assert await worker.prune(T0 + 3601) == 1
    (left,) = await repo.list(before_id=None, limit=5)
    assert (left.idempotency_key, left.status) == ("bad", "dead")
    assert left.last_error == "not retryable: HTTP 400: Bad Request"


def test_a_lease_shorter_than_two_timeouts_is_refused(repo: SqlNotificationRepo) -> None:
    with pytest.raises(ValueError, match="must exceed twice the send timeout"):
        OutboxWorker(repo, http_deliver, lease_s=10, timeout_s=10)


async def test_kill_9_mid_flight_then_a_new_worker_finishes_every_notification(
    database_url: str, repo: SqlNotificationRepo
) -> None:
    keys = {f"key-{i:03d}" for i in range(200)}
    async with receiving(Receiver(delay=0.3)) as rec:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CHILD),
            database_url,
            rec.url,
            "200",
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert child.stdout is not None
            while (await asyncio.wait_for(child.stdout.readline(), 30)).strip() != b"enqueued":
                pass
            await rec.wait_for(30)
        finally:
            child.send_signal(signal.SIGKILL)
            await child.wait()
        assert child.returncode == -signal.SIGKILL
        at_kill = await repo.counts()
        assert at_kill["sending"] > 0 and at_kill["sent"] < 200  # killed mid-flight
        worker = OutboxWorker(
            repo, http_deliver, policy=FAST, concurrency=16, lease_s=3, timeout_s=1, poll_s=0.1
        )
        worker.start()
        try:
            counts = await settled(repo, 200, timeout=60)
        finally:
            await worker.stop()
    assert counts == {"pending": 0, "sending": 0, "sent": 200, "dead": 0, "superseded": 0}
    assert rec.keys() == keys  # at least once each
    repeats = len(rec.arrivals) - 200
    assert 0 <= repeats <= 8  # only what was in flight at the kill came twice
    assert all(isinstance(a, Arrival) and a.path == "/hook" for a in rec.arrivals)
