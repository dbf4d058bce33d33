"""The tls probe: handshake timings, expiry, invalid chains and hostnames."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme

from tenantwatch.adapters.probes.tls import TlsConfig, probe_tls

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]


async def _idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(100)
    writer.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def _server(ca: trustme.CA, not_after: datetime, names: tuple[str, ...]) -> asyncio.Server:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names, not_after=not_after).configure_cert(ctx)
    return await asyncio.start_server(_idle, "127.0.0.1", 0, ssl=ctx)


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
async def valid(ca: trustme.CA) -> AsyncIterator[tuple[int, datetime]]:
    expiry = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    server = await _server(ca, expiry, ("127.0.0.1", "localhost"))
    async with server:
        yield server.sockets[0].getsockname()[1], expiry


async def test_a_valid_chain(valid: tuple[int, datetime], ca_file: str) -> None:
    port, expiry = valid
    result = await probe_tls(TlsConfig("127.0.0.1", port, ca_file=ca_file))
    assert result.ok, result.error
    assert result.certificate_expiry is not None
    assert abs((result.certificate_expiry - expiry).total_seconds()) < 60
    assert set(result.phases) == {"connect", "tls"}
    assert result.details["chain_valid"] is True and "issuer" in result.details


async def test_an_unknown_ca_is_invalid_but_expiry_is_still_read(
    valid: tuple[int, datetime],
) -> None:
    port, _ = valid
    result = await probe_tls(TlsConfig("127.0.0.1", port))
    assert not result.ok and "certificate chain invalid" in (result.error or "")
    assert result.certificate_expiry is not None
    assert result.details["chain_valid"] is False
    unchecked = await probe_tls(TlsConfig("127.0.0.1", port, verify_chain=False))
    assert unchecked.ok


async def test_a_wrong_hostname_is_invalid(valid: tuple[int, datetime], ca_file: str) -> None:
    port, _ = valid
    result = await probe_tls(
        TlsConfig("127.0.0.1", port, server_name="other.example", ca_file=ca_file)
    )
    assert not result.ok and "chain invalid" in (result.error or "")


async def test_an_expired_certificate(ca: trustme.CA, ca_file: str) -> None:
    server = await _server(ca, datetime.now(UTC) - timedelta(hours=1), ("127.0.0.1",))
    async with server:
        port = server.sockets[0].getsockname()[1]
        result = await probe_tls(TlsConfig("127.0.0.1", port, ca_file=ca_file))
    assert not result.ok and "expired" in (result.error or "")
    assert result.certificate_expiry is not None
    assert result.certificate_expiry < datetime.now(UTC)


async def test_a_closed_port() -> None:
    from tests.support import free_port

    result = await probe_tls(TlsConfig("127.0.0.1", free_port(), timeout_s=2))
    assert not result.ok and result.error == "connection refused"
