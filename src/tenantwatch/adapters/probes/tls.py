"""TLS probe: handshake, leaf certificate expiry, chain and host name validity.

The probe always tries a verifying handshake first, so `details["chain_valid"]` tells the
truth whatever `verify_chain` says; when that handshake fails verification it connects
again without verification to read the certificate, so an invalid, expired or untrusted
certificate still reports its expiry. `verify_chain=False` only stops an invalid chain
from failing the check.

Timing the TCP connect apart from the handshake: asyncio's SSL transport creates its
`SSLObject` (through `SSLContext.wrap_bio`) right after the socket has connected and just
before the first handshake bytes go out. `TimedSSLContext` notes that moment on the
`HandshakeMarks` of the current task (a context variable), which costs one clock read per
connection; the http probe uses the same context class.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from tenantwatch.adapters.probes.tcp import (
    check_port,
    check_timeout,
    describe_network_error,
    timed_out,
)
from tenantwatch.adapters.ssrf import SsrfError, SsrfPolicy, open_connection
from tenantwatch.domain.probe_result import ProbeResult


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """Where to handshake, the name the certificate must carry and what to trust."""

    host: str
    port: int = 443
    server_name: str | None = None  # SNI and the name the certificate must match
    timeout_s: float = 10.0
    verify_chain: bool = True
    ca_file: str | None = None  # extra trust (PEM), on top of the system's CAs

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("tls check: 'host' is empty; give a host name or IP address")
        check_port("tls", self.port)
        check_timeout("tls", self.timeout_s)
        if self.server_name is not None and not self.server_name:
            raise ValueError("tls check: 'server_name' is empty; leave it out to use the host")


class HandshakeMarks:
    """Filled in by `TimedSSLContext` for the connection the current task is making."""

    __slots__ = ("ssl_object", "tcp_done")

    def __init__(self) -> None:
        self.tcp_done: float | None = None
        self.ssl_object: ssl.SSLObject | None = None


HANDSHAKE_MARKS: contextvars.ContextVar[HandshakeMarks | None] = contextvars.ContextVar(
    "tenantwatch_handshake_marks", default=None
)


class TimedSSLContext(ssl.SSLContext):
    """An SSLContext that notes when the TCP connection was ready and keeps the SSLObject."""

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        marks = HANDSHAKE_MARKS.get()
        if marks is not None:
            marks.tcp_done = time.perf_counter()
        obj = super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)
        if marks is not None:
            marks.ssl_object = obj
        return obj


@functools.lru_cache(maxsize=64)
def client_context(verify: bool, ca_file: str | None) -> TimedSSLContext:
    """A client context trusting the system CAs plus `ca_file`; cached (loading CAs is slow).

    A changed `ca_file` is read again only after a restart.
    """
    ctx = TimedSSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        if ca_file:
            ctx.load_verify_locations(cafile=ca_file)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


@dataclass(frozen=True, slots=True)
class PeerCertificate:
    """What one handshake showed: the leaf certificate (DER) and the protocol version."""

    der: bytes | None
    tls_version: str | None


def certificate_expiry(der: bytes | None) -> datetime | None:
    """notAfter of a DER certificate as an aware UTC datetime (None without a certificate)."""
    if not der:
        return None
    return _load(der).not_valid_after_utc.astimezone(UTC)


@functools.lru_cache(maxsize=256)
def _load(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def peer_certificate(obj: ssl.SSLObject | None) -> PeerCertificate:
    """The leaf certificate and version of a finished handshake (read before it closes)."""
    if obj is None:
        return PeerCertificate(None, None)
    return PeerCertificate(obj.getpeercert(binary_form=True), obj.version())


async def read_certificate(
    host: str, port: int, server_name: str, policy: SsrfPolicy | None = None
) -> PeerCertificate:
    """Handshake without verification and return the peer's certificate; raises OSError
    (SsrfError when a policy refuses the host)."""
    ctx = client_context(False, None)
    marks = HandshakeMarks()
    token = HANDSHAKE_MARKS.set(marks)
    try:
        _, writer = await open_connection(host, port, policy, ssl=ctx, server_hostname=server_name)
    finally:
        HANDSHAKE_MARKS.reset(token)
    try:
        return peer_certificate(writer.get_extra_info("ssl_object"))
    finally:
        writer.transport.abort()


def verify_reason(exc: ssl.SSLCertVerificationError) -> str:
    """OpenSSL's reason for a failed verification, e.g. "certificate has expired"."""
    return str(exc.verify_message or exc.reason or exc)


async def probe_tls(cfg: TlsConfig, policy: SsrfPolicy | None = None) -> ProbeResult:
    """Handshake, judge the chain and report the certificate; never raises for I/O.

    With a policy, every connection goes to a checked address of the host."""
    start = time.perf_counter()
    name = cfg.server_name or cfg.host
    details: dict[str, Any] = {"host": cfg.host, "port": cfg.port, "server_name": name}
    marks = HandshakeMarks()
    phases: dict[str, float] = {}
    peer = PeerCertificate(None, None)
    error: str | None = None
    try:
        async with asyncio.timeout(cfg.timeout_s):
            try:
                peer = await _handshake(cfg, name, marks, phases, start, policy)
                details["chain_valid"] = True
            except ssl.SSLCertVerificationError as exc:
                details["chain_valid"] = False
                details["chain_error"] = verify_reason(exc)
                if cfg.verify_chain:
                    error = f"certificate chain invalid: {details['chain_error']}"
                peer = await read_certificate(cfg.host, cfg.port, name, policy)
    except TimeoutError:
        error = timed_out(cfg.timeout_s)
        if marks.tcp_done is not None:
            error += " during the TLS handshake"
    except SsrfError as exc:
        error = str(exc)
    except ssl.SSLError as exc:
        error = f"TLS handshake failed: {exc.reason or exc}"
    except OSError as exc:
        error = describe_network_error(exc, cfg.host)
        if marks.tcp_done is not None:
            error = f"TLS handshake failed: {error}"
    details.update(_describe(peer))
    return ProbeResult(
        ok=error is None,
        duration_s=time.perf_counter() - start,
        phases=phases,
        certificate_expiry=certificate_expiry(peer.der),
        connected=marks.tcp_done is not None,
        error=error,
        details=details,
    )


async def _handshake(
    cfg: TlsConfig,
    name: str,
    marks: HandshakeMarks,
    phases: dict[str, float],
    start: float,
    policy: SsrfPolicy | None,
) -> PeerCertificate:
    """Connect with verification (cfg.ca_file trusted too) and fill in connect/tls phases."""
    ctx = client_context(True, cfg.ca_file)
    token = HANDSHAKE_MARKS.set(marks)
    try:
        _, writer = await open_connection(cfg.host, cfg.port, policy, ssl=ctx, server_hostname=name)
    finally:
        HANDSHAKE_MARKS.reset(token)
        if marks.tcp_done is not None:
            phases["connect"] = marks.tcp_done - start
    phases["tls"] = time.perf_counter() - (marks.tcp_done or start)
    try:
        return peer_certificate(writer.get_extra_info("ssl_object"))
    finally:
        writer.transport.abort()


def _describe(peer: PeerCertificate) -> dict[str, Any]:
    """Subject, issuer, validity start and TLS version of the peer's leaf certificate."""
    if not peer.der:
        return {}
    cert = _load(peer.der)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "tls_version": peer.tls_version,
    }
