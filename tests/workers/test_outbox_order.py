"""Notifications of one group stay in order, as Alertmanager's do, against loopback receivers:
a newer state supersedes an older one still waiting, acknowledgements and notices wait
their turn, two workers never send one group's notifications out of order, a kill -9
changes none of it, and a receiver down for ten minutes loses nothing to dead letters."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path

from aiohttp import web

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.domain.outbox import RetryPolicy
from tenantwatch.workers.outbox import OutboxWorker
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
GROUPS = [f"g{i:02d}" for i in range(30)]


async def drive(worker: OutboxWorker, repo: SqlNotificationRepo, clock: Clock) -> dict[str, int]:
    """Run a round at each moment something falls due, moving the clock there, until no
    notification waits; return the counts per status."""
    for _ in range(20_000):
        counts = await repo.counts()
        if counts["pending"] + counts["sending"] == 0:
            return counts
        due = await repo.next_due()
        assert due is not None, counts
        clock.t = max(clock.t, due)
        await worker.run_once(clock.t)
    raise AssertionError(f"notifications still waiting: {await repo.counts()}")


def last_per_group(arrivals: list[Arrival]) -> dict[str, str]:
    """The key of the last request each group's receiver got ("g07-resolved" -> g07)."""
    return {a.key.split("-")[0]: a.key for a in arrivals}


def down_until(clock: Clock, until: float) -> Receiver:
    """A receiver answering 503 while the clock is before `until`, then 200."""
    return Receiver(lambda _a: (503, {}) if clock.t < until else (200, {}))


async def test_a_receiver_down_for_ten_minutes_loses_nothing_to_dead_letters(
    repo: SqlNotificationRepo,
) -> None:
    clock = Clock()
    worker = OutboxWorker(repo, http_deliver, now=clock)  # the default retry policy
    async with receiving(down_until(clock, T0 + 600)) as rec:
        await worker.enqueue_many([note(rec.url + "/hook", f"k{i:03d}") for i in range(100)])
        counts = await drive(worker, repo, clock)
    assert counts["dead"] == 0 and counts["sent"] == 100
    sent_at = [r.sent_at for r in await repo.list(before_id=None, limit=200)]
    assert all(t is not None and T0 + 600 <= t <= T0 + 900 for t in sent_at)


async def test_past_the_retry_budget_a_notification_is_dead_with_the_reason(
    repo: SqlNotificationRepo,
) -> None:
    clock = Clock()
    worker = OutboxWorker(repo, http_deliver, now=clock)
    async with receiving(down_until(clock, T0 + 3600)) as rec:
        await worker.enqueue_many([note(rec.url + "/hook", f"k{i}") for i in range(5)])
        counts = await drive(worker, repo, clock)
    assert counts["dead"] == 5
    for row in await repo.list(before_id=None, limit=10):
        assert row.last_attempt_at == T0 + 24 * 60  # the last try is at the budget's end
        assert row.last_error is not None
        assert row.last_error.startswith(f"gave up after {row.attempts} attempts in 24 minutes")


async def test_a_newer_state_supersedes_the_older_one_waiting_in_backoff(
    repo: SqlNotificationRepo,
) -> None:
    clock = Clock()
    worker = OutboxWorker(repo, http_deliver, policy=RetryPolicy(), now=clock)
    async with receiving(down_until(clock, T0 + 120)) as rec:
        url = rec.url + "/hook"
        await worker.enqueue_many([note(url, f"{g}-firing", group=g) for g in GROUPS])
        assert await worker.run_once(clock.t) == 30  # all answered 503
        clock.t += 5
        resolved = [note(url, f"{g}-resolved", group=g, status="resolved") for g in GROUPS]
        await worker.enqueue_many(resolved)
        counts = await drive(worker, repo, clock)
    assert last_per_group(rec.arrivals) == {g: f"{g}-resolved" for g in GROUPS}
    assert counts == {"pending": 0, "sending": 0, "sent": 30, "dead": 0, "superseded": 30}
    rows = {r.idempotency_key: r for r in await repo.list(before_id=None, limit=100)}
    for g in GROUPS:
        old, new = rows[f"{g}-firing"], rows[f"{g}-resolved"]
        assert (old.status, old.superseded_by, old.attempts) == ("superseded", new.id, 1)
        assert old.last_status_code == 503  # what its attempt got stays in the log
    listed = await repo.list(before_id=None, limit=100, status="superseded")
    assert {r.idempotency_key for r in listed} == {f"{g}-firing" for g in GROUPS}


