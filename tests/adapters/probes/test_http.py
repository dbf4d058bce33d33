"""The http probe against real loopback servers (plain and TLS) that change while running."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from tenantwatch.adapters.probes.http import HttpConfig, HttpProber


@dataclass
class Behaviour:
    status: int = 200
    delay_s: float = 0.0
    body: bytes = b'{"ok": true}'


async def _serve(app: web.Application, ssl_ctx: ssl.SSLContext | None = None) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_ctx)
    await site.start()
    return runner


def _port(runner: web.AppRunner) -> int:
    server = runner.server
    assert runner.addresses
    _ = server
    return int(runner.addresses[0][1])


def _app(b: Behaviour) -> web.Application:
    async def main(request: web.Request) -> web.Response:
        await asyncio.sleep(b.delay_s)
        return web.Response(status=b.status, body=b.body)

    async def auth(request: web.Request) -> web.Response:
        ok = request.headers.get("Authorization") in ("Bearer t0k3n", "Basic dTpwYXNz")
        return web.Response(status=200 if ok else 401)

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/")

    app = web.Application()
    app.router.add_get("/", main)
    app.router.add_get("/auth", auth)
    app.router.add_post("/echo", echo)
    app.router.add_get("/moved", moved)
    return app


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Behaviour]]:
    b = Behaviour()
    runner = await _serve(_app(b))
    yield f"http://127.0.0.1:{_port(runner)}", b
    await runner.cleanup()


@pytest.fixture
async def prober() -> AsyncIterator[HttpProber]:
    async with HttpProber() as p:
        yield p


async def test_status_body_and_phases(server: tuple[str, Behaviour], prober: HttpProber) -> None:
    url, b = server
    result = await prober.probe(HttpConfig(url + "/"))
    assert result.ok and result.status_code == 200 and result.body == b'{"ok": true}'
    assert result.body_size == 12 and result.connected
    assert {"connect", "processing", "transfer"} <= set(result.phases)
    assert all(v >= 0 for v in result.phases.values())
    assert sum(result.phases.values()) <= result.duration_s + 0.001
    b.status = 503
    failed = await prober.probe(HttpConfig(url + "/"))
    assert not failed.ok and failed.status_code == 503
    assert failed.error == "status 503 not in expected 200-399"
    ok503 = await prober.probe(HttpConfig(url + "/", expected_status=((200, 200), (503, 503))))
    assert ok503.ok


async def test_timeout(server: tuple[str, Behaviour], prober: HttpProber) -> None:
    url, b = server
    b.delay_s = 2
    result = await prober.probe(HttpConfig(url + "/", timeout_s=0.2))
    assert not result.ok and result.error == "timed out after 0.2 s"
    assert result.duration_s < 1.5


async def test_refused(prober: HttpProber) -> None:
    from tests.support import free_port

    result = await prober.probe(HttpConfig(f"http://127.0.0.1:{free_port()}/"))
    assert not result.ok and result.error == "connection refused" and not result.connected


async def test_auth_and_body(server: tuple[str, Behaviour], prober: HttpProber) -> None:
    url, _ = server
    assert (await prober.probe(HttpConfig(url + "/auth"))).status_code == 401
    bearer = await prober.probe(HttpConfig(url + "/auth", bearer_token="t0k3n"))
    basic = await prober.probe(HttpConfig(url + "/auth", basic_auth=("u", "pass")))
    assert bearer.ok and basic.ok
    for r in (bearer, basic):
        assert "t0k3n" not in repr(r.details) and "pass" not in repr(r.details)
    echo = await prober.probe(HttpConfig(url + "/echo", method="POST", body=b"hello"))
    assert echo.body == b"hello"


async def test_redirects(server: tuple[str, Behaviour], prober: HttpProber) -> None:
    url, _ = server
    followed = await prober.probe(HttpConfig(url + "/moved"))
    assert followed.status_code == 200 and followed.details["redirects"] == 1
    off = await prober.probe(
        HttpConfig(url + "/moved", follow_redirects=False, expected_status=((200, 299),))
    )
    assert off.status_code == 302 and not off.ok
    allowed = await prober.probe(HttpConfig(url + "/moved", follow_redirects=False))
    assert allowed.ok  # the default expectation is 200-399


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def _tls_server(ca: trustme.CA, not_after: datetime) -> web.AppRunner:
    cert = ca.issue_cert("127.0.0.1", "localhost", not_after=not_after)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return await _serve(_app(Behaviour()), ctx)


async def test_https_reports_certificate_expiry(
    ca: trustme.CA, tmp_path: Path, prober: HttpProber
) -> None:
    expiry = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    runner = await _tls_server(ca, expiry)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    try:
        url = f"https://127.0.0.1:{_port(runner)}/"
        trusted = await prober.probe(HttpConfig(url, ca_file=str(ca_file)))
        assert trusted.ok, trusted.error
        assert trusted.certificate_expiry is not None
        assert abs((trusted.certificate_expiry - expiry).total_seconds()) < 60
        assert trusted.details["tls_version"].startswith("TLS")
        assert {"connect", "tls", "processing", "transfer"} <= set(trusted.phases)
        assert sum(trusted.phases.values()) <= trusted.duration_s + 0.001
        untrusted = await prober.probe(HttpConfig(url))
        assert not untrusted.ok and "certificate verify failed" in (untrusted.error or "")
        insecure = await prober.probe(HttpConfig(url, verify_tls=False))
        assert insecure.ok and insecure.certificate_expiry is not None
    finally:
        await runner.cleanup()


async def test_an_expired_certificate_fails_verification(
    ca: trustme.CA, tmp_path: Path, prober: HttpProber
) -> None:
    runner = await _tls_server(ca, datetime.now(UTC) - timedelta(days=1))
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    try:
        url = f"https://127.0.0.1:{_port(runner)}/"
        result = await prober.probe(HttpConfig(url, ca_file=str(ca_file)))
        assert not result.ok and "expired" in (result.error or "")
    finally:
        await runner.cleanup()


def test_bad_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        HttpConfig("ftp://example.com/")
    with pytest.raises(ValueError, match="\\*\\*\\*"):
        HttpConfig("gopher://u:secret@x/")


async def test_errors_never_show_the_url_password(prober: HttpProber) -> None:
    from tests.support import free_port

    result = await prober.probe(HttpConfig(f"http://user:hunter2@127.0.0.1:{free_port()}/x"))
    assert not result.ok
    assert "hunter2" not in repr(result)
