"""Outbox test helpers: a loopback receiver, an aiohttp deliver, and the kill -9 child.

Run as a script (`python outbox_child.py DATABASE_URL RECEIVER_URL COUNT [groups]`) it
enqueues COUNT webhook notifications to RECEIVER_URL (with `groups`: one "firing" each for
COUNT alert groups), prints "enqueued", and runs an outbox worker until it is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.alertmanager.notify_payloads import OutboundRequest
from tenantwatch.domain.outbox import RetryPolicy
from tenantwatch.workers.outbox import OutboxWorker

T0 = 1_800_000_000.0  # the tests' start time, seconds


class Clock:
    """A settable clock for OutboxWorker(now=...)."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


FAST = RetryPolicy(max_attempts=8, base_s=0.05, factor=2.0, cap_s=0.3)


@dataclass(frozen=True, slots=True)
class Note:
    """One notification to enqueue (the shape alertmanager.outgoing.Outgoing has)."""

    idempotency_key: str
    tenant_id: str | None
    receiver: str
    integration: str
    group_key: str
    alert_status: str
    request: OutboundRequest
    fingerprints: tuple[str, ...] = ()
    role: str = "state"


def note(
    url: str,
    key: str,
    *,
    kind: str = "webhook",
    tenant: str | None = "alpha",
    receiver: str = "team",
    secret: str = "s3cret-token",  # noqa: S107  (a test value)
    group: str | None = None,
    status: str = "firing",
    role: str = "state",
) -> Note:
    """A notification POSTing {"key": key} to url, with an Authorization secret, for the
    alert group `group` (by default a group of its own, named after the key)."""
    body = {"key": key}
    request = OutboundRequest(
        kind=kind,
        method="POST",
        url=url,
        headers=(("Authorization", f"Bearer {secret}"), ("Content-Type", "application/json")),
        body=json.dumps(body).encode(),
        json=body,
        smtp=None,
        target=url.rsplit("/", 1)[0] + "/<redacted>",
    )
    group_key = f'{{}}:{{group="{group or key}"}}'
    return Note(key, tenant, receiver, f"{kind}/0", group_key, status, request, role=role)


@dataclass(frozen=True, slots=True)
class Result:
    ok: bool
    retryable: bool
    status_code: int | None
    retry_after_s: float | None
    error: str | None
    latency_ms: float


async def http_deliver(request: OutboundRequest, *, timeout: float) -> Result:
    """Send the stored request with aiohttp, adding the Idempotency-Key header."""
    started = time.perf_counter()
    headers = dict(request.headers)
    headers.setdefault("Idempotency-Key", request.idempotency_key)

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.request(request.method, request.url, data=request.body, headers=headers) as r,
        ):
            await r.read()
            retry_after = r.headers.get("Retry-After")
            return Result(
                ok=200 <= r.status < 300,
                retryable=r.status == 429 or r.status >= 500,
                status_code=r.status,
                retry_after_s=float(retry_after) if retry_after else None,
                error=None if r.status < 300 else f"HTTP {r.status}: {r.reason}",
                latency_ms=elapsed(),
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Result(False, True, None, None, f"{type(exc).__name__}: {exc}", elapsed())


@dataclass
class Arrival:
    at: float  # time.time() when the request arrived
    key: str  # its Idempotency-Key header
    authorization: str
    path: str


Respond = Callable[[Arrival], tuple[int, dict[str, str]]]


def always_ok(_arrival: Arrival) -> tuple[int, dict[str, str]]:
    return 200, {}


@dataclass
class Receiver:
    """Records each request's arrival; answers what `respond` says after `delay` seconds."""

    respond: Respond = always_ok
    delay: float = 0.0
    port: int = 0
    arrivals: list[Arrival] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def keys(self) -> set[str]:
        return {a.key for a in self.arrivals}

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        arrival = Arrival(
            time.time(),
            request.headers.get("Idempotency-Key", ""),
            request.headers.get("Authorization", ""),
            request.path,
        )
        self.arrivals.append(arrival)
        if self.delay:
            await asyncio.sleep(self.delay)
        status, headers = self.respond(arrival)
        return web.Response(status=status, headers=headers, text="answer")

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.arrivals)} requests, wanted {count}")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def receiving(rec: Receiver, port: int = 0) -> AsyncIterator[Receiver]:
    """Serve rec on 127.0.0.1 (a free port unless one is given) until the block ends."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rec.port = runner.addresses[0][1]
    try:
        yield rec
    finally:
        await runner.cleanup()


def firing_notes(receiver_url: str, count: int) -> list[Note]:
    """One "firing" notification for each of `count` groups g00, g01, ..."""
    return [
        note(f"{receiver_url}/hook", f"g{i:02d}-firing", group=f"g{i:02d}") for i in range(count)
    ]


async def _child(database_url: str, receiver_url: str, count: int, mode: str) -> None:
    engine = create_engine(database_url)
    worker = OutboxWorker(
        SqlNotificationRepo(engine),
        http_deliver,
        policy=FAST,
        concurrency=8,
        lease_s=3.0,
        timeout_s=1.0,
        poll_s=0.2,
    )
    if mode == "groups":
        await worker.enqueue_many(firing_notes(receiver_url, count))
    else:
        await worker.enqueue_many(
            [note(f"{receiver_url}/hook", f"key-{i:03d}") for i in range(count)]
        )
    print("enqueued", flush=True)
    worker.start()
    await asyncio.Event().wait()  # until SIGKILL


if __name__ == "__main__":
    asyncio.run(_child(sys.argv[1], sys.argv[2], int(sys.argv[3]), "".join(sys.argv[4:5])))
