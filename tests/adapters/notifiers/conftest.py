"""A loopback HTTP receiver that records what the senders post."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from tenantwatch.adapters.notifiers import Notifiers


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records requests; answers with `status`, `headers` and `body` after `delay` seconds."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            Received(request.method, request.path_qs, dict(request.headers), await request.read())
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status, headers=self.headers, body=self.body)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
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


@pytest.fixture
async def notifiers() -> AsyncIterator[Notifiers]:
    """Senders that may reach loopback (where the test receivers listen)."""
    n = Notifiers(allow_private=["127.0.0.1"])
    try:
        yield n
    finally:
        await n.close()
