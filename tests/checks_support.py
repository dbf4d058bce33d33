"""A loopback HTTP target whose behaviour tests change while checks run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from tenantwatch.config.checks_model import KIND_MODELS
from tenantwatch.config.model import CheckRunnerConfig, Config


@dataclass
class Target:
    status: int = 200
    delay_s: float = 0.0
    body: bytes = b'{"status": "healthy", "items": [1, 2]}'
    hits: int = 0
    url: str = ""
    paths: dict[str, int] = field(default_factory=dict)
    flap: bool = False  # alternate 200 and 500 per path on every request


@asynccontextmanager
async def http_target() -> AsyncIterator[Target]:
    target = Target()

    async def handle(request: web.Request) -> web.Response:
        target.hits += 1
        target.paths[request.path] = target.paths.get(request.path, 0) + 1
        if target.delay_s:
            await asyncio.sleep(target.delay_s)
        if target.flap:
            status = 200 if target.paths[request.path] % 2 else 500
            return web.Response(status=status, body=target.body)
        return web.Response(status=target.status, body=target.body)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    target.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield target
    finally:
        await runner.cleanup()


def check_model(**fields: object) -> object:
    """A validated check model, as the config or the API would build it."""
    return KIND_MODELS[str(fields["kind"])].model_validate(fields)


def loopback_config() -> Config:
    """A config whose checks made through the API may reach the loopback targets above."""
    return Config(check_runner=CheckRunnerConfig(allow_private_targets=["127.0.0.0/8"]))
