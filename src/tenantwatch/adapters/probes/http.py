"""HTTP probe on aiohttp: status, body, phase timings and the TLS certificate's expiry.

One ClientSession per prober with `force_close=True`: every check opens a new connection,
as a health check should (a pooled connection would hide connect and TLS trouble).
Phases, as blackbox_exporter names them:
- dns: resolving the host (absent for an IP address);
- connect: TCP connect;
- tls: the TLS handshake (https): the connector connects the socket itself, then hands it
  to the event loop for the handshake, so the two are timed apart;
- processing: from the connection being ready to the response headers (sending the
  request and the server's work);
- transfer: from the headers to the end of the body.
"""

from __future__ import annotations

import asyncio
import contextvars
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace, TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohappyeyeballs
import aiohttp
from aiohttp.helpers import is_ip_address
from cryptography import x509

from tenantwatch.adapters.probes.result import ProbeResult
from tenantwatch.adapters.probes.tcp import check_timeout, describe_network_error, timed_out


@dataclass(frozen=True, slots=True)
class HttpConfig:
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    expected_status: tuple[tuple[int, int], ...] = ((200, 399),)
    follow_redirects: bool = True
    verify_tls: bool = True
    timeout_s: float = 10.0
    max_body_bytes: int = 1_048_576
    ca_file: str | None = None

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in ("http", "https") or not urlsplit(self.url).hostname:
            raise ValueError(
                f"http check: url {safe_url(self.url)!r} must start with http:// or https:// "
                "and name a host"
            )
        check_timeout("http", self.timeout_s)


def safe_url(url: str) -> str:
    """The URL without the userinfo's password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _scrub(text: str, cfg: HttpConfig) -> str:
    """text without the request's secrets (URL password, basic auth, bearer token)."""
    secrets = [urlsplit(cfg.url).password, cfg.bearer_token]
    if cfg.basic_auth:
        secrets.append(cfg.basic_auth[1])
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _expected(codes: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in codes)


# The timings of the request being made in this task; the connector fills them in.
_TIMINGS: contextvars.ContextVar[SimpleNamespace | None] = contextvars.ContextVar(
    "tenantwatch_http_timings", default=None
)


class _TimingConnector(aiohttp.TCPConnector):
    """Times DNS and connection set-up and keeps each new TLS connection's leaf
    certificate, on the namespace of the request being made in the current task
    (cheaper than aiohttp's trace signals, which cost every request several awaits)."""

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> Any:
        ctx = _TIMINGS.get()
        if ctx is None or is_ip_address(host):
            return await super()._resolve_host(host, port, traces)
        start = time.perf_counter()
        try:
            return await super()._resolve_host(host, port, traces)
        finally:
            ctx.dns = time.perf_counter() - start

    async def _wrap_create_connection(
        self,
        *args: Any,
        addr_infos: Any,
        req: Any,
        timeout: Any,  # noqa: ASYNC109
        client_error: type[Exception] = aiohttp.ClientConnectorError,
        **kwargs: Any,
    ) -> Any:
        """For https, connect the socket first and then hand it over for the handshake, so
        TCP connect and TLS are timed apart; plain http goes the usual way."""
        ctx = _TIMINGS.get()
        if ctx is None or not kwargs.get("ssl"):
            return await super()._wrap_create_connection(
                *args,
                addr_infos=addr_infos,
                req=req,
                timeout=timeout,
                client_error=client_error,
                **kwargs,
            )
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout.sock_connect):
                sock = await aiohappyeyeballs.start_connection(addr_infos, loop=loop)
                ctx.tcp_connected = time.perf_counter()
                return await loop.create_connection(*args, **kwargs, sock=sock)
        except ssl.SSLCertVerificationError as exc:
            raise aiohttp.ClientConnectorCertificateError(req.connection_key, exc) from exc
        except ssl.SSLError as exc:
            raise aiohttp.ClientConnectorSSLError(req.connection_key, exc) from exc
        except TimeoutError:
            raise
        except OSError as exc:
            raise client_error(req.connection_key, exc) from exc

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:  # noqa: ASYNC109
        ctx = _TIMINGS.get()
        start = time.perf_counter()
        proto = await super()._create_connection(req, traces, timeout)
        if ctx is None:
            return proto
        ctx.connected = time.perf_counter()
        tcp_done = getattr(ctx, "tcp_connected", None)
        if tcp_done is not None:
            ctx.tls = ctx.connected - tcp_done
            ctx.connect = tcp_done - start - getattr(ctx, "dns", 0.0)
        else:
            ctx.connect = ctx.connected - start - getattr(ctx, "dns", 0.0)
        transport = proto.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if ssl_object is not None:
            ctx.der = ssl_object.getpeercert(binary_form=True)
            ctx.tls_version = ssl_object.version()
        return proto


