"""The notification outbox worker: persisted first, then sent, retried, or dead-lettered.

`enqueue_many` writes notifications to the database before anything is sent (a repeated
idempotency key is ignored; a newer state of a group supersedes the older one still
waiting) and wakes the loop. The loop claims due notifications with a lease (at most the
oldest unsent of each receiver, integration and group, so a group's messages keep their
order), waits for each target's rate limit, sends them concurrently (bounded) and records
the outcome: sent (only after `deliver` said ok), retry at a backoff time that honours
Retry-After, within the retry budget counted from the first attempt, or dead with the
reason. A worker killed mid-send leaves rows `sending`; their
lease lapses and they are sent again: delivery is at least once. The request handed to
`deliver` carries the notification's idempotency key (`request.idempotency_key`, filled
from the row when the stored request lacks it); the sender puts it in a header so
receivers can drop repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import structlog

from tenantwatch.alertmanager.notify_payloads import OutboundRequest
from tenantwatch.domain.outbox import (
    AttemptResult,
    Claimed,
    Decision,
    RateLimit,
    RateLimiter,
    RetryPolicy,
    rate_key,
)
from tenantwatch.domain.outbox_order import ROLES, order_key
from tenantwatch.services.group_commit import GroupCommit
from tenantwatch.services.ports import OutboxRepo

log = structlog.get_logger(__name__)
PRUNE_EVERY_S = 3600.0
MIN_IDLE_S = 0.05


class Delivered(AttemptResult, Protocol):
    @property
    def latency_ms(self) -> float: ...


class Deliver(Protocol):
    """Send one request; report the outcome instead of raising (adapters/notifiers/base)."""

    def __call__(self, request: OutboundRequest, *, timeout: float) -> Awaitable[Delivered]: ...


class Item(Protocol):
    """One notification to enqueue (alertmanager.outgoing.Outgoing fits)."""

    @property
    def idempotency_key(self) -> str: ...
    @property
    def tenant_id(self) -> str | None: ...
    @property
    def receiver(self) -> str: ...
    @property
    def integration(self) -> str: ...
    @property
    def group_key(self) -> str: ...
    @property
    def alert_status(self) -> str: ...
    @property
    def fingerprints(self) -> Sequence[str]: ...
    @property
    def request(self) -> OutboundRequest: ...
    @property
    def role(self) -> str:
        """state, acknowledge or notice: which newer notification supersedes it."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class _Crashed:
    """A deliver function that raised: retried like a network error, so it cannot loop hot."""

    error: str
    latency_ms: float
    ok: bool = False
    retryable: bool = True
    status_code: int | None = None
    retry_after_s: float | None = None


def target_key(kind: str, request: Mapping[str, object]) -> str:
    """The rate-limit key of a stored request: its kind plus URL or e-mail recipients."""
    smtp = request.get("smtp")
    recipients = ""
    if isinstance(smtp, Mapping):
        to = smtp.get("to")
        recipients = ",".join(map(str, to)) if isinstance(to, list | tuple) else str(to or "")
    return rate_key(kind, str(request.get("url") or ""), recipients)


