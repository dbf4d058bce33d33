"""SSRF guard: refuse destinations that resolve to private, loopback or other internal addresses.

Names are resolved once, checked, and the connection goes to the checked address (the
aiohttp resolver below, `resolve_checked` for SMTP), so a DNS answer that changes between
check and connect (rebinding) cannot slip through. An allow-list of CIDRs and host names
(from the config) opens chosen internal destinations, e.g. 127.0.0.1 for a local relay.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SsrfError(Exception):
    """A destination refused by the policy; never worth retrying."""


def is_internal(ip: IPAddress) -> bool:
    """True for loopback, private, link-local, multicast, reserved and other non-global addresses."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class SsrfPolicy:
    """Which internal destinations are allowed: networks, and host names (exact, or
    '.example.com' for every name under it)."""

    networks: tuple[IPNetwork, ...] = ()
    hostnames: frozenset[str] = frozenset()

    @classmethod
    def from_allow_list(cls, entries: Sequence[str]) -> SsrfPolicy:
        """Parse CIDRs, addresses and host names; raise ValueError naming a bad entry."""
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for entry in entries:
            text = str(entry).strip()
            if not text:
                raise ValueError(
                    "allow_private: empty entry; give a CIDR such as 10.0.0.0/8 or a host name"
                )
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            if "/" in text or any(c.isspace() for c in text):
                raise ValueError(
                    f"allow_private: {text!r} is neither a CIDR (e.g. 10.0.0.0/8) nor a host name"
                )
            names.add(text.lower().rstrip("."))
        return cls(tuple(networks), frozenset(names))

    def host_allowed(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        return name in self.hostnames or any(
            h.startswith(".") and name.endswith(h) for h in self.hostnames
        )

    def check_address(self, host: str, address: str) -> None:
        """Raise SsrfError when `address` (what `host` resolved to) is internal and not allowed."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not is_internal(ip) or self.host_allowed(host):
            return
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if any(ip in net or (mapped is not None and mapped in net) for net in self.networks):
            return
        shown = host if host == address else f"{host} ({address})"
        raise SsrfError(
            f"refused to connect to {shown}: it is an internal address; "
            f"add it to allow_private (e.g. {ip}/32) if this destination is intended"
        )

    def check_literal(self, host: str) -> None:
        """Check a host given as an IP address (which no resolver sees); names pass."""
        try:
            ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
        except ValueError:
            return
        self.check_address(host, host.strip("[]"))


def allowed_only(host: str, addresses: list[str], policy: SsrfPolicy) -> list[str]:
    """The addresses the policy allows; SsrfError (about the first refused) if none is."""
    kept: list[str] = []
    refused: SsrfError | None = None
    for address in addresses:
        try:
            policy.check_address(host, address)
        except SsrfError as exc:
            refused = refused or exc
            continue
        kept.append(address)
    if not kept and refused is not None:
        raise refused
    return kept


async def resolve_checked(
    host: str, port: int, policy: SsrfPolicy, family: int = socket.AF_UNSPEC
) -> list[tuple[int, str]]:
    """(family, address) pairs of host that the policy allows; SsrfError when none is."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
    found: list[tuple[int, str]] = []
    for fam, _, _, _, sockaddr in infos:
        if (fam, str(sockaddr[0])) not in found:
            found.append((fam, str(sockaddr[0])))
    if not found:
        raise OSError(f"{host} has no address")
    kept = set(allowed_only(host, [address for _, address in found], policy))
    return [(fam, address) for fam, address in found if address in kept]


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that drops internal answers the policy does not allow (SsrfError
    when nothing is left).

    aiohttp connects to exactly the addresses returned here, so the checked answer is the
    one used. IP-literal URLs bypass resolvers; check them with policy.check_literal.
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
