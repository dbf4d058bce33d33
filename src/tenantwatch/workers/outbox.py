"""The notification outbox worker: persisted first, then sent, retried, or dead-lettered.

`enqueue` writes notifications to the database before anything is sent (repeats of an
idempotency key are ignored) and wakes the loop. The loop claims due notifications with a
lease, waits for each target's rate limit, sends them concurrently and records the result:
sent, retry at a backoff time (honouring Retry-After), or dead with the reason. A worker
killed mid-send leaves rows `sending`; their lease lapses and they are sent again
(at least once; receivers can deduplicate on the idempotency key header).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import structlog

from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.domain.notify_payloads import OutboundRequest
from tenantwatch.domain.outbox import RateLimiter, RetryPolicy, next_attempt

log = structlog.get_logger(__name__)


class Result(Protocol):
    ok: bool
    retryable: bool
    status_code: int | None
    retry_after_s: float | None
    error: str | None
    latency_ms: float


Deliver = Callable[..., Awaitable[Any]]


class Item(Protocol):
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
    def request(self) -> OutboundRequest: ...


class OutboxWorker:
    def __init__(
        self,
        repo: SqlNotificationRepo,
        deliver: Deliver,
        *,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        concurrency: int = 16,
        lease_s: float = 60.0,
        timeout_s: float = 10.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.repo = repo
        self.deliver = deliver
        self.policy = policy or RetryPolicy()
        self.limiter = limiter or RateLimiter()
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.timeout_s = timeout_s
        self.now = now
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sem = asyncio.Semaphore(concurrency)
        self._inflight: set[asyncio.Task[None]] = set()

    async def enqueue(self, items: Sequence[Item]) -> None:
        now = self.now()
        await self.repo.enqueue_many(
            [
                {
                    "tenant_id": i.tenant_id,
                    "idempotency_key": i.idempotency_key,
                    "receiver": i.receiver,
                    "integration": i.integration,
                    "kind": i.request.kind,
                    "target": i.request.target[:500],
                    "group_key": i.group_key,
                    "alert_status": i.alert_status,
                    "request": i.request.to_json(),
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for i in items
            ]
        )
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="notification outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._inflight):
            task.cancel()
        for task in list(self._inflight):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self) -> None:
        while True:
            try:
                claimed = await self.run_once(self.now())
            except Exception as exc:
                log.exception("outbox round failed", error=repr(exc))
                claimed = 0
            if claimed:
                continue
            due = await self._next_due()
            wait = 5.0 if due is None else max(0.0, min(5.0, due - self.now()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _next_due(self) -> float | None:
        try:
            return await self.repo.next_due()
        except Exception:
            return None

    async def run_once(self, now: float) -> int:
        """Claim what is due and start sending it; return how many were claimed."""
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            await asyncio.sleep(0.01)
            return 0
        rows = await self.repo.claim(now, self.lease_s, free)
        for row in rows:
            task = asyncio.create_task(self._send(row))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(rows)

    async def drain(self) -> None:
        """Wait for the sends in flight (tests)."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def _send(self, row: Mapping[str, Any]) -> None:
        async with self._sem:
            request = OutboundRequest.from_json(row["request"])
            at = self.limiter.reserve(row["kind"], row["target"], self.now())
            if at > self.now():
                await asyncio.sleep(at - self.now())
            attempts = int(row["attempts"]) + 1
            try:
                result = await self.deliver(request, timeout=self.timeout_s)
            except Exception as exc:  # a sender bug must not lose the notification
                log.exception("notification send crashed", error=repr(exc))
                await self.repo.record(
                    row["id"],
                    status="pending",
                    attempts=attempts,
                    next_attempt_at=self.now() + self.policy.backoff(attempts, str(row["id"])),
                    last_attempt_at=self.now(),
                    last_error=f"{type(exc).__name__}: {exc}",
                )
                return
            now = self.now()
            common = {
                "attempts": attempts,
                "last_attempt_at": now,
                "last_status_code": result.status_code,
                "latency_ms": result.latency_ms,
            }
            if result.ok:
                await self.repo.record(
                    row["id"], status="sent", sent_at=now, last_error=None, **common
                )
                return
            decision = next_attempt(
                self.policy,
                attempts,
                now,
                str(row["id"]),
                retryable=result.retryable,
                retry_after_s=result.retry_after_s,
                status_code=result.status_code,
                error=result.error or f"HTTP {result.status_code}",
            )
            if decision.retry_at is None:
                log.warning("notification dead", id=row["id"], reason=decision.reason)
                await self.repo.record(
                    row["id"], status="dead", last_error=decision.reason, **common
                )
            else:
                await self.repo.record(
                    row["id"],
                    status="pending",
                    next_attempt_at=decision.retry_at,
                    last_error=decision.reason,
                    **common,
                )
                self._wake.set()