class OutboxWorker:
    def __init__(
        self,
        repo: OutboxRepo,
        deliver: Deliver,
        *,
        policy: RetryPolicy | None = None,
        rate_limits: Mapping[str, RateLimit] | None = None,
        concurrency: int = 64,
        lease_s: float = 120.0,
        timeout_s: float = 15.0,
        poll_s: float = 2.0,
        retention_s: float = 7 * 86400.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"outbox concurrency must be at least 1, not {concurrency}")
        if not lease_s > 2 * timeout_s:
            raise ValueError(
                f"the outbox lease ({lease_s}s) must exceed twice the send timeout "
                f"({timeout_s}s), or slow sends would be claimed again while in flight"
            )
        self.repo = repo
        self.deliver = deliver
        self.policy = policy or RetryPolicy()
        self.limiter = RateLimiter(dict(rate_limits)) if rate_limits is not None else RateLimiter()
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.retention_s = retention_s
        self._pruned_at = 0.0
        # a send may wait this long for its rate limit; longer and the row goes back to
        # the queue until its slot, so the wait cannot outlast the lease
        self.max_wait_s = lease_s - 2 * timeout_s
        self.now = now
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[asyncio.Task[None], Claimed] = {}
        # outcomes of concurrent sends are stored together, one transaction per round
        self._outcomes: GroupCommit[tuple[Claimed, Mapping[str, Any]], bool] = GroupCommit(
            repo.record_many
        )

    # -- enqueue -----------------------------------------------------------------------------

    async def enqueue_many(self, items: Sequence[Item]) -> int:
        """Persist notifications (repeated idempotency keys are ignored), then wake the loop.

        Return how many were new.
        """
        now = self.now()
        for i in items:
            if i.role not in ROLES:
                raise ValueError(f"a notification's role is one of {ROLES}, not {i.role!r}")
        rows = [
            {
                "tenant_id": i.tenant_id,
                "idempotency_key": i.idempotency_key,
                "receiver": i.receiver,
                "integration": i.integration,
                "kind": i.request.kind,
                "target": i.request.target[:500],
                "group_key": i.group_key,
                "fingerprints": sorted(i.fingerprints),
                "alert_status": i.alert_status,
                "request": i.request.to_json(),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "order_key": order_key(i.receiver, i.integration, i.group_key),
                "role": i.role,
            }
            for i in items
        ]
        new = await self.repo.enqueue_many(rows)
        if new:
            self._wake.set()
        return len(new)

    async def enqueue(self, items: Sequence[Item]) -> None:
        """enqueue_many for callers that need no count (the alerting service)."""
        await self.enqueue_many(items)

    def wake(self) -> None:
        """Look for due notifications now (after a dead one was put back in the queue)."""
        self._wake.set()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="notification outbox")

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop claiming; give sends in flight `grace_s` (default: the send timeout) to end.

        Sends still running then are cancelled and handed back to the queue (they may have
        reached the receiver: it sees them again, as after a crash).
        """
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=grace_s or self.timeout_s)
        cut = dict(self._inflight)
        for task in cut:
            task.cancel()
        await asyncio.gather(*cut, return_exceptions=True)
        for claim in cut.values():
            try:
                await self.repo.release(claim, self.now())
            except Exception as exc:  # the lease lapses anyway
                log.warning("could not hand back a notification", id=claim.id, error=repr(exc))

    async def prune(self, now: float) -> int:
        """Delete sent notifications older than the retention; return how many."""
        self._pruned_at = now
        removed = await self.repo.prune_sent(now - self.retention_s)
        if removed:
            log.info("pruned sent notifications", count=removed)
        return removed

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before claiming: a wake-up during the round is kept
            try:
                if self.now() - self._pruned_at >= PRUNE_EVERY_S:
                    await self.prune(self.now())
                started = await self._claim_and_start(self.now())
                wait = await self._idle_wait()
                if not started:  # due rows may be held by another worker: do not spin
                    wait = max(wait, MIN_IDLE_S)
            except Exception as exc:  # the database is down: try again later
                log.error("outbox round failed", error=f"{type(exc).__name__}: {exc}")
                wait = self.poll_s
            if wait > 0:  # asyncio.timeout: wait_for can swallow stop()'s cancel on 3.11
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()

    async def _idle_wait(self) -> float:
        if len(self._inflight) >= self.concurrency:
            return self.poll_s  # a finishing send wakes the loop
        due = await self.repo.next_due()
        if due is None:
            return self.poll_s
        return max(0.0, min(self.poll_s, due - self.now()))

    # -- one round ---------------------------------------------------------------------------

    async def run_once(self, now: float) -> int:
        """Claim what is due at `now`, send it and record the outcomes; return how many."""
        tasks = await self._claim_and_start(now)
        await asyncio.gather(*tasks)
        return len(tasks)

    async def _claim_and_start(self, now: float) -> list[asyncio.Task[None]]:
        self.limiter.forget_idle(now)
        free = self.concurrency - len(self._inflight)
        claims = await self.repo.claim(now, self.lease_s, free)
        tasks = []
        for claim in claims:
            task = asyncio.create_task(self._send(claim), name=f"notification {claim.id}")
            self._inflight[task] = claim
            task.add_done_callback(self._finished)
            tasks.append(task)
        return tasks

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.pop(task, None)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("notification send failed", error=repr(task.exception()))

    async def _send(self, claim: Claimed) -> None:
        key = target_key(claim.kind, claim.request)
        now = self.now()
        if self.limiter.ready_at(claim.kind, key, now) - now > self.max_wait_s:
            await self.repo.release(claim, self.limiter.ready_at(claim.kind, key, now))
            return
        at = self.limiter.reserve(claim.kind, key, now)
        if at > now:
            await asyncio.sleep(at - now)
        attempts = claim.attempts + 1
        first = claim.first_attempt_at if claim.first_attempt_at is not None else self.now()
        result = await self._deliver(claim)
        decision = self.policy.decide(
            attempts, self.now(), result, seed=str(claim.id), first_attempt_at=first
        )
        await self._record(claim, attempts, result, decision, first)

    async def _deliver(self, claim: Claimed) -> Delivered:
        started = time.perf_counter()

        def elapsed_ms() -> float:
            return (time.perf_counter() - started) * 1000

        try:
            request = OutboundRequest.from_json(claim.request)
            if not request.idempotency_key:
                request = dataclasses.replace(request, idempotency_key=claim.idempotency_key)
            # the sender has its own timeout; this one only stops a sender that hangs
            # from holding the row past its lease
            async with asyncio.timeout(self.timeout_s * 1.5):
                return await self.deliver(request, timeout=self.timeout_s)
        except TimeoutError:
            limit = self.timeout_s * 1.5
            return _Crashed(f"the sender did not return within {limit:g}s", elapsed_ms())
        except Exception as exc:
            log.exception("notification deliver raised", id=claim.id)
            return _Crashed(f"{type(exc).__name__}: {exc}", elapsed_ms())

    async def _record(
        self, claim: Claimed, attempts: int, result: Delivered, decision: Decision, first: float
    ) -> None:
        now = self.now()
        values: dict[str, object] = {
            "attempts": attempts,
            "first_attempt_at": first,
            "last_attempt_at": now,
            "last_status_code": result.status_code,
            "latency_ms": result.latency_ms,
            "last_error": decision.reason,
        }
        if decision.outcome == "sent":
            values.update(status="sent", sent_at=now)
        elif decision.outcome == "retry":
            assert decision.retry_at is not None
            values.update(status="pending", next_attempt_at=decision.retry_at)
        else:
            values.update(status="dead")
            log.warning("notification dead", id=claim.id, reason=decision.reason)
        if not await self._outcomes.submit((claim, values)):
            log.warning("notification lease lapsed before its result was stored", id=claim.id)
