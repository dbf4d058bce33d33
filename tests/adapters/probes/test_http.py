"""The http probe against real loopback servers (plain and TLS) that change while running."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from tenantwatch.adapters.probes.http import HttpConfig, HttpProber
from tenantwatch.domain.probe_result import ProbeResult
from tests.support import free_port

EPSILON = 1e-6
SECRETS = ("s3cr3t-pass", "t0k3n-value", "hunter2")


@dataclass
class Behaviour:
    """What the test server does; tests change it while the server runs."""

    status: int = 200
    delay_s: float = 0.0
    body: bytes = b'{"ok": true}'
    peers: set[tuple[str, int]] = field(default_factory=set)


def _app(b: Behaviour) -> web.Application:
    async def main(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            b.peers.add((peer[0], peer[1]))
        await asyncio.sleep(b.delay_s)
        return web.Response(status=b.status, body=b.body)

    async def auth(request: web.Request) -> web.Response:
        good = ("Bearer t0k3n-value", "Basic dXNlcjpzM2NyM3QtcGFzcw==")  # user:s3cr3t-pass
        ok = request.headers.get("Authorization") in good
        return web.Response(status=200 if ok else 401)

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=request.method.encode() + b" " + await request.read())

    async def hop(request: web.Request) -> web.Response:
        left = int(request.match_info["n"])
        raise web.HTTPFound("/" if left == 0 else f"/hop/{left - 1}")

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"first ")
        await asyncio.sleep(0.25)
        await resp.write(b"second")
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/", main)
    app.router.add_get("/auth", auth)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/hop/{n}", hop)
    app.router.add_get("/loop", loop)
    app.router.add_get("/trickle", trickle)
    return app


async def _serve(b: Behaviour, ssl_ctx: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(_app(b))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_ctx)
    await site.start()
    return runner, int(runner.addresses[0][1])


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Behaviour]]:
    b = Behaviour()
    runner, port = await _serve(b)
    yield f"http://127.0.0.1:{port}", b
    await runner.cleanup()


@pytest.fixture
async def prober() -> AsyncIterator[HttpProber]:
    async with HttpProber() as p:
        yield p


def _phases_are_sane(result: ProbeResult, keys: set[str]) -> None:
    assert keys <= set(result.phases), result.phases
    assert all(v >= 0 for v in result.phases.values()), result.phases
    assert sum(result.phases.values()) <= result.duration_s + EPSILON


def _no_secrets(result: ProbeResult) -> None:
    shown = f"{result.error} {result.details!r}"
    for secret in SECRETS:
        assert secret not in shown


async def test_a_200_passes_with_body_and_phases(
    server: tuple[str, Behaviour], prober: HttpProber
) -> None:
    url, _ = server
    result = await prober.probe(HttpConfig(url + "/"))
    assert result.ok, result.error
    assert result.error is None and result.status_code == 200 and result.connected
    assert result.body == b'{"ok": true}' and result.body_size == 12
    assert result.certificate_expiry is None
    assert result.details == {"url": url + "/", "redirects": 0}
    _phases_are_sane(result, {"connect", "processing", "transfer"})
    assert "tls" not in result.phases and "dns" not in result.phases  # IP literal, plain http


async def test_the_verdict_follows_the_server_as_it_changes(
    server: tuple[str, Behaviour], prober: HttpProber
) -> None:
    url, b = server
    assert (await prober.probe(HttpConfig(url + "/"))).ok
    b.status = 503
    failed = await prober.probe(HttpConfig(url + "/"))
    assert not failed.ok and failed.status_code == 503 and failed.connected
    assert failed.error == "status 503 not in expected 200-399"
    b.status = 200
    assert (await prober.probe(HttpConfig(url + "/"))).ok


async def test_expected_status_ranges(server: tuple[str, Behaviour], prober: HttpProber) -> None:
    url, b = server
    ranges = ((200, 200), (429, 429))
    b.status = 429
    assert (await prober.probe(HttpConfig(url + "/", expected_status=ranges))).ok
    b.status = 204
    result = await prober.probe(HttpConfig(url + "/", expected_status=ranges))
    assert not result.ok and result.error == "status 204 not in expected 200, 429"
    b.status = 404
    assert not (await prober.probe(HttpConfig(url + "/"))).ok


async def test_a_slow_server_times_out(server: tuple[str, Behaviour], prober: HttpProber) -> None:
    url, b = server
    b.delay_s = 3
    result = await prober.probe(HttpConfig(url + "/", timeout_s=0.3))
    assert not result.ok and result.error == "timed out after 0.3 s"
    assert result.connected and result.status_code is None
    assert 0.25 < result.duration_s < 2


async def test_processing_and_transfer_are_told_apart(
    server: tuple[str, Behaviour], prober: HttpProber
) -> None:
    url, b = server
    b.delay_s = 0.2
    slow = await prober.probe(HttpConfig(url + "/"))
    assert slow.ok and slow.phases["processing"] >= 0.19
    assert slow.phases["transfer"] < 0.15
    trickle = await prober.probe(HttpConfig(url + "/trickle"))
    assert trickle.ok and trickle.body == b"first second"
    assert trickle.phases["transfer"] >= 0.2 and trickle.phases["processing"] < 0.15
    _phases_are_sane(trickle, {"connect", "processing", "transfer"})


async def test_a_closed_port_is_refused(prober: HttpProber) -> None:
    result = await prober.probe(HttpConfig(f"http://127.0.0.1:{free_port()}/", timeout_s=2))
    assert not result.ok and result.error == "connection refused"
    assert not result.connected and result.status_code is None
    assert "processing" not in result.phases and "transfer" not in result.phases


async def test_a_host_name_is_resolved_and_timed(
    server: tuple[str, Behaviour], prober: HttpProber
) -> None:
    url, _ = server
    result = await prober.probe(HttpConfig(url.replace("127.0.0.1", "localhost") + "/"))
    assert result.ok, result.error
    _phases_are_sane(result, {"dns", "connect", "processing", "transfer"})


async def test_an_unresolvable_host(prober: HttpProber) -> None:
    result = await prober.probe(HttpConfig("http://no-such-host.invalid/", timeout_s=5))
    assert not result.ok and not result.connected
    assert (result.error or "").startswith("cannot resolve host 'no-such-host.invalid'")


async def test_the_body_is_cut_but_counted(
    server: tuple[str, Behaviour], prober: HttpProber
) -> None:
    url, b = server
    b.body = b"x" * 100_000 + b"END"
    result = await prober.probe(HttpConfig(url + "/", max_body_bytes=10))
    assert result.ok and result.body == b"x" * 10 and result.body_size == 100_003
    whole = await prober.probe(HttpConfig(url + "/"))
    assert whole.body.endswith(b"END") and len(whole.body) == whole.body_size == 100_003


async def test_post_sends_the_body(server: tuple[str, Behaviour], prober: HttpProber) -> None:
    url, _ = server
    cfg = HttpConfig(url + "/echo", method="POST", body=b"hello", headers=(("X-A", "1"),))
    result = await prober.probe(cfg)
    assert result.ok and result.body == b"POST hello"
    _phases_are_sane(result, {"connect", "processing", "transfer"})


async def test_auth_is_sent_and_never_shown(
    server: tuple[str, Behaviour], prober: HttpProber
) -> None:
    url, _ = server
    assert (await prober.probe(HttpConfig(url + "/auth"))).status_code == 401
    bearer = await prober.probe(HttpConfig(url + "/auth", bearer_token="t0k3n-value"))
    basic = await prober.probe(HttpConfig(url + "/auth", basic_auth=("user", "s3cr3t-pass")))
    wrong = HttpConfig(url + "/auth", basic_auth=("user", "hunter2"))
    denied = await prober.probe(wrong)
    assert bearer.ok and basic.ok, (bearer.error, basic.error)
    assert not denied.ok and denied.status_code == 401
    assert "hunter2" not in repr(wrong)
    for result in (bearer, basic, denied):
        _no_secrets(result)


async def test_secrets_are_scrubbed_from_errors(prober: HttpProber) -> None:
    port = free_port()
    in_url = await prober.probe(HttpConfig(f"http://user:hunter2@127.0.0.1:{port}/x"))
    assert in_url.error == "connection refused"
    assert in_url.details["url"] == f"http://127.0.0.1:{port}/x"
    with_auth = await prober.probe(
        HttpConfig(f"http://127.0.0.1:{port}/", bearer_token="t0k3n-value", timeout_s=2)
    )
    assert not with_auth.ok
    for result in (in_url, with_auth):
        _no_secrets(result)


async def test_redirects_followed_and_not(
    server: tuple[str, Behaviour], prober: HttpProber
) -> None:
    url, _ = server
    chain = await prober.probe(HttpConfig(url + "/hop/2"))
    assert chain.ok and chain.status_code == 200 and chain.details["redirects"] == 3
    assert chain.body == b'{"ok": true}'
    _phases_are_sane(chain, {"connect", "processing", "transfer"})

    def no_follow(*ranges: tuple[int, int]) -> HttpConfig:
        more = {"expected_status": ranges} if ranges else {}
        return HttpConfig(url + "/hop/2", follow_redirects=False, **more)  # type: ignore[arg-type]

    seen = await prober.probe(no_follow((200, 299)))
    assert seen.status_code == 302 and not seen.ok and seen.details["redirects"] == 0
    assert seen.error == "status 302 not in expected 200-299"
    assert (await prober.probe(no_follow((302, 302)))).ok
    assert (await prober.probe(no_follow())).ok  # the default expectation is 200-399


async def test_a_redirect_loop(server: tuple[str, Behaviour], prober: HttpProber) -> None:
    url, _ = server
    result = await prober.probe(HttpConfig(url + "/loop"))
    assert not result.ok and (result.error or "").startswith("too many redirects")


async def test_every_check_opens_a_new_connection(
    server: tuple[str, Behaviour], prober: HttpProber
) -> None:
    url, b = server
    for _ in range(3):
        assert (await prober.probe(HttpConfig(url + "/"))).ok
    assert len(b.peers) == 3


# --- TLS ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


TlsServer = Callable[..., Awaitable[str]]


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[TlsServer]:
    runners: list[web.AppRunner] = []

    async def start(not_after: datetime, names: tuple[str, ...] = ("127.0.0.1",)) -> str:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names, not_after=not_after).configure_cert(ctx)
        runner, port = await _serve(Behaviour(), ctx)
        runners.append(runner)
        return f"https://127.0.0.1:{port}/"

    yield start
    for runner in runners:
        await runner.cleanup()


def _in_two_days() -> datetime:
    return (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)


def _close(actual: datetime | None, expected: datetime) -> bool:
    return actual is not None and abs((actual - expected).total_seconds()) < 60


async def test_https_with_a_trusted_ca(
    tls_server: TlsServer, ca_file: str, prober: HttpProber
) -> None:
    expiry = _in_two_days()
    url = await tls_server(expiry)
    result = await prober.probe(HttpConfig(url, ca_file=ca_file))
    assert result.ok, result.error
    assert result.certificate_expiry is not None
    assert result.certificate_expiry.tzinfo is not None
    assert _close(result.certificate_expiry, expiry)
    assert str(result.details["tls_version"]).startswith("TLSv1")
    _phases_are_sane(result, {"connect", "tls", "processing", "transfer"})
    assert result.phases["tls"] > 0


async def test_https_untrusted_fails_but_reports_expiry(
    tls_server: TlsServer, prober: HttpProber
) -> None:
    expiry = _in_two_days()
    url = await tls_server(expiry)
    result = await prober.probe(HttpConfig(url))
    assert not result.ok and result.status_code is None and result.connected
    assert result.error == "TLS certificate verify failed: unable to get local issuer certificate"
    assert _close(result.certificate_expiry, expiry)
    _phases_are_sane(result, {"connect"})


async def test_https_without_verification(tls_server: TlsServer, prober: HttpProber) -> None:
    expiry = _in_two_days()
    url = await tls_server(expiry)
    result = await prober.probe(HttpConfig(url, verify_tls=False))
    assert result.ok, result.error
    assert _close(result.certificate_expiry, expiry)
    _phases_are_sane(result, {"connect", "tls", "processing", "transfer"})


async def test_https_expired_certificate(
    tls_server: TlsServer, ca_file: str, prober: HttpProber
) -> None:
    expired = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    url = await tls_server(expired)
    result = await prober.probe(HttpConfig(url, ca_file=ca_file))
    assert not result.ok
    assert result.error == "TLS certificate verify failed: certificate has expired"
    assert _close(result.certificate_expiry, expired)


async def test_https_wrong_host_name(
    tls_server: TlsServer, ca_file: str, prober: HttpProber
) -> None:
    url = await tls_server(_in_two_days(), ("other.example",))
    result = await prober.probe(HttpConfig(url, ca_file=ca_file))
    assert not result.ok and "mismatch" in (result.error or "")


async def test_concurrent_probes_keep_their_own_timings(
    tls_server: TlsServer,
    ca_file: str,
    server: tuple[str, Behaviour],
    prober: HttpProber,
) -> None:
    url, _ = server
    https = await tls_server(_in_two_days())
    cfgs = [HttpConfig(https, ca_file=ca_file), HttpConfig(url + "/")] * 10
    results = await asyncio.gather(*(prober.probe(c) for c in cfgs))
    for cfg, result in zip(cfgs, results, strict=True):
        assert result.ok, result.error
        is_tls = cfg.url.startswith("https")
        assert (result.certificate_expiry is not None) is is_tls
        assert ("tls" in result.phases) is is_tls
        _phases_are_sane(result, {"connect", "processing", "transfer"})


# --- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://example.com/"}, "must start with http:// or https://"),
        ({"url": "http:///path"}, "has no host"),
        ({"url": "https://x/", "timeout_s": 0}, "timeout 0 must be a positive number"),
        ({"url": "https://x/", "method": "GE T"}, "method 'GE T' is not valid"),
        ({"url": "https://x/", "expected_status": ()}, "'expected_status' is empty"),
        ({"url": "https://x/", "expected_status": ((300, 200),)}, "(300, 200)"),
        ({"url": "https://x/", "expected_status": ((200, 700),)}, "within 100-599"),
        ({"url": "https://x/", "max_body_bytes": -1}, "max_body_bytes -1"),
        ({"url": "https://x/", "headers": (("X", "a\r\nb"),)}, "no line breaks"),
        (
            {"url": "https://x/", "basic_auth": ("u", "hunter2"), "bearer_token": "t0k3n-value"},
            "either basic_auth or bearer_token",
        ),
    ],
)
def test_bad_config_is_refused_with_the_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=r"^http check: ") as info:
        HttpConfig(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)
    for secret in SECRETS:
        assert secret not in str(info.value)


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(ValueError, match="http:// or https://") as info:
        HttpConfig("gopher://user:hunter2@example.com/")
    assert "hunter2" not in str(info.value)
