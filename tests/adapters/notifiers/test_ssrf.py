"""The SSRF guard: internal destinations are refused unless the allow-list opens them."""

from __future__ import annotations

import ipaddress

import pytest

from tenantwatch.adapters.notifiers import Notifiers, base
from tenantwatch.adapters.ssrf import SsrfError, SsrfPolicy, is_internal, resolve_checked
from tenantwatch.alertmanager.notify_payloads import build_webhook
from tests.adapters.notifiers.conftest import Receiver
from tests.alertmanager.test_notify_payloads import alert, go_render, group


def _to(url: str):  # type: ignore[no-untyped-def]
    data = group(alert())
    return build_webhook({"url": url}, data, go_render(data), idempotency_key="k")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "ff02::1",
    ],
)
def test_internal_addresses(address: str) -> None:
    assert is_internal(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert not is_internal(ipaddress.ip_address(address))


def test_the_allow_list_takes_cidrs_addresses_and_names() -> None:
    policy = SsrfPolicy.from_allow_list(
        ["10.0.0.0/8", "127.0.0.1", "relay.internal", ".corp.example"]
    )
    policy.check_address("x", "10.1.2.3")
    policy.check_address("x", "127.0.0.1")
    policy.check_address("relay.internal", "192.168.0.9")
    policy.check_address("mail.corp.example", "192.168.0.9")
    with pytest.raises(SsrfError, match="add it to allow_private"):
        policy.check_address("x", "127.0.0.2")
    with pytest.raises(SsrfError, match=r"other.example \(192\.168\.0\.9\)"):
        policy.check_address("other.example", "192.168.0.9")


def test_a_bad_allow_list_entry_says_what_to_write() -> None:
    with pytest.raises(ValueError, match="neither a CIDR"):
        SsrfPolicy.from_allow_list(["10.0.0.0/99"])


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:9/x",
        "http://[::1]:9/x",
    ],
)
async def test_internal_urls_are_refused_without_a_connection(url: str) -> None:
    strict = Notifiers()
    try:
        result = await strict.deliver(_to(url), timeout=2)
    finally:
        await strict.close()
    assert (result.ok, result.retryable, result.status_code) == (False, False, None)
    assert "internal address" in (result.error or "")


async def test_loopback_is_refused_unless_allowed(receiver: Receiver) -> None:
    result = await base.deliver(_to(receiver.url), timeout=2)
    await base.close()
    assert not result.ok and not result.retryable
    assert receiver.requests == []
    allowed = Notifiers(allow_private=["127.0.0.0/8"])
    try:
        assert (await allowed.deliver(_to(receiver.url), timeout=2)).ok
    finally:
        await allowed.close()
    assert len(receiver.requests) == 1


async def test_a_name_resolving_to_loopback_is_refused(receiver: Receiver) -> None:
    url = f"http://localhost:{receiver.port}/"
    strict = Notifiers()
    try:
        result = await strict.deliver(_to(url), timeout=2)
    finally:
        await strict.close()
    assert not result.ok and not result.retryable
    assert "localhost" in (result.error or "") and "internal address" in (result.error or "")
    by_name = Notifiers(allow_private=["localhost", "::1"])
    try:
        assert (await by_name.deliver(_to(url), timeout=2)).ok
    finally:
        await by_name.close()
    assert len(receiver.requests) == 1


async def test_resolve_checked_keeps_only_allowed_addresses() -> None:
    policy = SsrfPolicy.from_allow_list(["127.0.0.1"])
    assert {a for _, a in await resolve_checked("localhost", 25, policy)} == {"127.0.0.1"}
    with pytest.raises(SsrfError):
        await resolve_checked("localhost", 25, SsrfPolicy())
