"""Forward ingested samples to a remote-write 1.0 endpoint, in batches, with retries.

The queue is bounded and drops its oldest samples when full, so a slow or dead remote never
blocks ingestion or grows memory without limit. 5xx, 429 and connection errors are retried
with exponential backoff (Retry-After honoured); any other 4xx drops the batch with a
logged reason, as Prometheus' own remote-write queue does.
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

import aiohttp
import structlog

from tenantwatch.metrics.remote import Auth, auth_headers, scrub, secrets_of, with_url_credentials
from tenantwatch.metrics.remote_write import TimeSeries, encode_write_request
from tenantwatch.types import Labels, Sample

log = structlog.get_logger(__name__)

WRITE_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "tenantwatch-remote-write",
}


@dataclass
class ForwarderStats:
    """Samples by fate: sent (acknowledged), failed (rejected or undeliverable), dropped
    (pushed out of the full queue); retries counts retried requests."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0
    retries: int = 0


class Outcome(Enum):
    SENT = "sent"
    RETRY = "retry"
    REJECT = "reject"


def build_write_request(samples: Sequence[Sample]) -> list[TimeSeries]:
    """Samples grouped into one TimeSeries per label set, each in time order."""
    grouped: dict[Labels, list[tuple[int, float]]] = {}
    for labels, t, v in samples:
        grouped.setdefault(labels, []).append((t, v))
    return [TimeSeries(labels, tuple(sorted(points))) for labels, points in grouped.items()]


def classify(status: int) -> Outcome:
    """What to do after an HTTP status: 2xx sent, 5xx and 429 retry, other 4xx reject."""
    if 200 <= status < 300:
        return Outcome.SENT
    if status == 429 or status >= 500:
        return Outcome.RETRY
    return Outcome.REJECT


def retry_after_seconds(header: str | None, now: float) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now, or None."""
    if not header:
        return None
    text = header.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def backoff_delay(
    attempt: int, min_backoff: float, max_backoff: float, retry_after: float | None = None
) -> float:
    """Seconds to wait before retry number attempt (1-based): doubling, capped at
    max_backoff; a server's Retry-After wins when it asks for longer, up to 10 x max."""
    delay: float = min(max_backoff, min_backoff * 2.0 ** (attempt - 1))
    if retry_after is not None:
        delay = max(delay, min(retry_after, 10 * max_backoff))
    return delay