def _cert_expiry(ctx: SimpleNamespace) -> datetime | None:
    der = getattr(ctx, "der", None)
    if not der:
        return None
    cert = x509.load_der_x509_certificate(der)
    return cert.not_valid_after_utc.astimezone(UTC)


class HttpProber:
    """Probes HTTP(S) endpoints; one per process, closed on shutdown."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._contexts: dict[tuple[bool, str | None], ssl.SSLContext] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = _TimingConnector(force_close=True, limit=0, ttl_dns_cache=10)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=True,
            )
        return self._session

    def _ssl(self, cfg: HttpConfig) -> ssl.SSLContext:
        key = (cfg.verify_tls, cfg.ca_file)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = ssl.create_default_context(cafile=cfg.ca_file)
            if not cfg.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._contexts[key] = ctx
        return ctx

    async def probe(self, cfg: HttpConfig) -> ProbeResult:
        """Make the request and judge the status; never raises for network trouble."""
        session = self._get_session()
        ctx = SimpleNamespace()
        token = _TIMINGS.set(ctx)
        headers = dict(cfg.headers)
        if cfg.bearer_token:
            headers["Authorization"] = f"Bearer {cfg.bearer_token}"
        if cfg.basic_auth:
            headers["Authorization"] = aiohttp.encode_basic_auth(*cfg.basic_auth)
        https = cfg.url.startswith("https:")
        start = time.perf_counter()
        status: int | None = None
        body = b""
        size = 0
        expiry: datetime | None = None
        details: dict[str, Any] = {"url": safe_url(cfg.url)}
        error: str | None = None
        connected = False
        phases: dict[str, float] = {}
        got_headers = start
        try:
            async with asyncio.timeout(cfg.timeout_s):
                async with session.request(
                    cfg.method,
                    cfg.url,
                    headers=headers,
                    data=cfg.body,
                    allow_redirects=cfg.follow_redirects,
                    ssl=self._ssl(cfg) if https else False,
                ) as resp:
                    got_headers = time.perf_counter()
                    connected = True
                    status = resp.status
                    details["redirects"] = len(resp.history)
                    async for chunk in resp.content.iter_any():
                        size += len(chunk)
                        if len(body) < cfg.max_body_bytes:
                            body += chunk[: cfg.max_body_bytes - len(body)]
        except TimeoutError:
            error = timed_out(cfg.timeout_s)
        except aiohttp.ClientConnectorCertificateError as exc:
            reason = getattr(exc.certificate_error, "verify_message", None) or str(exc)
            error = f"TLS certificate verify failed: {reason}"
        except aiohttp.ClientSSLError as exc:
            error = f"TLS error: {exc}"
        except aiohttp.ClientConnectorError as exc:
            error = describe_network_error(exc.os_error, urlsplit(cfg.url).hostname)
        except aiohttp.TooManyRedirects:
            error = "too many redirects"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        except OSError as exc:
            error = describe_network_error(exc)
        end = time.perf_counter()
        _TIMINGS.reset(token)
        expiry = _cert_expiry(ctx)
        if getattr(ctx, "tls_version", None):
            details["tls_version"] = ctx.tls_version
        connected = connected or hasattr(ctx, "connected")
        if hasattr(ctx, "dns"):
            phases["dns"] = ctx.dns
        if hasattr(ctx, "connect"):
            phases["connect"] = ctx.connect
        if hasattr(ctx, "tls"):
            phases["tls"] = ctx.tls
        if status is not None:
            # from the connection to the response headers: sending the request and the
            # server's processing
            phases["processing"] = max(0.0, got_headers - getattr(ctx, "connected", start))
            phases["transfer"] = end - got_headers
        if error is not None:
            error = _scrub(error, cfg)
        if (
            error is None
            and status is not None
            and not any(a <= status <= b for a, b in cfg.expected_status)
        ):
            error = f"status {status} not in expected {_expected(cfg.expected_status)}"
        return ProbeResult(
            ok=error is None,
            duration_s=end - start,
            status_code=status,
            body=body,
            body_size=size,
            phases=phases,
            certificate_expiry=expiry,
            connected=connected,
            error=error,
            details=details,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> HttpProber:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
