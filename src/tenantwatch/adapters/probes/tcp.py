"""TCP probe: connect to host:port, optionally send bytes and expect a substring in the reply."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from dataclasses import dataclass

from tenantwatch.adapters.ssrf import SsrfError, SsrfPolicy, open_connection
from tenantwatch.domain.probe_result import ProbeResult

# A reply larger than this is cut off; expectations are about banners and short answers.
MAX_REPLY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class TcpConfig:
    """Where to connect, what to send and what the reply must contain."""

    host: str
    port: int
    timeout_s: float = 10.0
    send: bytes | None = None
    expect: bytes | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("tcp check: 'host' is empty; give a host name or IP address")
        check_port("tcp", self.port)
        check_timeout("tcp", self.timeout_s)
        if self.expect is not None and not self.expect:
            raise ValueError("tcp check: 'expect' is empty; give the bytes the reply must contain")


def check_port(kind: str, port: int) -> None:
    """Raise ValueError unless port is a TCP/UDP port number."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"{kind} check: port {port!r} is not a port number; use 1-65535")


def check_timeout(kind: str, timeout_s: float) -> None:
    """Raise ValueError unless timeout_s is a positive number of seconds."""
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or timeout_s <= 0:
        raise ValueError(
            f"{kind} check: timeout {timeout_s!r} must be a positive number of seconds, e.g. 5"
        )


def timed_out(timeout_s: float) -> str:
    """The error text for a probe that ran out of time."""
    return f"timed out after {timeout_s} s"


def describe_network_error(exc: OSError, host: str | None = None) -> str:
    """Return a short sentence for a socket-level failure ("connection refused")."""
    if isinstance(exc, socket.gaierror):
        where = f" {host!r}" if host else ""
        return f"cannot resolve host{where}: {exc.strerror or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    # asyncio joins per-address failures into one OSError whose message is the only text.
    text = str(exc)
    if "Connect call failed" in text and "111" in text:
        return "connection refused"
    return text or type(exc).__name__


async def probe_tcp(cfg: TcpConfig, policy: SsrfPolicy | None = None) -> ProbeResult:
    """Connect, send, read until `expect` shows up; return the outcome. Never raises for I/O.

    With a policy, the host is resolved, checked and connected to at a checked address."""
    start = time.perf_counter()
    phases: dict[str, float] = {}
    reply = b""
    connected = False
    error: str | None = None
    try:
        async with asyncio.timeout(cfg.timeout_s):
            reader, writer = await open_connection(cfg.host, cfg.port, policy)
            connected = True
            phases["connect"] = time.perf_counter() - start
            try:
                reply, error = await _exchange(cfg, reader, writer)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            phases["processing"] = time.perf_counter() - start - phases["connect"]
    except TimeoutError:
        error = timed_out(cfg.timeout_s)
        if cfg.expect is not None and connected:
            error += f" waiting for {cfg.expect!r} in the reply"
    except OSError as exc:
        error = describe_network_error(exc, cfg.host)
    except SsrfError as exc:
        error = str(exc)
    return ProbeResult(
        ok=error is None,
        duration_s=time.perf_counter() - start,
        status_code=None,
        body=reply,
        body_size=len(reply),
        phases=phases,
        certificate_expiry=None,
        connected=connected,
        error=error,
        details={"host": cfg.host, "port": cfg.port},
    )


async def _exchange(
    cfg: TcpConfig, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[bytes, str | None]:
    """Send cfg.send and read until cfg.expect; return (reply, error or None)."""
    if cfg.send:
        writer.write(cfg.send)
        await writer.drain()
    if cfg.expect is None:
        return b"", None
    reply = b""
    while cfg.expect not in reply and len(reply) < MAX_REPLY_BYTES:
        chunk = await reader.read(MAX_REPLY_BYTES - len(reply))
        if not chunk:
            break
        reply += chunk
    if cfg.expect in reply:
        return reply, None
    ending = "the server closed the connection" if reader.at_eof() else "the reply is too long"
    return reply, f"expected {cfg.expect!r} not found in the {len(reply)}-byte reply; {ending}"