class RemoteWriteForwarder:
    """Batches samples and sends them to `url` with remote-write 1.0.

    Call enqueue/enqueue_many from the event loop's thread; `run(stop)` sends until stop
    is set, then spends up to `shutdown_grace` seconds delivering what is still queued.
    """

    def __init__(
        self,
        url: str,
        auth: Auth = None,
        *,
        batch_size: int = 2000,
        flush_interval: float = 1.0,
        max_queue: int = 200_000,
        timeout: float = 30.0,
        min_backoff: float = 0.03,
        max_backoff: float = 5.0,
        shutdown_grace: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if batch_size < 1 or max_queue < batch_size:
            raise ValueError(
                f"batch_size ({batch_size}) must be at least 1 and at most max_queue ({max_queue})"
            )
        self._secrets = secrets_of(url, auth)
        self.url, self.auth = with_url_credentials(url, auth)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.timeout = timeout
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.shutdown_grace = shutdown_grace
        self.stats = ForwarderStats()
        self._queue: collections.deque[Sample] = collections.deque(maxlen=max_queue)
        self._wake = asyncio.Event()
        self._session = session
        self._where = self.url
        self._dropped_logged = 0
        self._deadline: float | None = None

    @property
    def queued(self) -> int:
        return len(self._queue)

    def enqueue(self, labels: Labels, t: int, v: float) -> None:
        """Queue one sample; when the queue is full the oldest sample is dropped."""
        if len(self._queue) == self._queue.maxlen:
            self.stats.dropped += 1
        self._queue.append((labels, t, v))
        if len(self._queue) >= self.batch_size:
            self._wake.set()

    def enqueue_many(self, samples: Iterable[Sample]) -> None:
        for labels, t, v in samples:
            self.enqueue(labels, t, v)

    async def run(self, stop: asyncio.Event) -> None:
        """Send batches until stop is set, then drain the queue within shutdown_grace."""
        own = self._session is None
        session = self._session or aiohttp.ClientSession()
        try:
            while not stop.is_set():
                await _wait_any(stop, self._wake, seconds=self.flush_interval)
                self._wake.clear()
                await self._send_queued(session, stop, only_full=not stop.is_set())
            loop = asyncio.get_running_loop()
            self._deadline = self._deadline or loop.time() + self.shutdown_grace
            await self._send_queued(session, stop, only_full=False)
        finally:
            if own:
                await session.close()
            self._deadline = None

    async def _send_queued(
        self, session: aiohttp.ClientSession, stop: asyncio.Event, *, only_full: bool
    ) -> None:
        """Send what is queued now: full batches, then the rest unless only_full is set
        and a full batch was sent (so a trickle still goes out every flush_interval)."""
        self._log_drops()
        budget = len(self._queue)
        sent_full = False
        while budget > 0 and self._queue:
            if only_full and sent_full and len(self._queue) < self.batch_size:
                return
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, budget))]
            budget -= len(batch)
            sent_full = sent_full or len(batch) == self.batch_size
            await self._deliver(session, batch, stop)
            if self._past_deadline():
                self._give_up_queue()
                return

    async def _deliver(
        self, session: aiohttp.ClientSession, batch: list[Sample], stop: asyncio.Event
    ) -> None:
        loop = asyncio.get_running_loop()
        body = encode_write_request(build_write_request(batch))
        attempt = 0
        while True:
            outcome, reason, retry_after = await self._post(session, body)
            if outcome is Outcome.SENT:
                self.stats.sent += len(batch)
                return
            if outcome is Outcome.REJECT:
                self.stats.failed += len(batch)
                log.warning(
                    "remote_write_rejected",
                    url=self._where,
                    samples=len(batch),
                    reason=reason,
                    hint="the batch is dropped; a 4xx will not succeed on retry",
                )
                return
            attempt += 1
            self.stats.retries += 1
            delay = backoff_delay(attempt, self.min_backoff, self.max_backoff, retry_after)
            if stop.is_set() and self._deadline is None:
                self._deadline = loop.time() + self.shutdown_grace
            if self._deadline is not None and loop.time() + delay > self._deadline:
                self.stats.failed += len(batch)
                log.warning(
                    "remote_write_gave_up", url=self._where, samples=len(batch), reason=reason
                )
                return
            log.info(
                "remote_write_retry", url=self._where, attempt=attempt, delay=delay, reason=reason
            )
            if self._deadline is None:
                await _wait_any(stop, seconds=delay)
            else:
                await asyncio.sleep(delay)

    async def _post(
        self, session: aiohttp.ClientSession, body: bytes
    ) -> tuple[Outcome, str, float | None]:
        headers = {**WRITE_HEADERS, **auth_headers(self.auth)}
        try:
            async with session.post(
                self.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                outcome = classify(resp.status)
                if outcome is Outcome.SENT:
                    return outcome, "", None
                text = " ".join((await resp.text(errors="replace")).split())[:300]
                retry_after = retry_after_seconds(resp.headers.get("Retry-After"), time.time())
                reason = scrub(f"HTTP {resp.status}: {text}", self._secrets)
                return outcome, reason, retry_after
        except TimeoutError:
            return Outcome.RETRY, f"no answer within {self.timeout:g}s", None
        except aiohttp.ClientError as exc:
            reason = scrub(str(exc) or type(exc).__name__, self._secrets)
            return Outcome.RETRY, f"unreachable: {reason}", None

    def _past_deadline(self) -> bool:
        return self._deadline is not None and asyncio.get_running_loop().time() > self._deadline

    def _give_up_queue(self) -> None:
        left = len(self._queue)
        if left:
            self._queue.clear()
            self.stats.failed += left
            log.warning(
                "remote_write_shutdown_dropped",
                url=self._where,
                samples=left,
                reason=f"not delivered within shutdown_grace ({self.shutdown_grace:g}s)",
            )

    def _log_drops(self) -> None:
        if self.stats.dropped > self._dropped_logged:
            log.warning(
                "remote_write_queue_full",
                url=self._where,
                dropped=self.stats.dropped - self._dropped_logged,
                max_queue=self._queue.maxlen,
                hint="the remote is slower than ingestion; the oldest samples were dropped",
            )
            self._dropped_logged = self.stats.dropped


async def _wait_any(*events: asyncio.Event, seconds: float) -> None:
    """Return when any event is set, or after `seconds`."""
    if any(e.is_set() for e in events):
        return
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
