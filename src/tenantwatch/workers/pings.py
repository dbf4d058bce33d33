"""Heartbeat ping intake: limit, resolve the token, queue the ping, commit pings in groups.

A ping is answered only after the group it joined is committed, so an accepted ping is
never lost; grouping (up to every GROUP_S or GROUP_MAX pings) is what lets one process
take thousands of pings per second on SQLite. Each token has its own token bucket
(domain/ping_limit.py) in this process, checked before the token is looked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from tenantwatch.domain.checks import Check
from tenantwatch.domain.heartbeat import PingKind
from tenantwatch.domain.ping_limit import Bucket, PingLimited, take
from tenantwatch.services.checks import CheckService

log = structlog.get_logger(__name__)

GROUP_S = 0.02
GROUP_MAX = 2000
KNOWN_TTL_S = 30.0
UNKNOWN_TTL_S = 5.0
MAX_BUCKETS = 100_000


_Ping = tuple[Check, datetime, PingKind, int | None, str | None]


class PingIntake:
    def __init__(
        self,
        service: CheckService,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        burst: int = 60,
        rate: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.clock = clock
        self.burst = burst
        self.rate = rate
        self.monotonic = monotonic
        self._buckets: dict[str, Bucket] = {}
        self._tokens: dict[str, tuple[float, Check | None]] = {}
        self._queue: list[tuple[_Ping, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.accepted = 0

    async def check_of(self, token: str) -> Check | None:
        now = time.monotonic()
        cached = self._tokens.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        check = await self.service.by_token(token)
        ttl = KNOWN_TTL_S if check is not None else UNKNOWN_TTL_S
        if len(self._tokens) > 100_000:
            self._tokens.clear()
        self._tokens[token] = (now + ttl, check)
        return check

    def limit(self, token: str) -> None:
        """Take one ping from the token's bucket; PingLimited when it is empty."""
        now = self.monotonic()
        bucket, wait = take(self._buckets.get(token), now, burst=self.burst, rate=self.rate)
        if len(self._buckets) >= MAX_BUCKETS and token not in self._buckets:
            self._forget_full_buckets(now)
        self._buckets[token] = bucket
        if wait is not None:
            raise PingLimited(wait)

    def _forget_full_buckets(self, now: float) -> None:
        """Keep the most spent half of the buckets: a refilled one starts full again anyway,
        and a flood of new tokens cannot reset the bucket of a token being limited."""
        burst, rate = self.burst, self.rate
        level = {t: b.level(now, burst=burst, rate=rate) for t, b in self._buckets.items()}
        spent = sorted((t for t, v in level.items() if v < burst), key=level.__getitem__)
        self._buckets = {t: self._buckets[t] for t in spent[: MAX_BUCKETS // 2]}

    async def ping(
        self, token: str, kind: PingKind, exit_status: int | None, remote: str | None
    ) -> Check | None:
        """Record a ping; return its check, or None for an unknown token. PingLimited when
        the token was pinged more often than its bucket allows."""
        self.limit(token)
        check = await self.check_of(token)
        if check is None:
            return None
        self._ensure_running()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(((check, self.clock(), kind, exit_status, remote), done))
        if len(self._queue) >= GROUP_MAX:
            self._wake.set()
        await done
        self.accepted += 1
        return check

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._commit_forever(), name="ping intake")

    async def _commit_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), GROUP_S)
            self._wake.clear()
            if not self._queue:
                continue
            group, self._queue = self._queue[:GROUP_MAX], self._queue[GROUP_MAX:]
            try:
                await self.service.save_pings([p for p, _ in group])
            except Exception as exc:
                log.error("cannot store pings", error=repr(exc), pings=len(group))
                for _, fut in group:
                    if not fut.done():
                        fut.set_exception(RuntimeError("pings could not be stored"))
                continue
            for _, fut in group:
                if not fut.done():
                    fut.set_result(None)

    def forget(self, token: str | None = None) -> None:
        """Drop cached tokens (after a check changed)."""
        if token is None:
            self._tokens.clear()
        else:
            self._tokens.pop(token, None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
