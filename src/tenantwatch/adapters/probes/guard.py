"""The SSRF guard a check made through the API passes when it is created or replaced.

It resolves the check's destination and applies the pure decision (domain/probe_targets
`decide`). A name that cannot be resolved now is accepted: the probe resolves and checks
again at every run, and connects only to the address it checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from typing import Any

from tenantwatch.config.model import CheckRunnerConfig
from tenantwatch.domain.checks import CheckKind
from tenantwatch.domain.probe_targets import SETTING, ProbeTarget, decide, probe_target
from tenantwatch.domain.ssrf import SsrfError, SsrfPolicy

RESOLVE_TIMEOUT_S = 5.0


def probe_policy(config: CheckRunnerConfig) -> SsrfPolicy:
    """The SSRF policy of checks made through the API, from check_runner's allow-list."""
    return SsrfPolicy.from_allow_list(config.allow_private_targets, setting=SETTING)


async def addresses_of(host: str, port: int) -> list[str]:
    """What host resolves to (itself for an IP address), unchecked, in the resolver's order."""
    literal = host.strip("[]")
    try:
        ipaddress.ip_address(literal.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class ProbeGuard:
    """services.check_admission.TargetGuard over the resolver and an SsrfPolicy."""

    def __init__(self, policy: SsrfPolicy, timeout_s: float = RESOLVE_TIMEOUT_S) -> None:
        self.policy = policy
        self.timeout_s = timeout_s

    async def refusal(self, kind: CheckKind, settings: Mapping[str, Any]) -> str | None:
        try:
            target: ProbeTarget | None = probe_target(kind, settings)
        except ValueError as exc:
            return str(exc)
        if target is None:
            return None
        try:
            async with asyncio.timeout(self.timeout_s):
                found = await addresses_of(target.host, target.port)
        except UnicodeError:  # the resolver's IDNA encoding refuses the name
            return f"{target.host!r} is not a valid host name; use a DNS name or an IP address"
        except (OSError, TimeoutError):
            return None  # not resolvable now; every run checks again
        try:
            decide(target, found, self.policy)
        except SsrfError as exc:
            return str(exc)
        return None
