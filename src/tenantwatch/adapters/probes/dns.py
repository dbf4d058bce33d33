"""DNS probe: ask one nameserver for a record and compare the answers or the rcode."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver

from tenantwatch.adapters.probes.tcp import check_timeout, describe_network_error, timed_out
from tenantwatch.domain.probe_result import ProbeResult
from tenantwatch.domain.probe_targets import parse_nameserver
from tenantwatch.domain.ssrf import SsrfError, SsrfPolicy

__all__ = ["DnsConfig", "normalize_answer", "parse_nameserver", "probe_dns"]

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA")
RCODES = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED")


@dataclass(frozen=True, slots=True)
class DnsConfig:
    """What to ask, whom to ask ("ip" or "ip:port", "[v6]:port"; None reads /etc/resolv.conf)
    and what must come back.

    `expected_answers` is compared as a set with the answers of `record_type`: addresses
    as IPs, names without the final dot and in lower case, TXT strings joined, MX as
    "10 mail.example.com". `expected_rcode` defaults to NOERROR.
    """

    name: str
    record_type: str = "A"
    nameserver: str | None = None
    expected_answers: frozenset[str] | None = None
    expected_rcode: str = "NOERROR"
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        try:
            dns.name.from_text(self.name)
        except dns.exception.DNSException as exc:
            raise ValueError(f"dns check: name {self.name!r} is not a domain name: {exc}") from exc
        if self.record_type not in RECORD_TYPES:
            raise ValueError(
                f"dns check: record type {self.record_type!r} is not supported; "
                f"use one of {', '.join(RECORD_TYPES)}"
            )
        if self.expected_rcode not in RCODES:
            raise ValueError(
                f"dns check: rcode {self.expected_rcode!r} is not known; "
                f"use one of {', '.join(RCODES)}"
            )
        if self.nameserver is not None:
            parse_nameserver(self.nameserver)
        check_timeout("dns", self.timeout_s)
        if self.expected_answers is not None:
            object.__setattr__(self, "expected_answers", frozenset(self.expected_answers))


def normalize_answer(record_type: str, text: str) -> str:
    """The form answers are compared in: canonical IPs, names lower case without final dot."""
    if record_type in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(text.strip()))
        except ValueError:
            return text.strip()
    if record_type == "TXT":
        return text
    return " ".join(token.rstrip(".") for token in text.lower().split())


def _answer_text(rdata: Any) -> str:
    if rdata.rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "replace")
    return str(rdata.to_text())


async def probe_dns(cfg: DnsConfig, policy: SsrfPolicy | None = None) -> ProbeResult:
    """Send one query (UDP, TCP when truncated) and judge the reply. Never raises for I/O.

    With a policy, a nameserver the check names must pass it (the system's resolver,
    used when it names none, is the one every name lookup goes through anyway)."""
    start = time.perf_counter()
    phases: dict[str, float] = {}
    details: dict[str, Any] = {"name": cfg.name, "record_type": cfg.record_type}
    body = b""
    connected = False
    error: str | None = None
    try:
        host, port = _nameserver(cfg)
        if policy is not None and cfg.nameserver is not None:
            policy.check_literal(host)
        details["nameserver"] = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
        query = dns.message.make_query(cfg.name, cfg.record_type)
        async with asyncio.timeout(cfg.timeout_s):
            reply, _ = await dns.asyncquery.udp_with_fallback(
                query, host, timeout=cfg.timeout_s, port=port
            )
        connected = True
        phases["request"] = time.perf_counter() - start
        answers = _answers(reply, cfg.record_type)
        rcode = dns.rcode.to_text(reply.rcode())
        details.update(rcode=rcode, answers=sorted(answers))
        body = "\n".join(sorted(answers)).encode()
        error = _judge(cfg, rcode, answers)
    except (TimeoutError, dns.exception.Timeout):
        error = timed_out(cfg.timeout_s)
    except OSError as exc:
        error = describe_network_error(exc)
    except dns.exception.DNSException as exc:
        error = f"bad DNS reply: {exc}"
    except (ValueError, SsrfError) as exc:
        error = str(exc)
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


def _nameserver(cfg: DnsConfig) -> tuple[str, int]:
    if cfg.nameserver is not None:
        return parse_nameserver(cfg.nameserver)
    try:
        servers = dns.resolver.Resolver().nameservers
    except dns.exception.DNSException as exc:
        raise ValueError(f"no nameserver given and none found in /etc/resolv.conf: {exc}") from exc
    if not servers:
        raise ValueError("no nameserver given and none found in /etc/resolv.conf")
    return parse_nameserver(str(servers[0]))


def _answers(reply: dns.message.Message, record_type: str) -> set[str]:
    wanted = dns.rdatatype.from_text(record_type)
    return {
        normalize_answer(record_type, _answer_text(rdata))
        for rrset in reply.answer
        if rrset.rdtype == wanted
        for rdata in rrset
    }


def _judge(cfg: DnsConfig, rcode: str, answers: set[str]) -> str | None:
    """Return why the reply fails the check, or None when it passes."""
    if rcode != cfg.expected_rcode:
        return f"rcode {rcode}, expected {cfg.expected_rcode}"
    if cfg.expected_answers is None:
        return None
    expected = {normalize_answer(cfg.record_type, a) for a in cfg.expected_answers}
    if answers == expected:
        return None
    missing = sorted(expected - answers)
    extra = sorted(answers - expected)
    parts = [f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else ""]
    return f"{cfg.record_type} answers differ: " + "; ".join(p for p in parts if p)
