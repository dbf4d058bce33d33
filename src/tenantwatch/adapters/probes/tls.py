"""TLS probe: handshake, certificate expiry, chain and hostname validity."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from tenantwatch.adapters.probes.result import ProbeResult
from tenantwatch.adapters.probes.tcp import (
    check_port,
    check_timeout,
    describe_network_error,
    timed_out,
)


@dataclass(frozen=True, slots=True)
class TlsConfig:
    host: str
    port: int = 443
    server_name: str | None = None  # SNI and the name the certificate must match
    timeout_s: float = 10.0
    verify_chain: bool = True
    ca_file: str | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("tls check: 'host' is empty; give a host name or IP address")
        check_port("tls", self.port)
        check_timeout("tls", self.timeout_s)


def _context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def _handshake(
    cfg: TlsConfig, verify: bool
) -> tuple[bytes | None, str | None, dict[str, float]]:
    """Connect, then handshake; return the leaf certificate (DER), TLS version and phases."""
    name = cfg.server_name or cfg.host
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    transport, _ = await loop.create_connection(asyncio.Protocol, cfg.host, cfg.port)
    connected = time.perf_counter()
    try:
        tls = await loop.start_tls(
            transport, transport.get_protocol(), _context(verify, cfg.ca_file), server_hostname=name
        )
        done = time.perf_counter()
        assert tls is not None
        obj = tls.get_extra_info("ssl_object")
        der = obj.getpeercert(binary_form=True) if obj else None
        version = obj.version() if obj else None
        tls.close()
    finally:
        transport.close()
    return der, version, {"connect": connected - start, "tls": done - connected}


def _describe(der: bytes | None) -> tuple[datetime | None, dict[str, Any]]:
    if not der:
        return None, {}
    cert = x509.load_der_x509_certificate(der)
    return cert.not_valid_after_utc.astimezone(UTC), {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
    }


async def probe_tls(cfg: TlsConfig) -> ProbeResult:
    """Handshake (verifying when asked) and report the certificate; never raises for I/O."""
    start = time.perf_counter()
    details: dict[str, Any] = {"host": cfg.host, "port": cfg.port}
    error: str | None = None
    der: bytes | None = None
    phases: dict[str, float] = {}
    connected = False
    try:
        async with asyncio.timeout(cfg.timeout_s):
            try:
                der, version, phases = await _handshake(cfg, cfg.verify_chain)
                details["chain_valid"] = cfg.verify_chain
            except ssl.SSLCertVerificationError as exc:
                details["chain_valid"] = False
                error = f"certificate chain invalid: {exc.verify_message or exc.reason}"
                with contextlib.suppress(OSError, ssl.SSLError):
                    der, version, phases = await _handshake(cfg, False)
            connected = True
            if version:
                details["tls_version"] = version
    except TimeoutError:
        error = timed_out(cfg.timeout_s)
    except ssl.SSLError as exc:
        connected = True
        error = f"TLS handshake failed: {exc.reason or exc}"
    except OSError as exc:
        error = describe_network_error(exc, cfg.host)
    expiry, info = _describe(der)
    details.update(info)
    if error is None and expiry is not None and expiry <= datetime.now(UTC):
        error = "certificate has expired"
    return ProbeResult(
        ok=error is None,
        duration_s=time.perf_counter() - start,
        phases=phases,
        certificate_expiry=expiry,
        connected=connected,
        error=error,
        details=details,
    )
