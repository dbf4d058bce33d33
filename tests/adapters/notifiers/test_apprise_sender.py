"""Apprise URLs: a json:// URL to a loopback receiver gets the title and body."""

from __future__ import annotations

import json
import sys

import pytest

from tenantwatch.adapters.notifiers import Notifiers
from tenantwatch.alertmanager.notify_payloads import build_apprise
from tests.adapters.notifiers.conftest import Receiver
from tests.alertmanager.test_notify_payloads import alert, go_render, group


def _request(*urls: str):  # type: ignore[no-untyped-def]
    data = group(alert())
    settings = {
        "urls": list(urls),
        "title": "T {{ .Status }}",
        "body": "{{ .CommonAnnotations.summary }}",
    }
    return build_apprise(settings, data, go_render(data), idempotency_key="k")


async def test_a_json_url_receives_title_and_body(receiver: Receiver, notifiers: Notifiers) -> None:
    result = await notifiers.deliver(
        _request(f"json://127.0.0.1:{receiver.port}/alerts"), timeout=10
    )
    assert result.ok, result.error
    [got] = receiver.requests
    assert (got.method, got.path) == ("POST", "/alerts")
    body = json.loads(got.body)
    assert (body["title"], body["message"], body["type"]) == (
        "T firing",
        "HighLatency on acme",
        "info",
    )


async def test_a_failing_destination_is_retryable(receiver: Receiver, notifiers: Notifiers) -> None:
    receiver.status = 500
    result = await notifiers.deliver(_request(f"json://127.0.0.1:{receiver.port}/"), timeout=10)
    assert (result.ok, result.retryable) == (False, True)
    assert result.error == f"json://127.0.0.1:{receiver.port}: apprise reported a failed delivery"


async def test_an_invalid_url_is_not_retryable(notifiers: Notifiers) -> None:
    result = await notifiers.deliver(_request("nosuchscheme://x"), timeout=5)
    assert (result.ok, result.retryable) == (False, False)
    assert "not a valid Apprise URL" in (result.error or "")


async def test_internal_hosts_are_refused(receiver: Receiver) -> None:
    strict = Notifiers()
    for url in (
        f"json://127.0.0.1:{receiver.port}/",
        "json://169.254.169.254/",
        "jsons://10.0.0.1/",
    ):
        result = await strict.deliver(_request(url), timeout=5)
        assert (result.ok, result.retryable) == (False, False), url
        assert "internal address" in (result.error or "")
    assert receiver.requests == []


async def test_without_apprise_the_receiver_fails_naming_the_extra(
    notifiers: Notifiers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)
    result = await notifiers.deliver(_request("json://127.0.0.1:9/"), timeout=5)
    assert (result.ok, result.retryable) == (False, False)
    assert result.error == (
        "An apprise receiver needs the apprise package, which is not installed; "
        "install it with: pip install 'tenantwatch[apprise]'"
    )
