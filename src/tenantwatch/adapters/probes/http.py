"""HTTP probe on aiohttp: status, body, phase timings and the TLS certificate's expiry.

`HttpProber` owns one ClientSession whose connector has `force_close=True` (every check
opens a new connection, as a health check should: a pooled connection would hide connect
and TLS trouble) and `limit=0`, plus one TraceConfig whose handlers write timestamps on a
small per-request `_Timings` object passed as `trace_request_ctx`.

Phases (seconds; disjoint, so they never add up to more than `duration_s`; summed over
the hops when redirects are followed):
- dns: `on_dns_resolvehost_start/end`; absent for an IP address or a DNS-cache hit (the
  connector caches answers for 10 s);
- connect: from `on_connection_create_start` to the TCP connection being ready, less dns;
- tls (https): from the TCP connection being ready to `on_connection_create_end`. aiohttp
  times TCP and TLS as one step, so the split point comes from `TimedSSLContext` (see the
  tls probe): asyncio creates the SSLObject right after the socket connects;
- processing: from `on_request_headers_sent` / the last `on_request_chunk_sent` to the
  response headers;
- transfer: from the response headers to the end of the body.

The leaf certificate is read from the SSLObject in `on_connection_create_end`, before the
connection can close, also when `verify_tls=False`. When verification fails the probe
handshakes once more without verification, so the result still carries the expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace, TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from tenantwatch.adapters.probes.tcp import check_timeout, describe_network_error, timed_out
from tenantwatch.adapters.probes.tls import (
    HANDSHAKE_MARKS,
    HandshakeMarks,
    certificate_expiry,
    client_context,
    read_certificate,
    verify_reason,
)
from tenantwatch.adapters.ssrf import GuardedConnector, SsrfError, SsrfPolicy
from tenantwatch.domain.probe_result import ProbeResult

MAX_REDIRECTS = 10
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """One HTTP(S) request and the statuses that count as up."""

    url: str  # http:// or https://
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    expected_status: tuple[tuple[int, int], ...] = ((200, 399),)  # inclusive ranges
    follow_redirects: bool = True
    verify_tls: bool = True
    timeout_s: float = 10.0
    max_body_bytes: int = 1_048_576  # the body kept in the result; body_size is all of it
    ca_file: str | None = None  # extra trust (PEM), on top of the system's CAs
    # Worked out once here rather than on every request.
    _headers: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)
    _secrets: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)
    _safe_url: str = field(default="", init=False, repr=False, compare=False)
    _timeout: aiohttp.ClientTimeout | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        _check_url(self.url)
        check_timeout("http", self.timeout_s)
        if not _TOKEN.fullmatch(self.method):
            raise ValueError(f"http check: method {self.method!r} is not valid; e.g. GET or POST")
        _check_statuses(self.expected_status)
        _check_max_body(self.max_body_bytes)
        headers = _request_headers(self)
        secrets = _secrets_of(self, headers)
        object.__setattr__(self, "_headers", headers or None)
        object.__setattr__(self, "_secrets", secrets)
        object.__setattr__(self, "_safe_url", scrub(safe_url(self.url), secrets))
        object.__setattr__(self, "_timeout", aiohttp.ClientTimeout(total=self.timeout_s))


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    shown = safe_url(url)
    if parts is None or parts.scheme not in ("http", "https"):
        raise ValueError(
            f"http check: url {shown!r} must start with http:// or https://, "
            "e.g. https://example.com/health"
        )
    if not host:
        raise ValueError(f"http check: url {shown!r} has no host; e.g. https://example.com/health")


def _check_statuses(ranges: tuple[tuple[int, int], ...]) -> None:
    if not ranges:
        raise ValueError("http check: 'expected_status' is empty; e.g. ((200, 399),)")
    for pair in ranges:
        ok = (
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(c, int) and not isinstance(c, bool) for c in pair)
            and 100 <= pair[0] <= pair[1] <= 599
        )
        if not ok:
            raise ValueError(
                f"http check: expected status {pair!r} is not a range of codes; "
                "give (low, high) within 100-599, e.g. (200, 299) or (204, 204)"
            )


def _check_max_body(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(
            f"http check: max_body_bytes {limit!r} must be a whole number of bytes >= 0"
        )


def _request_headers(cfg: HttpConfig) -> dict[str, str]:
    """cfg.headers plus the Authorization header; refuses values that would split lines."""
    headers: dict[str, str] = {}
    for name, value in cfg.headers:
        if not _TOKEN.fullmatch(name) or "\r" in value or "\n" in value:
            raise ValueError(
                f"http check: header {name!r} is not valid; names are tokens and values "
                "have no line breaks"
            )
        headers[name] = value
    if cfg.basic_auth is not None and cfg.bearer_token is not None:
        raise ValueError("http check: give either basic_auth or bearer_token, not both")
    if cfg.basic_auth is not None:
        user, password = cfg.basic_auth
        if ":" in user:
            raise ValueError("http check: the basic_auth user name must not contain ':'")
        headers["Authorization"] = aiohttp.encode_basic_auth(user, password)
    if cfg.bearer_token is not None:
        if not cfg.bearer_token or any(c.isspace() for c in cfg.bearer_token):
            raise ValueError("http check: bearer_token is empty or has spaces; give the token")
        headers["Authorization"] = f"Bearer {cfg.bearer_token}"
    return headers


def _secrets_of(cfg: HttpConfig, headers: dict[str, str]) -> tuple[str, ...]:
    """The strings that must never show in a result (longest first)."""
    found = [urlsplit(cfg.url).password, cfg.bearer_token, headers.get("Authorization")]
    if cfg.basic_auth is not None:
        found.append(cfg.basic_auth[1])
        found.append(headers["Authorization"].removeprefix("Basic "))
    return tuple(sorted({s for s in found if s}, key=len, reverse=True))


def safe_url(url: str) -> str:
    """The URL without its user name and password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """text with every secret replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _expected_status(status: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= status <= high for low, high in ranges)


def _expected(ranges: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)


class _Timings(HandshakeMarks):
    """Timestamps of one probe, written by the trace handlers (perf_counter seconds)."""

    __slots__ = (
        "conn_start",
        "connect",
        "connected",
        "der",
        "dns",
        "dns_hop",
        "dns_start",
        "hop_open",
        "processing",
        "redirects",
        "sent",
        "tls",
        "tls_version",
    )

    def __init__(self) -> None:
        super().__init__()
        self.conn_start = 0.0
        self.dns_start = 0.0
        self.dns_hop = 0.0
        self.hop_open = False
        self.connected = False
        self.dns: float | None = None
        self.connect: float | None = None
        self.tls: float | None = None
        self.sent: float | None = None
        self.processing = 0.0
        self.redirects = 0
        self.der: bytes | None = None
        self.tls_version: str | None = None

    def close_hop(self, now: float) -> None:
        """Book a connection's connect (and tls) time; `now` is when it was ready or failed."""
        self.hop_open = False
        tcp_done = self.tcp_done if self.tcp_done is not None else now
        self.connect = (self.connect or 0.0) + tcp_done - self.conn_start - self.dns_hop
        if self.tcp_done is not None and now > self.tcp_done:
            self.tls = (self.tls or 0.0) + now - self.tcp_done

    def phases(self, start: float, got_headers: float | None, end: float) -> dict[str, float]:
        if self.hop_open and self.tcp_done is not None:
            self.close_hop(self.tcp_done)  # connected, then the handshake failed
        phases: dict[str, float] = {}
        if self.dns is not None:
            phases["dns"] = self.dns
        if self.connect is not None:
            phases["connect"] = max(0.0, self.connect)
        if self.tls is not None:
            phases["tls"] = self.tls
        if got_headers is not None:
            sent = self.sent if self.sent is not None else start
            phases["processing"] = self.processing + max(0.0, got_headers - sent)
            phases["transfer"] = end - got_headers
        return phases


