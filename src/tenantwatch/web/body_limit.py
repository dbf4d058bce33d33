"""Plain ASGI middleware: a request body is read up to its route's cap, then refused with 413.

The cap is looked up when the endpoint first reads the body, once routing has chosen the
route: a Content-Length over the cap is refused before any of the body is read, and a
chunked body as soon as the bytes read pass it, so a 200 MB upload costs no more than the
cap. What a refused large body made (parsed JSON, validation errors, tracebacks: cycles)
is collected soon after, while it is still young: with the raised thresholds of
`tenantwatch serve` (cli/serve.py `tune_gc`) it could otherwise be promoted to the oldest
generation and stay until a full collection, which is rare and, on a big heap, itself a
stall.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Mapping

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantwatch.domain.text import size_text
from tenantwatch.web.middleware import route_template

# A refused body at least this large is followed by a collection of the young generations.
LARGE_BODY = 256 << 10


class BodyTooLarge(HTTPException):
    """The body passed its route's cap; the connection is closed after the answer, so the
    rest of the body is never read."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than {size_text(limit)}; send less at once",
            headers={"Connection": "close"},
        )
        self.limit = limit


class CollectSoon:
    """Collect the young generations (0 and 1) shortly after it is asked for, at most once
    every min_interval_s seconds. Their size is bounded by the thresholds, so this takes
    milliseconds however much the store holds."""

    def __init__(
        self,
        *,
        delay_s: float = 0.2,
        min_interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        generation: int = 1,
    ) -> None:
        self.generation = generation
        self.delay_s = delay_s
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.collections = 0
        self._last = -min_interval_s
        self._pending: asyncio.TimerHandle | None = None

    def request(self) -> None:
        if self._pending is not None:
            return
        wait = max(self.delay_s, self._last + self.min_interval_s - self.clock())
        self._pending = asyncio.get_running_loop().call_later(wait, self._collect)

    def _collect(self) -> None:
        self._pending = None
        self._last = self.clock()
        gc.collect(self.generation)
        self.collections += 1


class BodyLimit:
    """Caps request bodies: `routes` maps (method, route template) to a cap in bytes, and
    every other request gets `default`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        routes: Mapping[tuple[str, str], int],
        collector: CollectSoon | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.routes = dict(routes)
        self.collector = collector or CollectSoon()

    def cap(self, scope: Scope) -> int:
        return self.routes.get((scope["method"], route_template(scope)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int | None = None
        read = 0
        status = 0

        async def limited_receive() -> Message:
            nonlocal limit, read
            if limit is None:
                limit = self.cap(scope)
                declared = _content_length(scope)
                if declared is not None and declared > limit:
                    raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        finally:
            if status >= 400 and read >= LARGE_BODY:
                self.collector.request()


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