async def test_a_state_sent_while_in_flight_is_followed_by_the_newer_one(
    repo: SqlNotificationRepo,
) -> None:
    """The older one was already on its way: the newer waits for it, and is sent after."""
    clock = Clock()
    worker = OutboxWorker(repo, http_deliver, policy=FAST, now=clock)
    async with receiving(Receiver(delay=0.5)) as rec:
        url = rec.url + "/hook"
        await worker.enqueue_many([note(url, "g1-firing", group="g1")])
        first = asyncio.create_task(worker.run_once(clock.t))
        await rec.wait_for(1)
        await worker.enqueue_many([note(url, "g1-resolved", group="g1", status="resolved")])
        assert await worker.run_once(clock.t) == 0  # the group's older one is in flight
        await first
        assert await worker.run_once(clock.t) == 1
    assert [a.key for a in rec.arrivals] == ["g1-firing", "g1-resolved"]


async def test_a_failed_send_in_flight_is_superseded_by_a_newer_state(
    repo: SqlNotificationRepo,
) -> None:
    clock = Clock()
    worker = OutboxWorker(repo, http_deliver, policy=RetryPolicy(), now=clock)
    answers = iter([(503, {})])
    async with receiving(Receiver(lambda _a: next(answers, (200, {})), delay=0.5)) as rec:
        url = rec.url + "/hook"
        await worker.enqueue_many([note(url, "g1-firing", group="g1")])
        first = asyncio.create_task(worker.run_once(clock.t))
        await rec.wait_for(1)
        await worker.enqueue_many([note(url, "g1-resolved", group="g1", status="resolved")])
        await first  # 503: it would be retried, but a newer state waits
        assert await worker.run_once(clock.t) == 1
    assert [a.key for a in rec.arrivals] == ["g1-firing", "g1-resolved"]
    assert (await repo.counts())["superseded"] == 1


async def test_acknowledgements_and_notices_wait_their_turn(repo: SqlNotificationRepo) -> None:
    clock = Clock()
    worker = OutboxWorker(repo, http_deliver, policy=RetryPolicy(), now=clock)
    delivered: dict[str, list[str]] = defaultdict(list)

    def respond(arrival: Arrival) -> tuple[int, dict[str, str]]:
        if clock.t < T0 + 60:
            return 503, {}
        delivered[arrival.key[0]].append(arrival.key)
        return 200, {}

    async with receiving(Receiver(respond)) as rec:
        url = rec.url + "/hook"

        async def queue(key: str, status: str = "firing", role: str = "state") -> None:
            await worker.enqueue_many([note(url, key, group=key[0], status=status, role=role)])

        # a: trigger, acknowledge, a new trigger: the acknowledge needs the first one
        await queue("a-trigger1")
        await worker.run_once(clock.t)
        await queue("a-ack", "acknowledged", "acknowledge")
        await queue("a-trigger2")
        # b: trigger, acknowledge, resolve: nothing is left to acknowledge
        await queue("b-trigger")
        await queue("b-ack", "acknowledged", "acknowledge")
        await queue("b-resolve", "resolved")
        # c: flap notices are each delivered, in order
        for i in range(3):
            await queue(f"c-notice{i}", role="notice")
        await drive(worker, repo, clock)
    assert delivered == {
        "a": ["a-trigger1", "a-ack", "a-trigger2"],
        "b": ["b-resolve"],
        "c": ["c-notice0", "c-notice1", "c-notice2"],
    }
    statuses = {r.idempotency_key: r.status for r in await repo.list(before_id=None, limit=50)}
    assert {k for k, s in statuses.items() if s == "superseded"} == {"b-trigger", "b-ack"}