def _timings(ctx: SimpleNamespace) -> _Timings:
    timings: _Timings = ctx.trace_request_ctx
    return timings


async def _on_connection_create_start(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: object
) -> None:
    t = _timings(ctx)
    t.conn_start = time.perf_counter()
    t.dns_hop = 0.0
    t.tcp_done = None
    t.hop_open = True


async def _on_dns_start(_: aiohttp.ClientSession, ctx: SimpleNamespace, __: object) -> None:
    _timings(ctx).dns_start = time.perf_counter()


async def _on_dns_end(_: aiohttp.ClientSession, ctx: SimpleNamespace, __: object) -> None:
    t = _timings(ctx)
    took = time.perf_counter() - t.dns_start
    t.dns_hop += took
    t.dns = (t.dns or 0.0) + took


async def _on_connection_create_end(
    _: aiohttp.ClientSession, ctx: SimpleNamespace, __: object
) -> None:
    now = time.perf_counter()
    t = _timings(ctx)
    t.connected = True
    t.close_hop(now)
    obj = t.ssl_object
    if obj is not None:
        t.der = obj.getpeercert(binary_form=True)
        t.tls_version = obj.version()
        t.ssl_object = None


async def _on_request_sent(_: aiohttp.ClientSession, ctx: SimpleNamespace, __: object) -> None:
    _timings(ctx).sent = time.perf_counter()


