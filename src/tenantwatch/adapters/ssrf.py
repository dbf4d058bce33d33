"""SSRF guard at connect time: resolve a destination, check it (domain/ssrf.py), connect there.

Names are resolved once, checked, and the connection goes to the checked address (the
aiohttp resolver and connector below, `resolve_checked` and `open_connection` for plain
sockets), so a DNS answer that changes between check and connect (rebinding) cannot
slip through. Notifiers and the probes of checks made through the API share it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from tenantwatch.domain.ssrf import SsrfError, SsrfPolicy, allowed_only, is_internal

if TYPE_CHECKING:
    from aiohttp.tracing import Trace

__all__ = [
    "GuardedConnector",
    "GuardedResolver",
    "SsrfError",
    "SsrfPolicy",
    "checked_addresses",
    "is_internal",
    "open_connection",
    "resolve_checked",
]


async def resolve_checked(
    host: str,
    port: int,
    policy: SsrfPolicy,
    family: int = socket.AF_UNSPEC,
    *,
    listed_only: bool = False,
) -> list[tuple[int, str]]:
    """(family, address) pairs of host that the policy allows; SsrfError when none is."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
    except UnicodeError:  # the resolver's IDNA encoding refuses the name
        raise OSError(f"{host!r} is not a valid host name") from None
    found: list[tuple[int, str]] = []
    for fam, _, _, _, sockaddr in infos:
        if (fam, str(sockaddr[0])) not in found:
            found.append((fam, str(sockaddr[0])))
    if not found:
        raise OSError(f"{host} has no address")
    kept = set(
        allowed_only(host, [address for _, address in found], policy, listed_only=listed_only)
    )
    return [(fam, address) for fam, address in found if address in kept]


async def checked_addresses(
    host: str, port: int, policy: SsrfPolicy, *, listed_only: bool = False
) -> list[str]:
    """The addresses to connect to for host: its checked answers, or host itself when it
    is an allowed IP literal. SsrfError when the policy refuses them all."""
    literal = host.strip("[]")
    try:
        ipaddress.ip_address(literal.split("%", 1)[0])
    except ValueError:
        found = await resolve_checked(host, port, policy, listed_only=listed_only)
        return [address for _, address in found]
    policy.check_address(host, literal, listed_only=listed_only)
    return [literal]


async def open_connection(
    host: str, port: int, policy: SsrfPolicy | None, **kwargs: Any
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """asyncio.open_connection, to a checked address of host when a policy is given.

    Addresses are tried in the resolver's order; `server_hostname` (TLS) stays the name."""
    if policy is None:
        return await asyncio.open_connection(host, port, **kwargs)
    if kwargs.get("ssl") is not None:
        kwargs.setdefault("server_hostname", host)
    last: OSError | None = None
    for address in await checked_addresses(host, port, policy):
        try:
            return await asyncio.open_connection(address, port, **kwargs)
        except OSError as exc:
            last = exc
    assert last is not None
    raise last


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that drops internal answers the policy does not allow (SsrfError
    when nothing is left).

    aiohttp connects to exactly the addresses returned here, so the checked answer is the
    one used. IP-literal URLs bypass resolvers; check them with policy.check_literal, or
    use GuardedConnector, which checks both.
    """

    def __init__(self, policy: SsrfPolicy) -> None:
        self._policy = policy
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        kept = allowed_only(host, [r["host"] for r in results], self._policy)
        return [r for r in results if r["host"] in kept]

    async def close(self) -> None:
        await self._inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector that checks every host it connects to, names and IP literals alike,
    so each hop of a redirect chain passes the policy before any connection is made."""

    def __init__(self, policy: SsrfPolicy, **kwargs: Any) -> None:
        super().__init__(resolver=GuardedResolver(policy), **kwargs)
        self._policy = policy

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        self._policy.check_literal(host)
        return await super()._resolve_host(host, port, traces)
