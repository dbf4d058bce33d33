"""Redirects followed as Alertmanager's Go client follows them, with the SSRF guard on every hop."""

from __future__ import annotations

import json
import time

import pytest

from tenantwatch.adapters.notifiers import Notifiers
from tenantwatch.adapters.notifiers.redirects import Hop, RedirectError, next_hop
from tenantwatch.alertmanager.notify_payloads import OutboundRequest, build_request
from tests.adapters.notifiers.conftest import Receiver
from tests.alertmanager.test_notify_payloads import alert, go_render, group
from tests.receivers import running_receiver


def _webhook(url: str, **http_config: object) -> OutboundRequest:
    data = group(alert())
    settings = {"url": url, "http_config": {"bearer_token": "tok", **http_config}}
    return build_request("webhook", settings, data, go_render(data), idempotency_key="idem-7")


def _chain(receiver: Receiver, *steps: tuple[str, int, str]) -> None:
    """Answer each path with a redirect status to the next location."""
    for path, status, location in steps:
        receiver.routes[path] = (status, {"Location": location})


def _seen(receiver: Receiver) -> list[tuple[str, str, bool]]:
    return [(r.method, r.path, bool(r.body)) for r in receiver.requests]


@pytest.mark.parametrize("status", [307, 308])
async def test_307_and_308_repeat_the_method_body_and_headers(
    status: int, receiver: Receiver, notifiers: Notifiers
) -> None:
    _chain(receiver, ("/a", status, "/b"), ("/b", status, f"{receiver.url}/c"), ("/c", status, "d"))
    request = _webhook(f"{receiver.url}/a")
    result = await notifiers.deliver(request, timeout=5)
    assert (result.ok, result.status_code, result.error) == (True, 200, None)
    assert [(r.method, r.path) for r in receiver.requests] == [
        ("POST", "/a"),
        ("POST", "/b"),
        ("POST", "/c"),
        ("POST", "/d"),
    ]
    assert {r.body for r in receiver.requests} == {request.body}
    for got in receiver.requests:
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["Authorization"] == "Bearer tok"  # the same host all along
        assert got.headers["X-Tenantwatch-Idempotency-Key"] == "idem-7"
        assert "Referer" not in got.headers  # the previous URL may hold a token


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_301_302_and_303_turn_a_post_into_a_get_without_body_as_go_does(
    status: int, receiver: Receiver, notifiers: Notifiers
) -> None:
    _chain(receiver, ("/hook", status, "/moved"), ("/moved", 307, "/final"))
    result = await notifiers.deliver(_webhook(f"{receiver.url}/hook"), timeout=5)
    assert result.ok and result.status_code == 200
    assert _seen(receiver) == [
        ("POST", "/hook", True),
        ("GET", "/moved", False),
        ("GET", "/final", True),  # 307 keeps the method (GET) and sends the first body
    ]


