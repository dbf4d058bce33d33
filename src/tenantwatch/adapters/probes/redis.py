"""Redis probe: PING, then report used_memory and connected_clients from INFO.

Given an SSRF policy (checks made through the API), it connects only to a destination
the policy lists: a listed host name as it is, otherwise the address that was checked.
It needs the `redis` extra (pip install 'tenantwatch[redis]'); without it a check fails
with that sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from tenantwatch.adapters.extras import MissingExtra, require
from tenantwatch.adapters.probes.tcp import check_timeout, describe_network_error, timed_out
from tenantwatch.adapters.ssrf import SsrfError, SsrfPolicy, checked_addresses
from tenantwatch.domain.checks import CheckKind, redact_url
from tenantwatch.domain.probe_result import ProbeResult
from tenantwatch.domain.probe_targets import probe_target

if TYPE_CHECKING:
    import redis.exceptions

_SCHEMES = ("redis", "rediss", "unix")
_INFO_FIGURES = ("redis_version", "used_memory", "maxmemory", "connected_clients", "maxclients")


@dataclass(frozen=True, slots=True)
class RedisConfig:
    """A Redis URL (it may hold a password, so it stays out of repr) and a timeout."""

    url: str = field(repr=False)
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        scheme = self.url.split("://", 1)[0] if "://" in self.url else ""
        if scheme not in _SCHEMES:
            raise ValueError(
                f"redis check: URL {redact_url(self.url)!r} is not a Redis URL; "
                "write it as redis://[:password@]host:6379/0 (rediss:// for TLS)"
            )
        check_timeout("redis", self.timeout_s)

    @property
    def safe_url(self) -> str:
        """The URL with its password replaced by ***."""
        return redact_url(self.url)


def _scrub(text: str, url: str) -> str:
    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    for secret in {password or "", unquote(password or "")} - {""}:
        text = text.replace(secret, "***")
    return text


def _describe(exc: redis.exceptions.RedisError) -> str:
    import redis.exceptions

    # redis-py wraps socket errors in its own ConnectionError; the cause says what happened.
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, OSError):
        return describe_network_error(cause)
    if isinstance(exc, redis.exceptions.AuthenticationError):
        return f"authentication failed: {exc}"
    if isinstance(exc, redis.exceptions.TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


async def _checked_url(cfg: RedisConfig, policy: SsrfPolicy | None) -> str:
    """cfg.url, with its host replaced by a checked address unless the policy lists the name."""
    if policy is None:
        return cfg.url
    target = probe_target(CheckKind.REDIS, {"url": cfg.url})
    assert target is not None
    if policy.host_allowed(target.host):
        return cfg.url
    address = (await checked_addresses(target.host, target.port, policy, listed_only=True))[0]
    parts = urlsplit(cfg.url)
    userinfo = parts.netloc.rpartition("@")[0]
    host = f"[{address}]" if ":" in address else address
    netloc = f"{userinfo}@" if userinfo else ""
    return urlunsplit(parts._replace(netloc=f"{netloc}{host}:{target.port}"))


async def probe_redis(cfg: RedisConfig, policy: SsrfPolicy | None = None) -> ProbeResult:
    """PING the server and read INFO; return the outcome. Never raises for network trouble."""
    start = time.perf_counter()
    details: dict[str, Any] = {"url": cfg.safe_url}
    try:
        require("redis", extra="redis", feature="A redis check")
    except MissingExtra as exc:
        return ProbeResult(ok=False, duration_s=0.0, error=str(exc), details=details)
    try:
        async with asyncio.timeout(cfg.timeout_s):
            url = await _checked_url(cfg, policy)
    except (SsrfError, OSError, TimeoutError) as exc:
        error = str(exc) if isinstance(exc, SsrfError) else _network_error(exc, cfg)
        return ProbeResult(
            ok=False, duration_s=time.perf_counter() - start, error=error, details=details
        )
    return await _probe(cfg, url, start, details)


def _network_error(exc: OSError | TimeoutError, cfg: RedisConfig) -> str:
    if isinstance(exc, TimeoutError):
        return timed_out(cfg.timeout_s)
    return describe_network_error(exc)


async def _probe(cfg: RedisConfig, url: str, start: float, details: dict[str, Any]) -> ProbeResult:
    import redis.asyncio
    import redis.exceptions

    phases: dict[str, float] = {}
    connected = False
    body = b""
    error: str | None = None
    client = redis.asyncio.from_url(
        url,
        single_connection_client=True,
        socket_connect_timeout=cfg.timeout_s,
        socket_timeout=cfg.timeout_s,
        # A probe reports what it saw; retries would hide flaps and stretch the timeout.
        retry_on_timeout=False,
        retry=None,
    )
    try:
        async with asyncio.timeout(max(0.001, cfg.timeout_s - (time.perf_counter() - start))):
            await client.initialize()
            connected = True
            phases["connect"] = time.perf_counter() - start
            pong = await client.ping()
            phases["processing"] = time.perf_counter() - start - phases["connect"]
            body = b"PONG" if pong is True else str(pong).encode()
            info = await client.info()
            details.update({k: info[k] for k in _INFO_FIGURES if k in info})
    except TimeoutError:
        error = timed_out(cfg.timeout_s)
    except redis.exceptions.RedisError as exc:
        error = _scrub(_describe(exc), cfg.url)
    except OSError as exc:
        error = describe_network_error(exc)
    finally:
        with contextlib.suppress(OSError, redis.exceptions.RedisError):
            await client.aclose()
    return ProbeResult(
        ok=error is None,
        duration_s=time.perf_counter() - start,
        status_code=None,
        body=body,
        body_size=len(body),
        phases=phases,
        certificate_expiry=None,
        connected=connected,
        error=error,
        details=details,
    )
