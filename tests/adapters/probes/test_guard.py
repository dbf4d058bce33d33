"""Checks made through the API run behind the SSRF guard at every run, against real loopback
servers: loopback is refused before any connection unless listed, redirects are checked
hop by hop, databases are reached only when listed, and config-file checks run as declared.

Traffic goes to loopback only; link-local, private and metadata addresses are covered by
the guard's decision in tests/domain/test_probe_targets.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import pytest
import redis.asyncio
import trustme
from aiohttp import web

from tenantwatch.adapters.probes.executor import ProbeExecutor
from tenantwatch.adapters.probes.guard import ProbeGuard
from tenantwatch.domain.checks import Check, CheckKind
from tenantwatch.domain.ssrf import SsrfPolicy
from tests.adapters.probes.test_dns import _Nameserver, _serve

PG_DSN = os.environ.get("TENANTWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TENANTWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")
SETTING = "check_runner.allow_private_targets"


def _policy(*entries: str) -> SsrfPolicy:
    return SsrfPolicy.from_allow_list(entries, setting=SETTING)


def _check(kind: CheckKind, settings: Mapping[str, Any], *, by: str = "api", **kw: Any) -> Check:
    return Check(
        id="alpha.probe",
        tenant_id="alpha",
        name="probe",
        kind=kind,
        settings=dict(settings),
        timeout_s=5.0,
        managed_by=by,
        **kw,
    )


async def _run(check: Check, policy: SsrfPolicy | None = None) -> Any:
    executor = ProbeExecutor(policy=policy)
    try:
        return await executor.run(check)
    finally:
        await executor.close()


@dataclass
class Server:
    url: str
    hits: int = 0


@contextlib.asynccontextmanager
async def _http(host: str, redirect_to: str | None = None) -> AsyncIterator[Server]:
    server = Server("")

    async def handle(request: web.Request) -> web.Response:
        server.hits += 1
        if redirect_to is not None and request.path == "/hop":
            raise web.HTTPFound(redirect_to)
        return web.Response(body=b'{"status": "healthy", "secret": "s3cr3t-body-value"}')

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    server.url = f"http://{host}:{runner.addresses[0][1]}"
    try:
        yield server
    finally:
        await runner.cleanup()


async def test_an_api_http_check_to_loopback_is_refused_before_connecting() -> None:
    async with _http("127.0.0.1") as target:
        run = await _run(_check(CheckKind.HTTP, {"url": target.url + "/health"}))
        assert not run.ok
        assert "internal address" in (run.error or "") and SETTING in (run.error or "")
        assert target.hits == 0
        by_name = await _run(
            _check(CheckKind.HTTP, {"url": target.url.replace("127.0.0.1", "localhost")})
        )
        assert not by_name.ok and "localhost" in (by_name.error or "")
        assert target.hits == 0


async def test_a_listed_loopback_target_runs_and_config_checks_run_as_declared() -> None:
    async with _http("127.0.0.1") as target:
        listed = await _run(_check(CheckKind.HTTP, {"url": target.url}), _policy("127.0.0.1/32"))
        assert listed.ok, listed.error
        config = await _run(_check(CheckKind.HTTP, {"url": target.url}, by="config"))
        assert config.ok, config.error
        assert target.hits == 2


async def test_each_redirect_hop_passes_the_guard() -> None:
    async with (
        _http("127.0.0.2") as second,
        _http("127.0.0.1", redirect_to=second.url + "/next") as first,
    ):
        check = _check(CheckKind.HTTP, {"url": first.url + "/hop"})
        run = await _run(check, _policy("127.0.0.1/32"))
        assert not run.ok
        assert "redirect 1" in (run.error or "") and "127.0.0.2" in (run.error or "")
        assert (first.hits, second.hits) == (1, 0)
        both = await _run(check, _policy("127.0.0.1/32", "127.0.0.2/32"))
        assert both.ok, both.error
        assert second.hits == 1


async def test_a_check_stored_before_the_guard_is_refused_at_run_time() -> None:
    """The guard runs with every probe, not only when a check is created."""
    async with _http("127.0.0.1") as target:
        check = _check(CheckKind.HTTP, {"url": target.url, "ca_file": "/etc/ssl/certs/ca.pem"})
        run = await _run(check, _policy("127.0.0.1/32"))
        assert not run.ok and "'ca_file' names a file on the server" in (run.error or "")
        assert target.hits == 0


async def test_condition_details_never_echo_the_response_body() -> None:
    async with _http("127.0.0.1") as target:
        check = _check(
            CheckKind.HTTP,
            {"url": target.url},
            conditions=("[BODY] == pat(*nothing*)", "len([BODY]) < 10", "[BODY].status == x"),
        )
        run = await _run(check, _policy("127.0.0.1/32"))
    shown = f"{run.error} {[c.detail for c in run.conditions]} {run.details}"
    assert "s3cr3t-body-value" not in shown
    assert "[BODY] (52 bytes, sha256 " in shown and "len([BODY]) (52) < 10" in shown
    assert "[BODY].status (healthy) == x" in shown  # a short value the condition asked for


@contextlib.asynccontextmanager
async def _listener(ctx: ssl.SSLContext | None = None) -> AsyncIterator[list[int]]:
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        with contextlib.suppress(OSError):
            await reader.read(100)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    connections.append(int(server.sockets[0].getsockname()[1]))  # [port, 1, 1, ...]
    try:
        yield connections
    finally:
        server.close()


async def test_tcp_checks_connect_only_to_checked_addresses() -> None:
    async with _listener() as seen:
        port = seen[0]
        refused = await _run(_check(CheckKind.TCP, {"host": "127.0.0.1", "port": port}))
        assert not refused.ok and "internal address" in (refused.error or "")
        by_name = await _run(_check(CheckKind.TCP, {"host": "localhost", "port": port}))
        assert not by_name.ok
        assert seen[1:] == []
        listed = await _run(
            _check(CheckKind.TCP, {"host": "localhost", "port": port}), _policy("127.0.0.1")
        )
        assert listed.ok, listed.error


async def test_tls_checks_pass_the_guard() -> None:
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    async with _listener(ctx) as seen:
        settings = {"host": "localhost", "port": seen[0], "verify_chain": False}
        refused = await _run(_check(CheckKind.TLS, settings))
        assert not refused.ok and "internal address" in (refused.error or "")
        assert seen[1:] == []
        listed = await _run(_check(CheckKind.TLS, settings), _policy("127.0.0.1/32"))
        assert listed.ok, listed.error
        assert listed.details["server_name"] == "localhost" and listed.certificate_expiry


async def test_a_dns_check_may_ask_only_an_allowed_nameserver() -> None:
    transport, nameserver = await _serve(_Nameserver)
    try:
        settings = {"query_name": "app.example.test", "nameserver": nameserver}
        refused = await _run(_check(CheckKind.DNS, settings))
        assert not refused.ok and "internal address" in (refused.error or "")
        listed = await _run(_check(CheckKind.DNS, settings), _policy("127.0.0.1/32"))
        assert listed.ok, listed.error
    finally:
        transport.close()


@pytest.fixture
async def redis_url() -> str:
    client = redis.asyncio.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, redis.RedisError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is required when CI=true: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    finally:
        await client.aclose()
    return REDIS_URL


async def test_redis_checks_reach_only_listed_destinations(redis_url: str) -> None:
    check = _check(CheckKind.REDIS, {"url": redis_url})
    refused = await _run(check)
    assert not refused.ok and f"not on {SETTING}" in (refused.error or "")
    assert (await _run(check, _policy("127.0.0.1/32"))).ok
    by_name = _check(CheckKind.REDIS, {"url": redis_url.replace("127.0.0.1", "localhost")})
    assert not (await _run(by_name, _policy("10.0.0.0/8"))).ok
    assert (await _run(by_name, _policy("localhost"))).ok


@pytest.fixture
async def pg_dsn() -> str:
    try:
        conn = await asyncpg.connect(PG_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_DSN} is required when CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_DSN}: {exc}")
    await conn.execute("CREATE TABLE IF NOT EXISTS guard_probe (v text)")
    await conn.close()
    return PG_DSN


async def _rows(dsn: str) -> int:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM guard_probe"))
    finally:
        await conn.close()


async def test_postgres_checks_reach_only_listed_destinations(pg_dsn: str) -> None:
    check = _check(CheckKind.POSTGRES, {"dsn": pg_dsn, "query": "SELECT 1"})
    refused = await _run(check)
    assert not refused.ok and f"not on {SETTING}" in (refused.error or "")
    listed = await _run(check, _policy("127.0.0.1/32"))
    assert listed.ok, listed.error


@pytest.mark.parametrize("by", ["api", "config"])
async def test_every_postgres_query_runs_read_only(pg_dsn: str, by: str) -> None:
    before = await _rows(pg_dsn)
    for query in (
        "INSERT INTO guard_probe VALUES ('x')",
        "WITH w AS (INSERT INTO guard_probe VALUES ('x') RETURNING 1) SELECT count(*) FROM w",
        "SELECT set_config('transaction_read_only', 'off', true)",
    ):
        check = _check(CheckKind.POSTGRES, {"dsn": pg_dsn, "query": query}, by=by)
        run = await _run(check, _policy("127.0.0.1/32"))
        assert not run.ok, query
        assert "read-only" in (run.error or "") or "must be set before any query" in (
            run.error or ""
        )
    assert await _rows(pg_dsn) == before


async def test_a_postgres_query_runs_with_the_checks_timeout_as_statement_timeout(
    pg_dsn: str,
) -> None:
    for query, value in (
        ("SELECT current_setting('statement_timeout')", "2500ms"),
        ("SELECT current_setting('transaction_read_only')", "on"),
    ):
        check = replace(
            _check(CheckKind.POSTGRES, {"dsn": pg_dsn, "query": query}, by="config"),
            timeout_s=2.5,
        )
        run = await _run(check)
        assert run.ok and run.details["value"] == value, run.error
    slow = _check(CheckKind.POSTGRES, {"dsn": pg_dsn, "query": "SELECT pg_sleep(30)"})
    run = await _run(replace(slow, timeout_s=0.5), _policy("127.0.0.1/32"))
    assert not run.ok and run.duration_s < 5


async def test_an_api_postgres_check_never_shows_the_value_or_the_servers_message(
    pg_dsn: str,
) -> None:
    listed = _policy("127.0.0.1/32")
    secret = "SELECT 'tenant-bravo-secret'::text"
    run = await _run(
        _check(
            CheckKind.POSTGRES,
            {"dsn": pg_dsn, "query": secret, "expected": "x"},
            conditions=("[BODY] == x", "[VALUE] > 1"),
        ),
        listed,
    )
    cast = await _run(
        _check(CheckKind.POSTGRES, {"dsn": pg_dsn, "query": "SELECT 'tenant-bravo-secret'::int"}),
        listed,
    )
    for shown in (run, cast):
        text = f"{shown.error} {[c.detail for c in shown.conditions]} {shown.details}"
        assert not shown.ok and "tenant-bravo-secret" not in text
    assert "value" not in run.details and "SQLSTATE 22P02" in (cast.error or "")
    config = await _run(_check(CheckKind.POSTGRES, {"dsn": pg_dsn, "query": secret}, by="config"))
    assert config.details["value"] == "tenant-bravo-secret"  # the operator's own check


async def test_the_creation_guard_refuses_what_a_run_would_refuse() -> None:
    guard = ProbeGuard(_policy())
    assert "internal address" in (
        await guard.refusal(CheckKind.HTTP, {"url": "http://localhost:9/"}) or ""
    )
    assert "169.254.169.254" in (
        await guard.refusal(CheckKind.HTTP, {"url": "http://169.254.169.254/latest/"}) or ""
    )
    assert await guard.refusal(CheckKind.DNS, {"query_name": "example.com"}) is None
    assert await guard.refusal(CheckKind.HEARTBEAT, {"period": 60}) is None
    listed = ProbeGuard(_policy("127.0.0.0/8"))
    assert await listed.refusal(CheckKind.TCP, {"host": "localhost", "port": 9}) is None
    assert f"not on {SETTING}" in (
        await listed.refusal(CheckKind.REDIS, {"url": "redis://10.1.2.3:6379/0"}) or ""
    )


async def test_unreadable_settings_fail_the_run_with_the_reason() -> None:
    executor = ProbeExecutor(policy=_policy())
    try:
        run = await executor.run(_check(CheckKind.TCP, {"host": "127.0.0.1"}, by="config"))
        assert not run.ok
        assert run.error == "invalid settings: 'port'"
        beat = await executor.run(_check(CheckKind.HEARTBEAT, {"period": 60}, by="config"))
        assert beat.error == "invalid settings: heartbeat checks are not probed"
    finally:
        await executor.close()