async def test_ten_redirects_are_followed_and_the_eleventh_fails(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    _chain(receiver, *[(f"/{i}", 307, f"/{i + 1}") for i in range(10)])
    assert (await notifiers.deliver(_webhook(f"{receiver.url}/0"), timeout=5)).ok
    assert [r.path for r in receiver.requests] == [f"/{i}" for i in range(11)]

    receiver.requests.clear()
    _chain(receiver, ("/10", 307, "/11"))
    result = await notifiers.deliver(_webhook(f"{receiver.url}/0"), timeout=5)
    assert (result.ok, result.retryable, result.status_code) == (False, False, None)
    assert result.error == (
        f"{receiver.url}/0: stopped after 10 redirects; {receiver.url}/10 redirects again"
    )
    assert len(receiver.requests) == 11  # /11 is never asked for


async def test_with_follow_redirects_false_the_redirect_is_the_answer(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    _chain(receiver, ("/hook", 307, "/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX"))
    request = _webhook(f"{receiver.url}/hook", follow_redirects=False)
    assert request.follow_redirects is False
    result = await notifiers.deliver(request, timeout=5)
    assert (result.ok, result.retryable, result.status_code) == (False, False, 307)
    assert result.error == (
        f"{receiver.url}/hook: HTTP 307 redirect to {receiver.url}/services/*** not followed "
        "(http_config.follow_redirects is false); use the final URL or allow redirects"
    )
    assert _seen(receiver) == [("POST", "/hook", True)]


@pytest.mark.parametrize(
    "location", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1:8080/hook"]
)
async def test_a_redirect_to_an_internal_address_is_refused_before_connecting(
    location: str, receiver: Receiver, notifiers: Notifiers
) -> None:
    _chain(receiver, ("/hook", 307, "/next"), ("/next", 302, location))
    started = time.perf_counter()
    result = await notifiers.deliver(_webhook(f"{receiver.url}/hook"), timeout=5)
    assert time.perf_counter() - started < 1.0  # refused, not timing out on a connect
    host = location.split("/")[2].split(":")[0]
    assert (result.ok, result.retryable, result.status_code) == (False, False, None)
    assert result.error is not None
    assert result.error.startswith(f"{receiver.url}/hook: redirect 2 to http://")
    assert f"refused to connect to {host}: it is an internal address" in result.error
    assert [r.path for r in receiver.requests] == ["/hook", "/next"]


async def test_every_hop_is_checked_against_the_allow_list(receiver: Receiver) -> None:
    """Only the name `localhost` is allowed: the first hop goes there, the redirect to the
    same server as 127.0.0.1 is refused, and no request reaches it."""
    notifiers = Notifiers(allow_private=["localhost"])
    try:
        async with running_receiver() as other:
            _chain(receiver, ("/hook", 307, f"http://localhost:{receiver.port}/again"))
            _chain(receiver, ("/again", 308, f"{other.url}/hook"))
            result = await notifiers.deliver(
                _webhook(f"http://localhost:{receiver.port}/hook"), timeout=5
            )
            assert (result.ok, result.retryable) == (False, False)
            assert "refused to connect to 127.0.0.1: it is an internal address" in (
                result.error or ""
            )
            assert [r.path for r in receiver.requests] == ["/hook", "/again"]
            assert other.requests == []
            # the same target straight away is refused too: the check is the guard's own
            direct = await notifiers.deliver(_webhook(f"{other.url}/hook"), timeout=5)
            assert "refused to connect to 127.0.0.1" in (direct.error or "")
            assert other.requests == []
    finally:
        await notifiers.close()


async def test_credentials_stay_behind_when_a_redirect_leaves_the_host(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    async with running_receiver() as other:
        other.routes["/back"] = (307, {"Location": f"{receiver.url}/final"})
        _chain(receiver, ("/hook", 307, f"http://localhost:{other.port}/back"))
        result = await notifiers.deliver(_webhook(f"{receiver.url}/hook"), timeout=5)
        assert result.ok
        [first, final] = receiver.requests
        [away] = other.requests
        assert first.headers["Authorization"] == "Bearer tok"
        assert "Authorization" not in away.headers
        assert "Authorization" not in final.headers  # dropped for good, as Go 1.24 does
        assert final.body == first.body and final.headers["X-Tenantwatch-Idempotency-Key"]


async def test_a_redirect_without_location_or_one_go_does_not_follow_is_the_answer(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    receiver.routes["/hook"] = (302, {})
    receiver.routes["/choices"] = (300, {"Location": "/elsewhere"})
    result = await notifiers.deliver(_webhook(f"{receiver.url}/hook"), timeout=5)
    assert (result.ok, result.retryable, result.status_code) == (False, False, 302)
    assert result.error == f"{receiver.url}/hook: HTTP 302: ok"
    result = await notifiers.deliver(_webhook(f"{receiver.url}/choices"), timeout=5)
    assert (result.status_code, result.retryable) == (300, False)
    assert [r.path for r in receiver.requests] == ["/hook", "/choices"]


async def test_a_failure_after_redirects_keeps_its_retry_advice(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    _chain(receiver, ("/hook", 308, "/busy"))
    receiver.routes["/busy"] = (503, {"Retry-After": "7"})
    result = await notifiers.deliver(_webhook(f"{receiver.url}/hook"), timeout=5)
    assert (result.ok, result.retryable, result.status_code) == (False, True, 503)
    assert result.retry_after_s == 7.0
    assert result.error == f"{receiver.url}/hook: HTTP 503 (after 1 redirect): ok"


async def test_a_location_that_is_not_http_is_refused(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    _chain(receiver, ("/hook", 302, "file:///etc/passwd"))
    result = await notifiers.deliver(_webhook(f"{receiver.url}/hook"), timeout=5)
    assert (result.ok, result.retryable) == (False, False)
    assert result.error == (
        f"{receiver.url}/hook: redirect to file:///etc/***: only http:// and https:// URLs are followed"
    )


async def test_one_timeout_covers_the_whole_chain(receiver: Receiver, notifiers: Notifiers) -> None:
    _chain(receiver, *[(f"/{i}", 307, f"/{i + 1}") for i in range(5)])
    receiver.delay = 0.15
    started = time.perf_counter()
    result = await notifiers.deliver(_webhook(f"{receiver.url}/0"), timeout=0.4)
    assert (result.ok, result.retryable) == (False, True)
    assert "no response within 0.4s" in (result.error or "")
    assert time.perf_counter() - started < 1.0
    assert len(receiver.requests) <= 3


def test_next_hop_follows_go_s_rules() -> None:
    first = hop = Hop("POST", "https://hooks.example.com/a?x=1", (("Authorization", "t"),), b"{}")
    assert next_hop(hop, 200, "/b", first) is None
    assert next_hop(hop, 304, "/b", first) is None
    assert next_hop(hop, 307, None, first) is None
    assert next_hop(hop, 307, "../b", first) == Hop(
        "POST", "https://hooks.example.com/b", (("Authorization", "t"),), b"{}"
    )
    assert next_hop(hop, 303, "//eu.hooks.example.com/c", first) == Hop(
        "GET", "https://eu.hooks.example.com/c", (("Authorization", "t"),), None
    )
    head = Hop("HEAD", first.url, (), None)
    assert next_hop(head, 301, "/d", first) == Hop("HEAD", "https://hooks.example.com/d", (), None)
    got = Hop("GET", "https://hooks.example.com/b", (), None)  # after a 302
    assert next_hop(got, 308, "/f", first) == Hop("GET", "https://hooks.example.com/f", (), b"{}")
    away = next_hop(hop, 308, "http://example.com/e", first)
    assert away == Hop("POST", "http://example.com/e", (), b"{}")  # a parent is not the host
    with pytest.raises(RedirectError, match="not a URL"):
        next_hop(hop, 302, "http://host:port/", first)


def test_follow_redirects_comes_from_http_config_and_survives_the_outbox() -> None:
    on = _webhook("http://hooks.example.com/x")
    off = _webhook("http://hooks.example.com/x", follow_redirects=False)
    assert (on.follow_redirects, off.follow_redirects) == (True, False)
    stored = json.loads(json.dumps(off.to_json()))
    assert OutboundRequest.from_json(stored) == off
    older = {k: v for k, v in on.to_json().items() if k != "follow_redirects"}
    assert OutboundRequest.from_json(older).follow_redirects is True
    with pytest.raises(ValueError, match="follow_redirects must be true or false"):
        _webhook("http://hooks.example.com/x", follow_redirects="no")


async def test_an_error_that_quotes_the_url_shows_it_redacted(notifiers: Notifiers) -> None:
    secret = "http://:80/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX"
    request = OutboundRequest("slack", "POST", secret, (), b"{}", None, None, "slack")
    result = await notifiers.deliver(request, timeout=5)
    assert result.ok is False and result.error is not None
    assert "XXXXXXXX" not in result.error and "http://:80/services/***" in result.error