async def test_two_workers_never_send_one_groups_notifications_out_of_order(
    database_url: str, repo: SqlNotificationRepo
) -> None:
    """Two workers, each with its own connection pool, share the queue (SKIP LOCKED on
    PostgreSQL); the receiver is slow and fails now and then. Notices are never
    superseded, so each group must get all of its five, in order, one at a time."""
    rng = random.Random(7)
    inflight: dict[str, int] = defaultdict(int)
    overlaps: list[str] = []
    got: dict[str, list[str]] = defaultdict(list)

    async def handle(request: web.Request) -> web.Response:
        key = request.headers["Idempotency-Key"]
        group = key.split("-")[0]
        inflight[group] += 1
        if inflight[group] > 1:
            overlaps.append(key)
        try:
            await asyncio.sleep(rng.uniform(0, 0.03))
            if rng.random() < 0.2:
                return web.Response(status=503)
            got[group].append(key)
            return web.Response(text="ok")
        finally:
            inflight[group] -= 1

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    other = create_engine(database_url)
    fast = RetryPolicy(base_s=0.02, cap_s=0.1)
    workers = [
        OutboxWorker(
            r, http_deliver, policy=fast, concurrency=8, poll_s=0.05, lease_s=5, timeout_s=1
        )
        for r in (repo, SqlNotificationRepo(other))
    ]
    groups = [f"g{i:02d}" for i in range(20)]
    try:
        for w in workers:
            w.start()
        for step in range(5):  # enqueued while the workers run
            await workers[step % 2].enqueue_many(
                [note(url, f"{g}-{step}", group=g, role="notice") for g in groups]
            )
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + 60
        while (await repo.counts())["sent"] < 100 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        for w in workers:
            await w.stop()
        await other.dispose()
        await runner.cleanup()
    assert (await repo.counts())["sent"] == 100
    assert overlaps == []
    assert got == {g: [f"{g}-{i}" for i in range(5)] for g in groups}


async def test_kill_9_with_firing_in_flight_then_resolved_still_ends_resolved(
    database_url: str, repo: SqlNotificationRepo
) -> None:
    async with receiving(Receiver(delay=0.3)) as rec:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CHILD),
            database_url,
            rec.url,
            str(len(GROUPS)),
            "groups",
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert child.stdout is not None
            while (await asyncio.wait_for(child.stdout.readline(), 30)).strip() != b"enqueued":
                pass
            await rec.wait_for(4)
        finally:
            child.send_signal(signal.SIGKILL)
            await child.wait()
        at_kill = await repo.counts()
        assert at_kill["sending"] > 0 and at_kill["pending"] > 0  # killed mid-flight
        worker = OutboxWorker(
            repo, http_deliver, policy=FAST, concurrency=16, lease_s=3, timeout_s=1, poll_s=0.1
        )
        await worker.enqueue_many(
            [note(rec.url + "/hook", f"{g}-resolved", group=g, status="resolved") for g in GROUPS]
        )
        worker.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                counts = await repo.counts()
                if counts["sent"] >= 30 and counts["pending"] + counts["sending"] == 0:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # nothing more may come
        finally:
            await worker.stop()
    assert last_per_group(rec.arrivals) == {g: f"{g}-resolved" for g in GROUPS}
    # what was on its way at the kill is sent again (at least once), then its resolution;
    # the firing ones still queued were superseded and never sent
    on_its_way = at_kill["sending"] + at_kill["sent"]
    assert counts == {
        "pending": 0,
        "sending": 0,
        "sent": 30 + on_its_way,
        "dead": 0,
        "superseded": 30 - on_its_way,
    }
    assert len({a.key for a in rec.arrivals if a.key.endswith("-firing")}) == on_its_way
