"""The tcp probe against an asyncio echo server, a silent server and a closed port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tenantwatch.adapters.probes.tcp import TcpConfig, probe_tcp
from tests.support import free_port


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HELLO tenantwatch\r\n")
    data = await reader.read(1024)
    writer.write(b"echo:" + data)
    await writer.drain()
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1024)
    await asyncio.sleep(5)
    writer.close()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_it_passes_when_the_port_accepts() -> None:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    async with server:
        result = await probe_tcp(TcpConfig("127.0.0.1", server.sockets[0].getsockname()[1]))
    assert result.ok, result.error
    assert result.connected
    assert result.error is None
    assert set(result.phases) == {"connect", "processing"}
    assert 0 <= result.phases["connect"] <= result.duration_s


async def test_it_finds_the_expected_reply_to_what_it_sent(echo_port: int) -> None:
    cfg = TcpConfig("127.0.0.1", echo_port, send=b"ping-42", expect=b"echo:ping-42")
    result = await probe_tcp(cfg)
    assert result.ok, result.error
    assert b"echo:ping-42" in result.body
    assert result.body_size == len(result.body)


async def test_it_reads_a_banner_without_sending(echo_port: int) -> None:
    result = await probe_tcp(TcpConfig("127.0.0.1", echo_port, expect=b"HELLO"))
    assert result.ok, result.error
    assert result.body.startswith(b"HELLO")


async def test_it_fails_when_the_reply_lacks_the_expected_bytes(echo_port: int) -> None:
    cfg = TcpConfig("127.0.0.1", echo_port, send=b"ping", expect=b"PONG")
    result = await probe_tcp(cfg)
    assert not result.ok
    assert result.connected
    assert result.error is not None
    assert "b'PONG' not found" in result.error
    assert "closed the connection" in result.error


async def test_it_times_out_waiting_for_a_silent_server() -> None:
    server = await asyncio.start_server(_silent, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        result = await probe_tcp(TcpConfig("127.0.0.1", port, 0.3, send=b"x", expect=b"y"))
    assert not result.ok
    assert result.connected
    assert result.error == "timed out after 0.3 s waiting for b'y' in the reply"
    assert 0.25 < result.duration_s < 2


async def test_it_reports_a_closed_port_as_refused() -> None:
    result = await probe_tcp(TcpConfig("127.0.0.1", free_port(), timeout_s=2.0))
    assert not result.ok
    assert not result.connected
    assert result.error == "connection refused"
    assert "connect" not in result.phases


async def test_it_reports_an_unresolvable_host() -> None:
    result = await probe_tcp(TcpConfig("no-such-host.invalid", 80, timeout_s=5.0))
    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("cannot resolve host 'no-such-host.invalid'")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": "", "port": 80}, "'host' is empty"),
        ({"host": "h", "port": 0}, "port 0 is not a port number; use 1-65535"),
        ({"host": "h", "port": 70000}, "port 70000 is not a port number"),
        ({"host": "h", "port": 80, "timeout_s": 0}, "timeout 0 must be a positive number"),
        ({"host": "h", "port": 80, "expect": b""}, "'expect' is empty"),
    ],
)
def test_it_rejects_bad_config_with_the_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="tcp check: ") as info:
        TcpConfig(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)
