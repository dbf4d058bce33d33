"""The tls probe against loopback TLS servers: timings, expiry, invalid chains and names."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tenantwatch.adapters.probes.tls import TlsConfig, probe_tls
from tenantwatch.domain.probe_result import ProbeResult
from tests.support import free_port

EPSILON = 1e-6


async def _idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):  # ssl.SSLError is an OSError
        await reader.read(100)
    writer.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


Start = Callable[[ssl.SSLContext | None], Awaitable[int]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """Starts asyncio servers on 127.0.0.1 (TLS when given a context); returns the port."""
    servers: list[asyncio.Server] = []

    async def run(ctx: ssl.SSLContext | None) -> int:
        server = await asyncio.start_server(_idle, "127.0.0.1", 0, ssl=ctx)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield run
    for server in servers:
        server.close()
        await server.wait_closed()


def _issued(ca: trustme.CA, not_after: datetime, *names: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1", "localhost")), not_after=not_after).configure_cert(ctx)
    return ctx


def _self_signed(tmp_path: Path, not_after: datetime) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self-signed test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(hours=1))
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "self.pem", tmp_path / "self.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


def _later(days: float) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def _close(actual: datetime | None, expected: datetime) -> bool:
    return actual is not None and abs((actual - expected).total_seconds()) < 60


def _phases_are_sane(result: ProbeResult) -> None:
    assert set(result.phases) == {"connect", "tls"}, result.phases
    assert all(v >= 0 for v in result.phases.values())
    assert sum(result.phases.values()) <= result.duration_s + EPSILON


async def test_a_valid_chain(start: Start, ca: trustme.CA, ca_file: str) -> None:
    expiry = _later(2)
    port = await start(_issued(ca, expiry))
    result = await probe_tls(TlsConfig("127.0.0.1", port, ca_file=ca_file))
    assert result.ok, result.error
    assert result.error is None and result.connected
    assert result.certificate_expiry is not None and result.certificate_expiry.tzinfo is not None
    assert _close(result.certificate_expiry, expiry)
    _phases_are_sane(result)
    assert result.phases["tls"] > 0
    assert result.details["chain_valid"] is True
    assert str(result.details["tls_version"]).startswith("TLSv1")
    assert "Testing CA" in result.details["issuer"]  # trustme's CA name
    assert result.details["subject"] != result.details["issuer"]


async def test_the_server_name_is_sent_and_checked(
    start: Start, ca: trustme.CA, ca_file: str
) -> None:
    seen: list[str | None] = []
    ctx = _issued(ca, _later(10), "localhost")
    ctx.sni_callback = lambda _sock, name, _ctx: seen.append(name)
    port = await start(ctx)
    named = await probe_tls(TlsConfig("127.0.0.1", port, server_name="localhost", ca_file=ca_file))
    assert named.ok, named.error
    assert seen == ["localhost"]
    by_ip = await probe_tls(TlsConfig("127.0.0.1", port, ca_file=ca_file))
    assert not by_ip.ok and "certificate chain invalid: " in (by_ip.error or "")
    assert "mismatch" in (by_ip.error or "")
    assert by_ip.details["chain_valid"] is False and by_ip.certificate_expiry is not None


async def test_an_unknown_ca_fails_but_expiry_is_read(start: Start, ca: trustme.CA) -> None:
    expiry = _later(30)
    port = await start(_issued(ca, expiry))
    result = await probe_tls(TlsConfig("127.0.0.1", port))
    assert not result.ok and result.connected
    assert result.error == "certificate chain invalid: unable to get local issuer certificate"
    assert _close(result.certificate_expiry, expiry)
    assert result.details["chain_valid"] is False and "issuer" in result.details
    unchecked = await probe_tls(TlsConfig("127.0.0.1", port, verify_chain=False))
    assert unchecked.ok and unchecked.error is None
    assert unchecked.details["chain_valid"] is False  # still reported, just not judged
    assert _close(unchecked.certificate_expiry, expiry)


async def test_a_self_signed_certificate(start: Start, tmp_path: Path) -> None:
    expiry = _later(5)
    port = await start(_self_signed(tmp_path, expiry))
    result = await probe_tls(TlsConfig("127.0.0.1", port))
    assert not result.ok
    assert result.error == "certificate chain invalid: self-signed certificate"
    assert _close(result.certificate_expiry, expiry)
    assert result.details["subject"] == result.details["issuer"]


async def test_an_expired_certificate(start: Start, ca: trustme.CA, ca_file: str) -> None:
    expired = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    port = await start(_issued(ca, expired))
    result = await probe_tls(TlsConfig("127.0.0.1", port, ca_file=ca_file))
    assert not result.ok
    assert result.error == "certificate chain invalid: certificate has expired"
    assert _close(result.certificate_expiry, expired)
    assert result.details["chain_valid"] is False


async def test_a_certificate_expiring_in_two_days(
    start: Start, ca: trustme.CA, ca_file: str
) -> None:
    expiry = _later(2)
    port = await start(_issued(ca, expiry))
    result = await probe_tls(TlsConfig("localhost", port, ca_file=ca_file))
    assert result.ok, result.error
    assert _close(result.certificate_expiry, expiry)
    assert not _close(result.certificate_expiry, _later(3))


async def test_a_closed_port() -> None:
    result = await probe_tls(TlsConfig("127.0.0.1", free_port(), timeout_s=2))
    assert not result.ok and result.error == "connection refused"
    assert not result.connected and result.phases == {}
    assert result.certificate_expiry is None


async def test_a_server_that_does_not_speak_tls(start: Start) -> None:
    port = await start(None)  # plain TCP: reads, then hangs up
    result = await probe_tls(TlsConfig("127.0.0.1", port, timeout_s=2))
    assert not result.ok and result.connected
    assert (result.error or "").startswith("TLS handshake failed"), result.error
    assert result.certificate_expiry is None


async def test_a_silent_server_times_out_in_the_handshake() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        result = await probe_tls(TlsConfig("127.0.0.1", port, timeout_s=0.3))
    assert not result.ok and result.connected
    assert result.error == "timed out after 0.3 s during the TLS handshake"
    assert 0.25 < result.duration_s < 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": ""}, "'host' is empty"),
        ({"host": "h", "port": 0}, "port 0 is not a port number"),
        ({"host": "h", "timeout_s": -1}, "timeout -1 must be a positive number"),
        ({"host": "h", "server_name": ""}, "'server_name' is empty"),
    ],
)
def test_bad_config_is_refused_with_the_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=r"^tls check: ") as info:
        TlsConfig(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)
