"""A loopback HTTP receiver that records what is posted to it (webhooks, Slack, PagerDuty)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records requests; answers with `status`, `headers` and `body` after `delay` seconds,
    or with `routes[path]` = (status, headers) for a path listed there."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0
    routes: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)

    def json_bodies(self) -> list[Any]:
        return [json.loads(r.body) for r in self.requests]

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.requests) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"got {len(self.requests)} requests, wanted {count}")
            await asyncio.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            Received(request.method, request.path_qs, dict(request.headers), await request.read())
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        status, headers = self.routes.get(request.path, (self.status, self.headers))
        return web.Response(status=status, headers=headers, body=self.body)


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.port = runner.addresses[0][1]
    try:
        yield rec
    finally:
        await runner.cleanup()
