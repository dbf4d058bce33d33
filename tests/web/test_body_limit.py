"""BodyLimit, the plain ASGI middleware that caps request bodies per route, and the young
collection that follows a large refused body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request, Response
from starlette.types import Message

from tenantwatch.web.body_limit import LARGE_BODY, BodyLimit, CollectSoon


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def build(collector: CollectSoon | None = None, default: int = 1000) -> tuple[FastAPI, list[int]]:
    app = FastAPI()
    reads: list[int] = []

    @app.post("/small")
    async def small(request: Request) -> Response:
        body = await request.body()
        reads.append(len(body))
        return Response(status_code=400 if body.startswith(b"bad") else 200)

    @app.put("/big/{rest:path}")
    async def big(request: Request, rest: str) -> Response:
        reads.append(len(await request.body()))
        return Response(status_code=200)

    app.add_middleware(
        BodyLimit,
        default=default,
        routes={("PUT", "/big/{rest:path}"): 5000},
        collector=collector or CollectSoon(),
    )
    return app, reads


async def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_bodies_up_to_the_cap_are_read_whole() -> None:
    app, reads = build()
    async with await client_for(app) as c:
        assert (await c.post("/small", content=b"x" * 1000)).status_code == 200
        assert (await c.put("/big/a/b", content=b"x" * 5000)).status_code == 200
    assert reads == [1000, 5000]


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    app, reads = build()
    async with await client_for(app) as c:
        r = await c.post("/small", content=b"x" * 1001)
    assert r.status_code == 413
    assert r.json() == {"detail": "the request body is larger than 1000 bytes; send less at once"}
    assert r.headers["connection"] == "close"
    assert reads == []


async def test_a_chunked_body_is_refused_once_past_the_cap() -> None:
    app, _ = build()
    received: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(1000):
            received.append(1)
            yield b"x" * 1000

    async with await client_for(app) as c:
        r = await c.put("/big/x", content=chunks())
    assert r.status_code == 413
    assert "larger than 5000 bytes" in r.text


async def test_routes_get_their_own_cap_by_method_and_template() -> None:
    app, _ = build()
    async with await client_for(app) as c:
        assert (await c.put("/big/deep/path/here", content=b"x" * 4000)).status_code == 200
        assert (await c.put("/big/x", content=b"x" * 5001)).status_code == 413


async def test_the_cap_is_read_from_the_content_length_header_only_when_it_is_a_number() -> None:
    app, _ = build()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * 10, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/small",
        "raw_path": b"/small",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"content-length", b"ten")],
        "server": ("t", 80),
        "client": ("c", 1),
        "http_version": "1.1",
        "app": app,
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 200


async def test_a_large_refused_body_is_followed_by_one_young_collection() -> None:
    clock = FakeClock()
    collector = CollectSoon(delay_s=0.01, min_interval_s=5.0, clock=clock)
    app, _ = build(collector, default=4 * LARGE_BODY)
    async with await client_for(app) as c:
        # a small refusal, or a large body that was taken: nothing to collect
        assert (await c.post("/small", content=b"bad")).status_code == 400
        assert (await c.post("/small", content=b"x" * LARGE_BODY)).status_code == 200
        await asyncio.sleep(0.05)
        assert collector.collections == 0
        assert (await c.post("/small", content=b"bad" * LARGE_BODY)).status_code == 400
        assert (await c.post("/small", content=b"x" * 5 * LARGE_BODY)).status_code == 413
        await asyncio.sleep(0.05)
        assert collector.collections == 1  # two refusals close together, one collection
        clock.now += 5.0
        assert (await c.post("/small", content=b"bad" * LARGE_BODY)).status_code == 400
        await asyncio.sleep(0.05)
        assert collector.collections == 2