async def _on_redirect(_: aiohttp.ClientSession, ctx: SimpleNamespace, __: object) -> None:
    t = _timings(ctx)
    if t.sent is not None:
        t.processing += time.perf_counter() - t.sent
        t.sent = None
    t.redirects += 1


def _trace_config() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_connection_create_start.append(_on_connection_create_start)
    trace.on_connection_create_end.append(_on_connection_create_end)
    trace.on_dns_resolvehost_start.append(_on_dns_start)
    trace.on_dns_resolvehost_end.append(_on_dns_end)
    trace.on_request_headers_sent.append(_on_request_sent)
    trace.on_request_chunk_sent.append(_on_request_sent)
    trace.on_request_redirect.append(_on_redirect)
    return trace


async def _read_body(content: aiohttp.StreamReader, limit: int) -> tuple[bytes, int]:
    """Read to the end; keep the first `limit` bytes, count them all."""
    chunks: list[bytes] = []
    kept = size = 0
    while chunk := await content.readany():
        size += len(chunk)
        if kept < limit:
            part = chunk[: limit - kept]
            chunks.append(part)
            kept += len(part)
    return b"".join(chunks), size


class HttpProber:
    """Probes HTTP(S) endpoints over one session; one per process, closed on shutdown.

    With a policy, every host the session connects to (the URL's and each redirect's,
    names and IP addresses alike) passes it first, and the connection goes to the address
    that was checked."""

    def __init__(self, policy: SsrfPolicy | None = None) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._trace = _trace_config()
        self._policy = policy

    def _open(self) -> aiohttp.ClientSession:
        options: dict[str, Any] = {"force_close": True, "limit": 0, "ttl_dns_cache": 10}
        connector = (
            aiohttp.TCPConnector(**options)
            if self._policy is None
            else GuardedConnector(self._policy, **options)
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trace_configs=[self._trace],
            headers={"User-Agent": "tenantwatch"},
            max_field_size=16384,
        )
        return self._session

    async def probe(self, cfg: HttpConfig) -> ProbeResult:
        """Make the request and judge the status; never raises for network/HTTP/TLS trouble."""
        session = self._session
        if session is None or session.closed:
            session = self._open()
        t = _Timings()
        token = HANDSHAKE_MARKS.set(t)
        status: int | None = None
        got_headers: float | None = None
        body, size = b"", 0
        error: str | None = None
        start = time.perf_counter()
        try:
            async with session.request(
                cfg.method,
                cfg.url,
                headers=cfg._headers,
                data=cfg.body,
                allow_redirects=cfg.follow_redirects,
                max_redirects=MAX_REDIRECTS,
                ssl=client_context(cfg.verify_tls, cfg.ca_file),
                timeout=cfg._timeout,
                trace_request_ctx=t,
            ) as resp:
                got_headers = time.perf_counter()
                status = resp.status
                body, size = await _read_body(resp.content, cfg.max_body_bytes)
        except SsrfError as exc:
            error = str(exc) if not t.redirects else f"redirect {t.redirects}: {exc}"
        except aiohttp.ClientConnectorCertificateError as exc:
            error = f"TLS certificate verify failed: {_cert_reason(exc)}"
            await _read_expiry(exc, cfg, t, start, self._policy)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = _describe(exc, cfg, t)
        finally:
            HANDSHAKE_MARKS.reset(token)
        end = time.perf_counter()
        if error is not None:
            error = scrub(error, cfg._secrets)
        elif status is not None and not _expected_status(status, cfg.expected_status):
            error = f"status {status} not in expected {_expected(cfg.expected_status)}"
        return self._result(cfg, t, error, status, body, size, start, got_headers, end)

    @staticmethod
    def _result(
        cfg: HttpConfig,
        t: _Timings,
        error: str | None,
        status: int | None,
        body: bytes,
        size: int,
        start: float,
        got_headers: float | None,
        end: float,
    ) -> ProbeResult:
        details: dict[str, Any] = {"url": cfg._safe_url, "redirects": t.redirects}
        if t.tls_version is not None:
            details["tls_version"] = t.tls_version
        expiry: datetime | None = certificate_expiry(t.der) if t.der else None
        return ProbeResult(
            ok=error is None,
            duration_s=end - start,
            status_code=status,
            body=body,
            body_size=size,
            phases=t.phases(start, got_headers, end),
            certificate_expiry=expiry,
            connected=t.connected or t.tcp_done is not None,
            error=error,
            details=details,
        )

    async def close(self) -> None:
        """Close the session (and its connector)."""
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


