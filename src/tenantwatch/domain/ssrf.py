"""The SSRF policy's decision: which resolved addresses a destination may be reached at.

Pure: it looks at addresses something else resolved (adapters/ssrf.py resolves, checks
here, then connects to the address it checked). An allow-list of CIDRs and host names
(from the config) opens chosen internal destinations, e.g. 127.0.0.1 for a local relay.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

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
    '.example.com' for every name under it). `setting` names the config key of the list,
    for error messages."""

    networks: tuple[IPNetwork, ...] = ()
    hostnames: frozenset[str] = frozenset()
    setting: str = "allow_private"

    @classmethod
    def from_allow_list(cls, entries: Sequence[str], setting: str = "allow_private") -> SsrfPolicy:
        """Parse CIDRs, addresses and host names; raise ValueError naming a bad entry."""
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for entry in entries:
            text = str(entry).strip()
            if not text:
                raise ValueError(
                    f"{setting}: empty entry; give a CIDR such as 10.0.0.0/8 or a host name"
                )
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            if "/" in text or any(c.isspace() for c in text):
                raise ValueError(
                    f"{setting}: {text!r} is neither a CIDR (e.g. 10.0.0.0/8) nor a host name"
                )
            names.add(text.lower().rstrip("."))
        return cls(tuple(networks), frozenset(names), setting)

    def host_allowed(self, host: str) -> bool:
        """True when the host name itself is on the list (whatever it resolves to)."""
        name = host.lower().rstrip(".")
        return name in self.hostnames or any(
            h.startswith(".") and name.endswith(h) for h in self.hostnames
        )

    def listed(self, host: str, address: str) -> bool:
        """True when the host name or the address is on the list."""
        if self.host_allowed(host):
            return True
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        return any(ip in net or (mapped is not None and mapped in net) for net in self.networks)

    def check_address(self, host: str, address: str, *, listed_only: bool = False) -> None:
        """Raise SsrfError when `address` (what `host` resolved to) is internal and not
        allowed; with `listed_only`, unless the host or the address is on the list."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if (not listed_only and not is_internal(ip)) or self.listed(host, address):
            return
        shown = host if host == address else f"{host} ({address})"
        if listed_only:
            raise SsrfError(
                f"refused to connect to {shown}: it is not on {self.setting}; "
                f"add it there (e.g. {ip}/32 or the host name) if this destination is intended"
            )
        raise SsrfError(
            f"refused to connect to {shown}: it is an internal address; "
            f"add it to {self.setting} (e.g. {ip}/32) if this destination is intended"
        )

    def check_literal(self, host: str, *, listed_only: bool = False) -> None:
        """Check a host given as an IP address (which no resolver sees); names pass."""
        try:
            ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
        except ValueError:
            return
        self.check_address(host, host.strip("[]"), listed_only=listed_only)


def allowed_only(
    host: str, addresses: Sequence[str], policy: SsrfPolicy, *, listed_only: bool = False
) -> list[str]:
    """The addresses the policy allows; SsrfError (about the first refused) if none is."""
    kept: list[str] = []
    refused: SsrfError | None = None
    for address in addresses:
        try:
            policy.check_address(host, address, listed_only=listed_only)
        except SsrfError as exc:
            refused = refused or exc
            continue
        kept.append(address)
    if not kept and refused is not None:
        raise refused
    return kept
