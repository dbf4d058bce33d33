"""The dns probe against a tiny UDP nameserver run on a loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import cast

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from tenantwatch.adapters.probes.dns import DnsConfig, parse_nameserver, probe_dns

ZONE: dict[tuple[str, str], list[str]] = {
    ("app.example.test.", "A"): ["127.0.0.10", "127.0.0.11"],
    ("app.example.test.", "AAAA"): ["::1"],
    ("www.example.test.", "CNAME"): ["App.Example.Test."],
    ("example.test.", "MX"): ["10 mail.example.test."],
    ("example.test.", "TXT"): ['"v=spf1 " "-all"'],
}


class _Nameserver(asyncio.DatagramProtocol):
    """Answers from ZONE; a name it does not hold gets NXDOMAIN, a known name NOERROR."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        question = query.question[0]
        name, kind = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
        if kind == "A" and (name, "CNAME") in ZONE:
            reply.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", *ZONE[name, "CNAME"]))
            name = ZONE[name, "CNAME"][0].lower()
        if (name, kind) in ZONE:
            reply.answer.append(dns.rrset.from_text(name, 60, "IN", kind, *ZONE[name, kind]))
        elif not any(known == name for known, _ in ZONE):
            reply.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(reply.to_wire(), addr)


class _Mute(asyncio.DatagramProtocol):
    pass


async def _serve(protocol: type[asyncio.DatagramProtocol]) -> tuple[asyncio.BaseTransport, str]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(protocol, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    return transport, f"127.0.0.1:{port}"


@pytest.fixture
async def nameserver() -> AsyncIterator[str]:
    transport, where = await _serve(_Nameserver)
    yield where
    transport.close()


async def test_it_passes_when_the_a_records_match_as_a_set(nameserver: str) -> None:
    expected = frozenset({"127.0.0.11", "127.0.0.10"})
    cfg = DnsConfig("app.example.test", nameserver=nameserver, expected_answers=expected)
    result = await probe_dns(cfg)
    assert result.ok, result.error
    assert result.connected
    assert result.details["rcode"] == "NOERROR"
    assert result.details["answers"] == ["127.0.0.10", "127.0.0.11"]
    assert result.body == b"127.0.0.10\n127.0.0.11"
    assert set(result.phases) == {"request"}


async def test_it_names_missing_and_unexpected_answers(nameserver: str) -> None:
    expected = frozenset({"127.0.0.10", "127.0.0.99"})
    cfg = DnsConfig("app.example.test", nameserver=nameserver, expected_answers=expected)
    result = await probe_dns(cfg)
    assert not result.ok
    assert result.error == "A answers differ: missing ['127.0.0.99']; unexpected ['127.0.0.11']"


async def test_it_fails_a_lookup_of_an_unknown_name_by_default(nameserver: str) -> None:
    result = await probe_dns(DnsConfig("gone.example.test", nameserver=nameserver))
    assert not result.ok
    assert result.details["rcode"] == "NXDOMAIN"
    assert result.error == "rcode NXDOMAIN, expected NOERROR"


async def test_it_passes_when_nxdomain_is_what_was_expected(nameserver: str) -> None:
    cfg = DnsConfig("gone.example.test", nameserver=nameserver, expected_rcode="NXDOMAIN")
    result = await probe_dns(cfg)
    assert result.ok, result.error
    assert result.details["answers"] == []


async def test_it_keeps_only_answers_of_the_asked_type(nameserver: str) -> None:
    expected = frozenset({"127.0.0.10", "127.0.0.11"})
    cfg = DnsConfig("www.example.test", nameserver=nameserver, expected_answers=expected)
    assert (await probe_dns(cfg)).ok


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("www.example.test", "CNAME", "app.example.test."),
        ("app.example.test", "AAAA", "0:0::1"),
        ("example.test", "MX", "10 MAIL.example.test"),
        ("example.test", "TXT", "v=spf1 -all"),
    ],
)
async def test_it_compares_answers_in_a_normal_form(
    nameserver: str, name: str, kind: str, expected: str
) -> None:
    cfg = DnsConfig(name, kind, nameserver, expected_answers=frozenset({expected}))
    result = await probe_dns(cfg)
    assert result.ok, (result.error, result.details)


async def test_it_times_out_on_a_nameserver_that_never_answers() -> None:
    transport, where = await _serve(_Mute)
    try:
        result = await probe_dns(DnsConfig("app.example.test", nameserver=where, timeout_s=0.3))
    finally:
        transport.close()
    assert not result.ok
    assert not result.connected
    assert result.error == "timed out after 0.3 s"
    assert result.duration_s < 2


def test_it_parses_nameservers_with_and_without_ports() -> None:
    assert parse_nameserver("127.0.0.1") == ("127.0.0.1", 53)
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("::1") == ("::1", 53)
    assert parse_nameserver("[::1]:5353") == ("::1", 5353)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"record_type": "PTR"}, "record type 'PTR' is not supported; use one of A, AAAA"),
        ({"expected_rcode": "NOPE"}, "rcode 'NOPE' is not known; use one of NOERROR"),
        ({"nameserver": "ns1.example.com"}, "must be an IP address with an optional port"),
        ({"nameserver": "127.0.0.1:dns"}, "has a port that is not a number"),
        ({"nameserver": "127.0.0.1:0"}, "port 0 is not a port number"),
        ({"timeout_s": -1}, "timeout -1 must be a positive number"),
    ],
)
def test_it_rejects_bad_config_with_the_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="dns check: ") as info:
        DnsConfig("example.test", **kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_it_rejects_a_name_that_is_not_a_domain_name() -> None:
    with pytest.raises(ValueError, match="is not a domain name"):
        DnsConfig("a" * 64 + ".example.test")