async def _read_expiry(
    exc: aiohttp.ClientConnectorCertificateError,
    cfg: HttpConfig,
    t: _Timings,
    start: float,
    policy: SsrfPolicy | None,
) -> None:
    """After a failed verification, read the certificate unverified (within the timeout)."""
    left = cfg.timeout_s - (time.perf_counter() - start)
    with contextlib.suppress(OSError, TimeoutError, SsrfError):
        async with asyncio.timeout(max(left, 0.001)):
            peer = await read_certificate(exc.host, exc.port or 443, exc.host, policy)
        t.der, t.tls_version = peer.der, peer.tls_version


def _cert_reason(exc: aiohttp.ClientConnectorCertificateError) -> str:
    cause = exc.certificate_error
    if isinstance(cause, ssl.SSLCertVerificationError):
        return verify_reason(cause)
    return str(cause)


def _describe(exc: BaseException, cfg: HttpConfig, t: _Timings) -> str:
    """A short sentence for what went wrong (secrets are scrubbed by the caller)."""
    if isinstance(exc, TimeoutError):
        return timed_out(cfg.timeout_s)
    if isinstance(exc, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError):
        cause = getattr(exc, "os_error", exc)
        return f"TLS handshake failed: {getattr(cause, 'reason', None) or cause}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        text = describe_network_error(exc.os_error, exc.host)
        return f"TLS handshake failed: {text}" if t.tcp_done is not None else text
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"too many redirects (more than {MAX_REDIRECTS}); check for a redirect loop"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection before a full response"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"incomplete response body: {exc}"[:300]
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"invalid response: {exc.message}"[:300]
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid redirect URL {safe_url(str(exc.url))!r}"[:300]
    if isinstance(exc, OSError):
        return describe_network_error(exc)
    return f"{type(exc).__name__}: {exc}"[:300]
